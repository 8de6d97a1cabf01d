import { WhatsAppError } from "../errors.js";

/**
 * A subscription handshake (`GET ?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`) was refused. `status`
 * is the HTTP status to answer with: 403 for a wrong verify token, 400 for a missing parameter or a mode other
 * than `subscribe`. The message never contains the tokens.
 */
export class WebhookVerificationError extends WhatsAppError {
  static override name = "WebhookVerificationError";
  readonly status: 400 | 403;
  constructor(message: string, status: 400 | 403) {
    super(message);
    this.status = status;
  }
}

/**
 * A delivery's body is not a webhook payload: not JSON, empty, or not matching the schemas of openapi.yaml.
 *
 * `path` names the first offending place readably (`entry[0].changes[0].value.metadata`, `""` for the whole
 * body); `pointer` is the same place as a JSON pointer (`/entry/0/changes/0/value/metadata`). For a missing
 * property both name the property that is missing. A key that is the payload's own rather than a name from the
 * schema (a map key) is shown as `*`. The message names the path and the rule that failed, never a value from
 * the payload (so no SDP ends up in a log).
 */
export class WebhookPayloadError extends WhatsAppError {
  static override name = "WebhookPayloadError";
  readonly status = 400;
  readonly path: string;
  readonly pointer: string;
  constructor(message: string, location: { path: string; pointer: string } = { path: "", pointer: "" }) {
    super(message);
    this.path = location.path;
    this.pointer = location.pointer;
  }
}
