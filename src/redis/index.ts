// whatsapp-calling/redis: a webhook dedupe store shared by several processes through Redis. Its own entry point,
// so that nobody else pays for it; neither Redis client is a dependency of the package (duck-typed below).
import { WhatsAppValidationError } from "../errors.js";
import { DEFAULT_DEDUPE_TTL_MS, WebhookDedupeStoreError, type DedupeClaim, type WebhookDedupeStore } from "../webhooks/dedupe.js";

/** A node-redis client (v4, v5): `createClient()`, connected. */
export interface NodeRedisLikeClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/** An ioredis client: `new Redis()`. */
export interface IoRedisLikeClient {
  call(command: string, ...args: string[]): Promise<unknown>;
}

export type RedisLikeClient = NodeRedisLikeClient | IoRedisLikeClient;

export interface RedisDedupeStoreOptions {
  /** Prefix of every key the store writes. Default `"whatsapp-calling:dedupe:"`. */
  prefix?: string | undefined;
  /** How long a handled event is remembered. Default 7 days, the longest Meta keeps re-delivering. */
  ttlMs?: number | undefined;
  /**
   * A command that has not answered after this long fails with `WebhookDedupeStoreError` (so the delivery is
   * answered 500 and Meta delivers it again) instead of waiting in the client's offline queue while Redis is
   * away. Default 2,000 ms.
   */
  commandTimeoutMs?: number | undefined;
}

export const DEFAULT_REDIS_DEDUPE_PREFIX = "whatsapp-calling:dedupe:";
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 2_000;

// One round trip, atomic on the server: a key is `done`, or holds the token of the attempt that claimed it (with
// the claim's expiry), or is free. Only the first caller of a free key gets "claimed".
const CLAIM = `local v = redis.call('GET', KEYS[1])
if v == 'done' then return 'done' end
if v then return 'busy' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'claimed'`;
// Only the attempt that holds the claim gives it up: a claim that lapsed and was taken by another is left alone.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * A `WebhookDedupeStore` in Redis, for several processes (or hosts) receiving the same webhooks: the claim is a
 * small Lua script (GET, then SET PX of a per-attempt token when free), so exactly one process dispatches each
 * event; `markDone` is `SET <key> done PX <ttlMs>`; `release` deletes the claim only if it is still this
 * attempt's. Works with node-redis (`createClient()`, connected) and ioredis (`new Redis()`).
 *
 * When Redis is unreachable or does not answer within `commandTimeoutMs`, each step throws
 * `WebhookDedupeStoreError`; `createWebhookHandler` then answers 500, so Meta delivers again, never 200. A claim
 * that timed out and that Redis runs later is released when its answer arrives, so the re-delivery is handled.
 */
export function createRedisDedupeStore(client: RedisLikeClient, options: RedisDedupeStoreOptions = {}): WebhookDedupeStore {
  const prefix = options.prefix ?? DEFAULT_REDIS_DEDUPE_PREFIX;
  const ttlMs = options.ttlMs ?? DEFAULT_DEDUPE_TTL_MS;
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
  if (typeof prefix !== "string") throw new WhatsAppValidationError("prefix must be a string", { path: "prefix" });
  if (!(Number.isInteger(ttlMs) && ttlMs > 0)) throw new WhatsAppValidationError("ttlMs must be a positive integer", { path: "ttlMs" });
  if (!(commandTimeoutMs > 0)) throw new WhatsAppValidationError("commandTimeoutMs must be a positive number", { path: "commandTimeoutMs" });
  const send = commandOf(client);
  // The token of each claim this store holds, so that release removes only its own.
  const tokens = new Map<string, string>();

  /** `late` is told the answer of a command that timed out but that Redis still ran (it was queued, not lost). */
  const run = async (operation: "claim" | "markDone" | "release", args: string[], late?: (answer: unknown) => void): Promise<unknown> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const sent = send(args);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${commandTimeoutMs} ms`)), commandTimeoutMs);
    });
    try {
      return await Promise.race([sent, timeout]);
    } catch (cause) {
      // After a timeout, `late` gets the answer if one comes; a command that failed outright has none to give.
      if (late) sent.then(late, () => {});
      throw new WebhookDedupeStoreError(operation, cause);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async claim(key, claimTtlMs) {
      const token = crypto.randomUUID();
      // A claim that timed out was answered 500, so Meta delivers again; if Redis still ran it, that claim is
      // nobody's and would make the re-delivery wait out claimTtlMs (409): it is given up as soon as it lands.
      const giveUp = (answer: unknown) => {
        if (String(answer) === "claimed") run("release", ["EVAL", RELEASE, "1", prefix + key, token]).catch(() => {});
      };
      const answer = String(await run("claim", ["EVAL", CLAIM, "1", prefix + key, token, String(Math.max(1, Math.ceil(claimTtlMs)))], giveUp));
      if (answer !== "claimed" && answer !== "done" && answer !== "busy") {
        throw new WebhookDedupeStoreError("claim", new Error("unexpected answer from the claim script"));
      }
      if (answer === "claimed") tokens.set(key, token);
      return answer as DedupeClaim;
    },
    async markDone(key) {
      tokens.delete(key);
      await run("markDone", ["SET", prefix + key, "done", "PX", String(ttlMs)]);
    },
    async release(key) {
      const token = tokens.get(key);
      tokens.delete(key);
      if (token !== undefined) await run("release", ["EVAL", RELEASE, "1", prefix + key, token]);
    },
  };
}

/** One Redis command as an argument list, whichever client it is. */
function commandOf(client: RedisLikeClient): (args: string[]) => Promise<unknown> {
  // ioredis also has a sendCommand, taking a Command object: its `call` is checked first.
  if (typeof (client as IoRedisLikeClient).call === "function") {
    const io = client as IoRedisLikeClient;
    return ([command, ...args]) => io.call(command!, ...args);
  }
  if (typeof (client as NodeRedisLikeClient).sendCommand === "function") {
    const nodeRedis = client as NodeRedisLikeClient;
    return (args) => nodeRedis.sendCommand(args);
  }
  throw new WhatsAppValidationError("client must be a node-redis client (sendCommand) or an ioredis client (call)", { path: "client" });
}
