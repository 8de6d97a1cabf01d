// The request validators the client checks bodies with, imported in this one place, and how a failed check reads.
import { WhatsAppValidationError } from "../errors.js";
import {
  validateAcceptCallRequest,
  validateCallPermissionRequestMessage,
  validateConnectCallRequest,
  validatePreAcceptCallRequest,
  validateRejectCallRequest,
  validateTerminateCallRequest,
  validateUpdateSettingsRequest,
  validateVoiceCallButtonMessage,
  type SchemaValidator,
} from "../../generated/request-validators.js";

/** The validator of each action's body, by the action's name in logs and errors. */
export const REQUEST_VALIDATORS: Readonly<Record<string, SchemaValidator>> = {
  connect: validateConnectCallRequest,
  pre_accept: validatePreAcceptCallRequest,
  accept: validateAcceptCallRequest,
  reject: validateRejectCallRequest,
  terminate: validateTerminateCallRequest,
  updateSettings: validateUpdateSettingsRequest,
  sendCallPermissionRequest: validateCallPermissionRequestMessage,
  sendCallButton: validateVoiceCallButtonMessage,
};

/** Refuses a body its action's validator rejects, naming the field and the rule, never the value (an SDP carries ICE passwords). */
export function checkBody(action: string, body: unknown): void {
  const validator = REQUEST_VALIDATORS[action];
  if (!validator || validator(body)) return;
  const first = validator.errors?.[0];
  const path = first?.instancePath ?? "";
  const field = path === "" ? "the request" : path.slice(1).replaceAll("/", ".");
  // The one `not` rule of the request schemas is AnswerSdp's: an offer where an answer belongs.
  const rule =
    first?.keyword === "not" && path === "/session/sdp"
      ? "is an SDP offer (a=setup:actpass): send the SDP answer your WebRTC stack created for the caller's offer"
      : (first?.message ?? "is not valid");
  throw new WhatsAppValidationError(`Invalid ${action} request: ${field} ${rule}`, { path, action });
}
