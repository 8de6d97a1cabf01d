// The bench's inputs: a connect delivery as Meta sends it (the shared fixture, minified: 1.8 KB) and a batch of
// 100 such calls in one delivery (~170 KB), each signed with node:crypto. A pool holds many copies that differ
// only in their call ids, so that a handler with dedupe on handles every delivery of a round as new.
import { createHmac } from "node:crypto";
import { fixtureJson } from "../test/helpers/fixtures.js";

export const APP_SECRET = "bench-app-secret";
export const VERIFY_TOKEN = "bench-verify-token";
export const PHONE_NUMBER_ID = "117823401562387";
export const CALL_ID = "wacid.HBgLMTU1NTAxMjM0NTYVAgASGCA1RUU0QkUzQTc4QUZDQzVGN0M4Q0I5NzAzQ0Q3NTVEOBwYCzE1NTUwMTk5MDAxFQIAAA==";
export const SIGNATURE_HEADER = "x-hub-signature-256";

export interface Delivery {
  /** The exact bytes Meta would POST. */
  bytes: Uint8Array<ArrayBuffer>;
  /** The same bytes as a string (what string-based peers take). */
  text: string;
  /** `sha256=<hex>`, the X-Hub-Signature-256 header. */
  signature: string;
}

const connectFixture = fixtureJson("webhooks/calls.connect.user-initiated.json");
const connectChange = connectFixture.entry[0].changes[0];

function delivery(changes: unknown[]): Delivery {
  const text = JSON.stringify({ object: connectFixture.object, entry: [{ id: connectFixture.entry[0].id, changes }] });
  const bytes = new TextEncoder().encode(text);
  return { bytes, text, signature: `sha256=${createHmac("sha256", APP_SECRET).update(bytes).digest("hex")}` };
}

function change(id: string) {
  const copy = structuredClone(connectChange);
  copy.value.calls[0].id = id;
  return copy;
}

/** `count` connect deliveries of one call each, with distinct call ids (`tag` keeps pools apart). */
export function connectPool(count: number, tag = "c"): Delivery[] {
  return Array.from({ length: count }, (_, index) => delivery([change(`wacid.bench-${tag}-${index}`)]));
}

/** `count` deliveries of a batch of `calls` connect calls each, all ids distinct. */
export function batchPool(count: number, calls = 100, tag = "b"): Delivery[] {
  return Array.from({ length: count }, (_, index) =>
    delivery(Array.from({ length: calls }, (_, call) => change(`wacid.bench-${tag}-${index}-${call}`))),
  );
}

/** The fixture itself as one minified delivery (the size quoted in the figures). */
export const connectDelivery = delivery([connectChange]);

export function hexToBytes(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length >>> 1);
  for (let index = 0; index < bytes.length; index += 1) bytes[index] = Number.parseInt(hex.substr(index * 2, 2), 16);
  return bytes;
}
