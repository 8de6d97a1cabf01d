// whatsapp-calling/testing: helpers for your own tests. The signing helper is web-standard and light; the
// sandbox (node:http, and werift for media) is loaded only when startSandbox is called.
import type { RawBody } from "../webhooks/bytes.js";
import { signatureHeaderFor } from "../webhooks/signature.js";
import type { Sandbox, SandboxOptions } from "./sandbox/index.js";

/** One readable line for a sandbox event (what the CLI and `npm start` print). */
export { describeEvent as describeSandboxEvent } from "./sandbox/events.js";
export { SandboxMediaUnavailableError, MEDIA_PACKAGE, MEDIA_PACKAGE_VERSION } from "./sandbox/errors.js";

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

/**
 * Starts a local WhatsApp Calling sandbox on 127.0.0.1: the Graph endpoints a bot calls (`/calls`,
 * `/call_permissions`, `/settings`, `/messages`), signed webhooks to `webhookUrl`, and a simulated user who
 * calls, answers, grants permission and hangs up. With the optional peer dependency `werift` installed, the
 * user is a real WebRTC peer that behaves like Meta's side (ICE-lite, DTLS server, Opus). Node only.
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const sandbox = await import("./sandbox/index.js");
  return sandbox.startSandbox(options);
}

