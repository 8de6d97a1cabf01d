// What whatsapp-calling/testing offers on every runtime (web-standard): the signing helper and the sandbox's
// names. index.ts adds startSandbox (Node); edge.ts, resolved by workers and browsers, a startSandbox that says so.
import type { RawBody } from "../webhooks/bytes.js";
import { signatureHeaderFor } from "../webhooks/signature.js";

/** One readable line for a sandbox event (what the CLI and `npm start` print). */
export { describeEvent as describeSandboxEvent } from "./sandbox/events.js";
export { SandboxClosedError, SandboxMediaUnavailableError, SandboxTimeoutError, MEDIA_PACKAGE, MEDIA_PACKAGE_VERSION } from "./sandbox/errors.js";

export type {
  CallDirection,
  CallEnd,
  CallState,
  Delivery,
  DeliveryAttempt,
  InboundCallOptions,
  MediaStats,
  Sandbox,
  SandboxCall,
  SandboxEvent,
  SandboxOptions,
  SandboxUser,
} from "./sandbox/index.js";

/**
 * The `X-Hub-Signature-256` header Meta would send with this body: `sha256=<lowercase hex HMAC-SHA256>` of the
 * exact bytes (a string is UTF-8 encoded), keyed with the app secret. Use it to post signed deliveries to your
 * own endpoint in tests. Made by the same code that `verifySignature` checks with.
 */
export function signWebhookPayload(rawBody: RawBody, appSecret: string): Promise<string> {
  return signatureHeaderFor(rawBody, appSecret);
}
