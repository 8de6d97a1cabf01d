import { WhatsAppValidationError } from "../errors.js";
import type { WebhookEvent } from "./parse.js";

/**
 * Remembers which events were handled, so that a delivery Meta sends again is not dispatched twice. Any object
 * with these two methods works: the bounded in-memory store below (the default), a `Set<string>` (unbounded), or
 * a shared store such as Redis (`has` = EXISTS, `add` = SET with an expiry) when several processes receive the
 * webhooks. Keys come from `webhookDedupeKey`.
 */
export interface WebhookDedupeStore {
  has(key: string): boolean | Promise<boolean>;
  add(key: string): unknown;
}

export interface MemoryDedupeStoreOptions {
  /** Most keys kept; the oldest are forgotten first. Default 10,000. */
  maxKeys?: number;
  /** How long a key is kept. Default 7 days, the longest Meta keeps re-delivering. */
  ttlMs?: number;
  /** The clock, for tests. Default `Date.now`. */
  now?: () => number;
}

export const DEFAULT_DEDUPE_MAX_KEYS = 10_000;
export const DEFAULT_DEDUPE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** A bounded in-memory store: at most `maxKeys` keys, each kept for `ttlMs`, oldest forgotten first. Per process. */
export function createMemoryDedupeStore(options: MemoryDedupeStoreOptions = {}): WebhookDedupeStore & { readonly size: number } {
  const maxKeys = options.maxKeys ?? DEFAULT_DEDUPE_MAX_KEYS;
  const ttlMs = options.ttlMs ?? DEFAULT_DEDUPE_TTL_MS;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new WhatsAppValidationError("maxKeys must be a positive integer", { path: "maxKeys" });
  if (!(ttlMs > 0)) throw new WhatsAppValidationError("ttlMs must be a positive number", { path: "ttlMs" });
  // A Map iterates in insertion order, and a key is re-inserted on every add: its first key is the oldest.
  const expiries = new Map<string, number>();
  return {
    has(key) {
      const expiry = expiries.get(key);
      if (expiry === undefined) return false;
      if (expiry > now()) return true;
      expiries.delete(key);
      return false;
    },
    add(key) {
      expiries.delete(key);
      expiries.set(key, now() + ttlMs);
      for (const oldest of expiries.keys()) {
        if (expiries.size <= maxKeys) break;
        expiries.delete(oldest);
      }
    },
    get size() {
      return expiries.size;
    },
  };
}

/**
 * The identity of an event across deliveries: `<call id>:connect`, `<call id>:terminate`,
 * `<call id>:status:<STATUS>`, the message id (`wamid…`) of a permission reply. Account updates and unknown
 * events have none and are always dispatched.
 */
export function webhookDedupeKey(event: WebhookEvent): string | undefined {
  switch (event.type) {
    case "call.connect":
      return `${event.callId}:connect`;
    case "call.terminate":
      return `${event.callId}:terminate`;
    case "call.status":
      return `${event.callId}:status:${event.data.status}`;
    case "call_permission.reply":
      return event.data.id;
    default:
      return undefined;
  }
}
