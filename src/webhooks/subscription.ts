import { WhatsAppValidationError } from "../errors.js";
import { constantTimeEqual, utf8Bytes } from "./bytes.js";
import { WebhookVerificationError } from "./errors.js";

/** The query of Meta's handshake request: `URLSearchParams`, the request `URL`, or a plain record such as Express's `req.query`. */
export type SubscriptionParams = URLSearchParams | URL | Readonly<Record<string, unknown>>;

function readParam(params: SubscriptionParams, name: string): string | undefined {
  if (params instanceof URL) return params.searchParams.get(name) ?? undefined;
  if (params instanceof URLSearchParams) return params.get(name) ?? undefined;
  const value = params[name];
  const first = Array.isArray(value) ? (value as unknown[])[0] : value;
  return typeof first === "string" ? first : undefined;
}

/**
 * Answers Meta's subscription handshake. Returns `hub.challenge` verbatim (send it back as a `text/plain` 200);
 * throws `WebhookVerificationError` with status 400 when a parameter is missing or `hub.mode` is not
 * `subscribe`, and 403 when `hub.verify_token` is not `verifyToken` (compared in constant time).
 */
export function verifySubscription(params: SubscriptionParams, verifyToken: string): string {
  requireVerifyToken(verifyToken);
  const mode = readParam(params, "hub.mode");
  const challenge = readParam(params, "hub.challenge");
  const token = readParam(params, "hub.verify_token");
  if (!mode || !challenge || !token) {
    const missing = Object.entries({ "hub.mode": mode, "hub.challenge": challenge, "hub.verify_token": token })
      .filter(([, value]) => !value)
      .map(([name]) => name);
    throw new WebhookVerificationError(`Subscription request is missing ${missing.join(", ")}`, 400);
  }
  if (mode !== "subscribe") {
    throw new WebhookVerificationError('Subscription request has a hub.mode other than "subscribe"', 400);
  }
  if (!constantTimeEqual(utf8Bytes(token), utf8Bytes(verifyToken))) {
    throw new WebhookVerificationError("hub.verify_token does not match the configured verify token", 403);
  }
  return challenge;
}

/** An empty verify token is a configuration mistake, reported when the handler is created rather than per request. */
export function requireVerifyToken(verifyToken: unknown): asserts verifyToken is string {
  if (typeof verifyToken !== "string" || verifyToken === "") throw new WhatsAppValidationError("verifyToken must be a non-empty string", { path: "verifyToken" });
}
