// Integers a JSON number cannot hold exactly. Graph ids are 15 to 17 digits, and Meta writes some of them as
// JSON numbers (a voicemail's `announcement_media_id`, the ids of a webhook, which its tables type as Integer);
// one past 2^53 loses digits in JSON.parse, and an id with other digits is another id.

/**
 * JSON tokens that matter here: a string (skipped whole, escapes included; unrolled, so that a long string does
 * not grow the regex engine's stack) or a number.
 */
const TOKENS = /"[^"\\]*(?:\\.[^"\\]*)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

/**
 * `text` (valid JSON) with every integer past Number.MAX_SAFE_INTEGER written as a string of its digits, so
 * that JSON.parse keeps it exact; everything else, strings included, as it was.
 */
export function exactIntegers(text: string): string {
  return text.replace(TOKENS, (token) => (token.charCodeAt(0) === 34 || !/^-?\d{16,}$/.test(token) || Number.isSafeInteger(Number(token)) ? token : `"${token}"`));
}

/**
 * JSON.parse, with every integer past 2^53 given as the string of its digits: read again only when the value
 * holds one (only a text with 16 digits in a row can), for answers of a few hundred bytes.
 */
export function parseJsonExact(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return /\d{16}/.test(text) && holdsInexact(value) ? JSON.parse(exactIntegers(text)) : value;
}

/** An integer past 2^53 - 1: one JSON.parse may have given other digits than the text's. */
export function isInexactInteger(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value);
}

function holdsInexact(value: unknown): boolean {
  return isInexactInteger(value) || (value !== null && typeof value === "object" && Object.values(value).some(holdsInexact));
}
