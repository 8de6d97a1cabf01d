import { WhatsAppValidationError } from "../errors.js";
import { fromHex, rawBodyBytes, toHex, utf8Bytes, type RawBody } from "./bytes.js";

/** The header Meta signs every delivery with. */
export const SIGNATURE_HEADER = "x-hub-signature-256";

// Meta sends lowercase hex; anything else (uppercase included) is not a signature Meta made.
const SIGNATURE_PATTERN = /^sha256=([0-9a-f]{64})$/;

/**
 * HMAC-SHA256 of the exact bytes, keyed with the app secret: what `signWebhookPayload` signs with. It uses the
 * same bytes (`rawBodyBytes`) and the same cached key as `verifySignature`'s check, so a test signature is made
 * exactly the way it is checked.
 */
export async function hmacSha256(rawBody: RawBody, appSecret: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(appSecret), rawBodyBytes(rawBody)));
}

// Importing the key costs more than signing a small body, so each secret's key is imported once. The cache is
// bounded (secrets are a handful per process; a test that makes thousands must not grow it without end), and the
// keys are non-extractable CryptoKeys: the secret cannot be read back from them.
const MAX_CACHED_KEYS = 16;
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(appSecret: string): Promise<CryptoKey> {
  let key = keys.get(appSecret);
  if (key === undefined) {
    key = crypto.subtle.importKey("raw", utf8Bytes(appSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    if (keys.size >= MAX_CACHED_KEYS) keys.delete(keys.keys().next().value!);
    keys.set(appSecret, key);
    // A failed import is not kept, so that the next call tries again.
    key.catch(() => keys.delete(appSecret));
  }
  return key;
}

/** The `X-Hub-Signature-256` value Meta would send for these bytes: `sha256=<lowercase hex>`. */
export async function signatureHeaderFor(rawBody: RawBody, appSecret: string): Promise<string> {
  return `sha256=${toHex(await hmacSha256(rawBody, appSecret))}`;
}

/** The configured secrets as a list; an empty configuration is a programming error, not a bad delivery. */
export function appSecretList(secretOrSecrets: string | readonly string[]): readonly string[] {
  const secrets = typeof secretOrSecrets === "string" ? [secretOrSecrets] : secretOrSecrets;
  if (!Array.isArray(secrets) || secrets.length === 0 || secrets.some((secret) => typeof secret !== "string" || secret === "")) {
    throw new WhatsAppValidationError("appSecret must be a non-empty string or a non-empty list of non-empty strings", {
      path: "appSecret",
    });
  }
  return secrets;
}

/**
 * Whether `signature` is the HMAC-SHA256 of the bytes keyed with `secret`: WebCrypto's `verify` (asynchronous)
 * here, node:crypto's synchronous HMAC in src/node.ts.
 */
export type HmacCheck = (bytes: Uint8Array, signature: Uint8Array<ArrayBuffer>, secret: string) => boolean | Promise<boolean>;

/** WebCrypto compares in constant time itself, and answers without handing the digest back to JavaScript. */
export const webCryptoCheck: HmacCheck = (bytes, signature, secret) =>
  hmacKey(secret).then((key) => crypto.subtle.verify("HMAC", key, signature, rawBodyBytes(bytes)));

/**
 * Checks `X-Hub-Signature-256` against the exact raw bytes of the request body, before anything is parsed.
 *
 * - `rawBody`: the bytes as received (a string is UTF-8 encoded). Re-serialised JSON does not verify: Meta signs
 *   its own escaped form (`\u00e9`), which `JSON.stringify` does not reproduce.
 * - `header`: the header value, or `null`/`undefined` when absent.
 * - `secretOrSecrets`: the app secret, or several (current and previous) while a secret is being rotated.
 *
 * Resolves `true` when the signature matches one of the secrets; `false` for a missing, empty, malformed or wrong
 * header. It never rejects because of the header; it throws a `WhatsAppValidationError` only when no app secret is configured.
 */
export async function verifySignature(
  rawBody: RawBody,
  header: string | null | undefined,
  secretOrSecrets: string | readonly string[],
): Promise<boolean> {
  const secrets = appSecretList(secretOrSecrets);
  return signatureMatches(rawBodyBytes(rawBody), header, secrets, webCryptoCheck);
}

/**
 * The check behind `verifySignature` and the handler, with the HMAC check given: synchronous when the check is
 * (so the node listener's delivery costs no promise for it). Every secret is tried, so the time taken does not
 * tell which one matched.
 */
export function signatureMatches(bytes: Uint8Array, header: unknown, secrets: readonly string[], check: HmacCheck): boolean | Promise<boolean> {
  const match = typeof header === "string" ? SIGNATURE_PATTERN.exec(header) : null;
  if (!match) return false;
  const expected = fromHex(match[1]!);
  const results = secrets.map((secret) => check(bytes, expected, secret));
  if (results.length === 1) return results[0]!;
  const anyMatch = (list: readonly boolean[]) => list.includes(true);
  return results.some((result) => result instanceof Promise) ? Promise.all(results).then(anyMatch) : anyMatch(results as boolean[]);
}
