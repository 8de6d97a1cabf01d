import { WhatsAppValidationError } from "../errors.js";
/** A request body as it came off the wire: the bytes, or a string that is UTF-8 encoded to get them. */
export type RawBody = string | Uint8Array | ArrayBuffer;

const utf8Encoder = new TextEncoder();

// `instanceof` fails for a Uint8Array or ArrayBuffer made in another realm (a vm context, a worker's transfer, a
// test runner's sandbox); their tag does not. Such bytes are accepted like any others.
const tagOf = (value: unknown) => Object.prototype.toString.call(value);
const isUint8Array = (value: unknown): value is Uint8Array => value instanceof Uint8Array || tagOf(value) === "[object Uint8Array]";
const isArrayBuffer = (value: unknown): value is ArrayBuffer => value instanceof ArrayBuffer || tagOf(value) === "[object ArrayBuffer]";

export function isRawBody(value: unknown): value is RawBody {
  return typeof value === "string" || isUint8Array(value) || isArrayBuffer(value);
}

export function rawBodyBytes(body: RawBody): Uint8Array<ArrayBuffer> {
  if (typeof body === "string") return utf8Encoder.encode(body);
  if (body instanceof Uint8Array && body.buffer instanceof ArrayBuffer) return body as Uint8Array<ArrayBuffer>;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  // A view over a SharedArrayBuffer (WebCrypto takes ArrayBuffer-backed views only) or bytes of another realm:
  // copied into this realm's Uint8Array.
  if (isUint8Array(body)) return new Uint8Array(body);
  if (isArrayBuffer(body)) return new Uint8Array(new Uint8Array(body));
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
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  // From the character codes: no substring and no parseInt per byte (this runs on every delivery).
  const digit = (index: number) => {
    const code = hex.charCodeAt(index);
    return code < 97 ? code - 48 : code - 87;
  };
  for (let index = 0; index < bytes.length; index++) bytes[index] = (digit(index * 2) << 4) | digit(index * 2 + 1);
  return bytes;
}

/** The chunks of a body as one array; a single chunk (a body given whole) over an ArrayBuffer as it is, not copied. */
export function concatBytes(chunks: readonly Uint8Array[], length: number): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1 && chunks[0]!.buffer instanceof ArrayBuffer) return chunks[0] as Uint8Array<ArrayBuffer>;
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
