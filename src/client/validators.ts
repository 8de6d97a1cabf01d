// The request validators the client checks bodies with, imported in this one place, and how a failed check reads.
import { WhatsAppValidationError } from "../errors.js";
export {
  validateAcceptCallRequest,
  validateCallPermissionRequestMessage,
  validateConnectCallRequest,
  validatePreAcceptCallRequest,
  validateRejectCallRequest,
  validateTerminateCallRequest,
  validateUpdateSettingsRequest,
  validateVoiceCallButtonMessage,
} from "../../generated/validators.js";
import type { SchemaValidator } from "../../generated/validators.js";
export type { SchemaValidator };

/** Refuses a body its validator rejects, naming the field and the rule, never the value (an SDP carries ICE passwords). */
export function checkBody(validator: SchemaValidator, body: unknown, action: string): void {
  if (validator(body)) return;
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
