import { WhatsAppValidationError } from "../errors.js";
/** A request body as it came off the wire: the bytes, or a string that is UTF-8 encoded to get them. */
export type RawBody = string | Uint8Array | ArrayBuffer;

const utf8Encoder = new TextEncoder();

export function isRawBody(value: unknown): value is RawBody {
  return typeof value === "string" || value instanceof Uint8Array || value instanceof ArrayBuffer;
}

export function rawBodyBytes(body: RawBody): Uint8Array<ArrayBuffer> {
  if (typeof body === "string") return utf8Encoder.encode(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (body instanceof Uint8Array) {
    // WebCrypto takes ArrayBuffer-backed views only; a view over a SharedArrayBuffer is copied.
    return body.buffer instanceof ArrayBuffer ? (body as Uint8Array<ArrayBuffer>) : new Uint8Array(body);
  }
  throw new WhatsAppValidationError(
    "The raw body must be a string, a Uint8Array or an ArrayBuffer: the exact bytes Meta sent, not parsed JSON",
    { path: "rawBody" },
  );
}

export function utf8Bytes(text: string): Uint8Array<ArrayBuffer> {
  return utf8Encoder.encode(text);
}

/**
 * Compares without returning early on the first differing byte, so the time taken does not tell an attacker how
 * much of a guessed signature or token was right. Only the lengths can leak, and those are public anyway.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const length = Math.max(a.length, b.length);
  let difference = a.length ^ b.length;
  for (let index = 0; index < length; index++) difference |= (a[index] ?? 0) ^ (b[index] ?? 0);
  return difference === 0;
}

export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Expects an even number of lowercase hex digits (checked by the caller). */
export function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index++) bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  return bytes;
}
