import { WhatsAppError, WhatsAppValidationError } from "../errors.js";
import type { WebhookEvent } from "./parse.js";

/**
 * What a claim found: `"claimed"`, the caller now owns the event and must `markDone` or `release` it;
 * `"done"`, it was handled already; `"busy"`, another attempt (in this process or another) is handling it now.
 */
export type DedupeClaim = "claimed" | "done" | "busy";

/**
 * Remembers which events were handled, so that a delivery Meta sends again is not dispatched twice, and which
 * are being handled, so that two attempts at once (two processes, or a re-delivery that arrives while the first
 * is still running) do not both dispatch it. The claim must be atomic across everything that shares the store:
 * only one caller may get `"claimed"` for a key until it releases it or its `ttlMs` passes.
 *
 * Implementations: `createMemoryDedupeStore()` (the default, one process) and `createRedisDedupeStore()` from
 * `whatsapp-calling/redis` (several processes). Keys come from `webhookDedupeKey`.
 */
export interface WebhookDedupeStore {
  /** Claims `key` for `ttlMs` (after which a claim left by a crashed process lapses). */
  claim(key: string, ttlMs: number): DedupeClaim | Promise<DedupeClaim>;
  /** The handlers succeeded: `key` is done for the store's retention time. */
  markDone(key: string): unknown;
  /** The handlers failed: the claim is given up so that Meta's re-delivery is handled. */
  release(key: string): unknown;
}

/**
 * The store of 0.1.0: `has` and `add` only (a `Set<string>` is one). Still accepted; its claim is atomic within
 * one process only, so it is not for several processes.
 */
export interface LegacyWebhookDedupeStore {
  has(key: string): boolean | Promise<boolean>;
  add(key: string): unknown;
}

/**
 * A dedupe store failed (Redis went away, a command was refused): the event's outcome is unknown, so the
 * delivery is answered 500 and Meta delivers it again. `operation` says which step failed; the cause is kept.
 */
export class WebhookDedupeStoreError extends WhatsAppError {
  static override name = "WebhookDedupeStoreError";
  readonly operation: "claim" | "markDone" | "release";
  constructor(operation: "claim" | "markDone" | "release", cause: unknown) {
    super(`The webhook dedupe store failed to ${operation === "claim" ? "claim" : operation === "markDone" ? "mark as done" : "release"} an event`, { cause });
    this.operation = operation;
  }
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

export interface MemoryDedupeStore extends WebhookDedupeStore, LegacyWebhookDedupeStore {
  /** Keys marked done and kept (claims in progress not included). */
  readonly size: number;
}

/**
 * A bounded in-memory store: at most `maxKeys` done keys, each kept for `ttlMs`, oldest forgotten first, in
 * constant time per key. Per process. Also has the `has`/`add` of 0.1.0.
 */
export function createMemoryDedupeStore(options: MemoryDedupeStoreOptions = {}): MemoryDedupeStore {
  const maxKeys = options.maxKeys ?? DEFAULT_DEDUPE_MAX_KEYS;
  const ttlMs = options.ttlMs ?? DEFAULT_DEDUPE_TTL_MS;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new WhatsAppValidationError("maxKeys must be a positive integer", { path: "maxKeys" });
  if (!(ttlMs > 0)) throw new WhatsAppValidationError("ttlMs must be a positive number", { path: "ttlMs" });
  // A Map iterates in insertion order, and a key is re-inserted on every add: its first key is the oldest. One
  // iterator lives as long as the store: a Map iterator also visits keys added after it was made, and each
  // deleted slot is stepped over once, so eviction is O(1) amortised. (A fresh `keys()` on every add would walk
  // the slots of all deleted keys from the start: O(maxKeys) once full.)
  const done = new Map<string, number>();
  let oldest = done.keys();
  // Claims in progress: few (one per event being handled) and short-lived.
  const claims = new Map<string, number>();

  const isDone = (key: string, time: number) => {
    const expiry = done.get(key);
    if (expiry === undefined) return false;
    if (expiry > time) return true;
    done.delete(key);
    return false;
  };
  const add = (key: string) => {
    done.delete(key);
    done.set(key, now() + ttlMs);
    while (done.size > maxKeys) {
      const next = oldest.next();
      if (next.done) {
        // Only after the Map was emptied (all keys expired through `has`): start again.
        oldest = done.keys();
        continue;
      }
      done.delete(next.value);
    }
  };
  return {
    claim(key, claimTtlMs) {
      const time = now();
      if (isDone(key, time)) return "done";
      const claimed = claims.get(key);
      if (claimed !== undefined && claimed > time) return "busy";
      claims.set(key, time + claimTtlMs);
      return "claimed";
    },
    markDone(key) {
      claims.delete(key);
      add(key);
    },
    release(key) {
      claims.delete(key);
    },
    has(key) {
      return isDone(key, now());
    },
    add,
    get size() {
      return done.size;
    },
  };
}

/** A 0.1.0 store (`has`/`add`) as a claiming store; the claim is atomic within this process. */
export function claimingStore(store: WebhookDedupeStore | LegacyWebhookDedupeStore): WebhookDedupeStore {
  if ("claim" in store && typeof store.claim === "function") return store;
  const legacy = store as LegacyWebhookDedupeStore;
  const claimed = new Set<string>();
  return {
    async claim(key) {
      if (claimed.has(key)) return "busy";
      claimed.add(key);
      try {
        if (await legacy.has(key)) {
          claimed.delete(key);
          return "done";
        }
      } catch (error) {
        claimed.delete(key);
        throw error;
      }
      return "claimed";
    },
    async markDone(key) {
      try {
        await legacy.add(key);
      } finally {
        claimed.delete(key);
      }
    },
    release(key) {
      claimed.delete(key);
    },
  };
}

/**
 * The identity of an event across deliveries, prefixed with its kind so that keys of different kinds cannot
 * collide (a message id that happens to look like `<call id>:connect` is not a connect): `call.connect:<call id>`,
 * `call.terminate:<call id>`, `call.status:<STATUS>:<call id>`, `call.recording_available:<call id>`,
 * `call.transcription_available:<call id>`, `call.created:<call id>`, `call.voicemail:<call id>`,
 * `call_permission.reply:<message id>`. Account updates, unknown and invalid events have none and are always
 * dispatched. A `:` or `%` in a status is percent-encoded, so the status ends where the call id begins.
 */
export function webhookDedupeKey(event: WebhookEvent): string | undefined {
  switch (event.type) {
    case "call.connect":
    case "call.terminate":
    case "call.recording_available":
    case "call.transcription_available":
    case "call.created":
    case "call.voicemail":
      return `${event.type}:${event.callId}`;
    case "call.status":
      return `call.status:${escapeKeyPart(event.data.status)}:${event.callId}`;
    case "call_permission.reply":
      return `call_permission.reply:${event.data.id}`;
    default:
      return undefined;
  }
}

function escapeKeyPart(part: string): string {
  return part.includes(":") || part.includes("%") ? part.replaceAll("%", "%25").replaceAll(":", "%3A") : part;
}
