// The one place the sandbox takes the request validators generated from openapi.yaml (ajv standalone code), so
// that a move of the generated file changes one import.
export {
  validateAcceptCallRequest,
  validateCallPermissionRequestMessage,
  validateConnectCallRequest,
  validatePreAcceptCallRequest,
  validateRejectCallRequest,
  validateTerminateCallRequest,
  validateUpdateSettingsRequest,
  validateVoiceCallButtonMessage,
  type SchemaValidator,
} from "../../../generated/request-validators.js";
