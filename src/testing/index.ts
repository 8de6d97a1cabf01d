import type { RawBody } from "../webhooks/bytes.js";
import { signatureHeaderFor } from "../webhooks/signature.js";

/**
 * The `X-Hub-Signature-256` header Meta would send with this body: `sha256=<lowercase hex HMAC-SHA256>` of the
 * exact bytes (a string is UTF-8 encoded), keyed with the app secret. Use it to post signed deliveries to your
 * own endpoint in tests. Made by the same code that `verifySignature` checks with.
 */
export function signWebhookPayload(rawBody: RawBody, appSecret: string): Promise<string> {
  return signatureHeaderFor(rawBody, appSecret);
}
