import { WhatsAppValidationError } from "../errors.js";
import { createLog, type Logger } from "../logging.js";
import {
  claimingStore,
  createMemoryDedupeStore,
  webhookDedupeKey,
  WebhookDedupeStoreError,
  type DedupeClaim,
  type LegacyWebhookDedupeStore,
  type WebhookDedupeStore,
} from "./dedupe.js";
import { concatBytes } from "./bytes.js";
import { BODY_TOO_LARGE, WEBHOOK_CORE, type HmacCheck, type WebhookAnswer, type WebhookCore, type WebhookInput } from "./core.js";
import { WebhookPayloadError, WebhookVerificationError } from "./errors.js";
import { parseWebhook, WEBHOOK_EVENT_TYPES, type WebhookEvent, type WebhookEventOf, type WebhookEventType } from "./parse.js";
import { appSecretList, SIGNATURE_HEADER, signatureMatches, webCryptoCheck } from "./signature.js";
import { requireVerifyToken, verifySubscription } from "./subscription.js";

/**
 * Default body-size cap: Meta batches up to 1000 updates in one delivery, and a connect update with its SDP is
 * a few KB, so 4 MiB leaves room for a full batch while a larger body is refused before it is buffered.
 */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * How long a re-delivery waits for an earlier attempt at the same event (in this process) to finish. Meta gives
 * up on an answer after about 20 seconds, so the wait stays well inside that.
 */
export const DEFAULT_IN_FLIGHT_WAIT_MS = 5_000;

/** How long a claim lasts when its process dies before releasing it: a later re-delivery is then handled. */
export const DEFAULT_CLAIM_TTL_MS = 60_000;

/** How long `onError` may take before the answer is sent without waiting for it any longer. */
export const DEFAULT_ON_ERROR_TIMEOUT_MS = 5_000;

/**
 * One handler per event type; each gets its own event type (`on["call.connect"]` gets `e.data.session`). A
 * handler may return a promise: it is awaited before the next event. What it resolves to is ignored.
 */
export type WebhookEventHandlers = {
  [Type in WebhookEventType]?: (event: WebhookEventOf<Type>) => unknown;
};

export interface WebhookHandlerOptions {
  /** The app secret, or `[current, previous]` while rotating it: a delivery signed with either is accepted. */
  appSecret: string | readonly string[];
  /** The verify token entered in the App Dashboard, checked on the GET handshake. */
  verifyToken: string;
  /** Called for every event, before the handler of its type; awaited like the handlers in `on`. */
  onEvent?: ((event: WebhookEvent) => unknown) | undefined;
  /** Handlers by event type. */
  on?: WebhookEventHandlers | undefined;
  /**
   * Called when a handler (or the dedupe store) throws, with the event it was handling. The later events of the
   * same call wait for the re-delivery, other calls' events are still handled, and the delivery is answered 500
   * so that Meta sends it again. `event` is absent only for a failure outside any event. A throwing `onError` is
   * ignored. Default: the error is printed with `console.error` (pass `() => {}` to silence it).
   */
  onError?: ((error: unknown, context: { event?: WebhookEvent | undefined }) => unknown) | undefined;
  /** Larger bodies are answered 413 without being read whole. Default `DEFAULT_MAX_BODY_BYTES` (4 MiB). */
  maxBodyBytes?: number | undefined;
  /**
   * Drops events already handled (Meta delivers again after a timeout or an error, and may send duplicates).
   * `true` (default): a bounded in-memory store (10,000 keys, 7 days); `false`: off; or your own store, such as
   * `createRedisDedupeStore()` from `whatsapp-calling/redis` when several processes receive the webhooks. An
   * event counts as handled only once its handlers succeeded.
   *
   * A re-delivery that arrives while an earlier attempt at the same event is still running is never answered
   * 200 for that unfinished work: it waits (at most `inFlightWaitMs`) for the earlier attempt in this process;
   * if that succeeded the event is a duplicate, if it failed this delivery handles it. When the earlier attempt
   * is still running after the wait, or runs in another process, the delivery is answered **409** so that Meta
   * delivers it again later. A store that fails (`WebhookDedupeStoreError`) makes the answer 500.
   */
  dedupe?: boolean | WebhookDedupeStore | LegacyWebhookDedupeStore | undefined;
  /** See `dedupe`. Default `DEFAULT_IN_FLIGHT_WAIT_MS` (5 s). */
  inFlightWaitMs?: number | undefined;
  /**
   * How long a claim in the store lasts: if its process dies mid-way, a re-delivery after this long is handled.
   * It lapses for a handler still running too (nothing renews it), so keep it longer than your slowest handler;
   * one that runs longer is logged at warn. Default `DEFAULT_CLAIM_TTL_MS` (60 s).
   */
  claimTtlMs?: number | undefined;
  /** An `onError` that has not settled after this long is no longer waited for. Default 5 s. */
  onErrorTimeoutMs?: number | undefined;
  /**
   * Gets one-line summaries (counts, event types, call ids, the path of a rejected payload); never the app
   * secret, the verify token, the signature header or a payload. `console` works.
   */
  logger?: Logger | undefined;
}

/** A web-standard request handler: `(request: Request) => Promise<Response>`. */
export type WebhookRequestHandler = (request: Request) => Promise<Response>;

/**
 * The webhook endpoint as a web-standard handler (Node through `whatsapp-calling/node`, Bun, Deno, Hono,
 * workers):
 *
 * - GET: the subscription handshake: 200 with the challenge as `text/plain`, 403 for a wrong verify token, 400
 *   for missing parameters.
 * - POST: 401 when `X-Hub-Signature-256` is missing or wrong (checked on the raw bytes before any parsing); 413
 *   above `maxBodyBytes`; 400 only for a body that is not JSON or has no `entry` array (a signed delivery is
 *   never refused for its shape: an item that breaks its schema is delivered as an `invalid` event and logged
 *   at warn with its path); otherwise every event is handled in delivery order, one after the other, and the
 *   answer is 200 once all handlers finished, 500 (so Meta delivers again) when one threw or the dedupe store
 *   failed, 409 when an event is still being handled by an earlier attempt (see `dedupe`).
 * - anything else: 405 with `Allow: GET, POST`.
 */
export function createWebhookHandler(options: WebhookHandlerOptions): WebhookRequestHandler {
  const appSecrets = appSecretList(options.appSecret);
  const { verifyToken, onEvent, on = {}, onError, dedupe } = options;
  requireVerifyToken(verifyToken);
  requireHandlers(on, { onEvent, onError });
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) throw new WhatsAppValidationError("maxBodyBytes must be a positive integer", { path: "maxBodyBytes" });
  const store: WebhookDedupeStore | undefined = dedupe === false ? undefined : dedupe === undefined || dedupe === true ? createMemoryDedupeStore() : claimingStore(dedupe);
  const inFlightWaitMs = positive(options.inFlightWaitMs, DEFAULT_IN_FLIGHT_WAIT_MS, "inFlightWaitMs");
  const claimTtlMs = positive(options.claimTtlMs, DEFAULT_CLAIM_TTL_MS, "claimTtlMs");
  const onErrorTimeoutMs = positive(options.onErrorTimeoutMs, DEFAULT_ON_ERROR_TIMEOUT_MS, "onErrorTimeoutMs");
  // Events being handled in this process, with the re-deliveries waiting for the outcome of that attempt (true:
  // it succeeded): a re-delivery that arrives meanwhile waits for it rather than being acknowledged for work that
  // has not succeeded.
  const inFlight = new Map<string, ((succeeded: boolean) => void)[]>();
  // Undefined without a logger, so that no summary is built for nobody (`log?.(…)` skips its arguments).
  const log = createLog(options.logger);

  function handleSubscription(request: WebhookInput): WebhookAnswer {
    try {
      const challenge = verifySubscription(new URL(request.url()), verifyToken);
      log?.("info", "webhook subscription verified");
      return textAnswer(200, challenge);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      log?.("warn", "webhook subscription refused", { status: error.status, reason: error.message });
      return textAnswer(error.status, error.message);
    }
  }

  async function handleDelivery(request: WebhookInput, check: HmacCheck): Promise<WebhookAnswer> {
    const signature = request.header(SIGNATURE_HEADER);
    if (!signature) {
      log?.("warn", "webhook delivery refused: no X-Hub-Signature-256 header");
      // The body is not read, and the connection is closed: an unsigned body of any size is not drained just to
      // keep the connection alive for its sender.
      return textAnswer(401, "Missing X-Hub-Signature-256 header", { connection: "close" });
    }
    let body: Uint8Array | typeof BODY_TOO_LARGE;
    try {
      body = await request.body(maxBodyBytes);
    } catch {
      log?.("warn", "webhook delivery refused: the body could not be read");
      return textAnswer(400, "The request body could not be read");
    }
    if (body === BODY_TOO_LARGE) {
      log?.("warn", "webhook delivery refused: body too large", { maxBodyBytes });
      // Closing the connection stops the rest of an oversized body from being read just to be thrown away.
      return textAnswer(413, `Body larger than ${maxBodyBytes} bytes`, { connection: "close" });
    }
    const valid = signatureMatches(body, signature, appSecrets, check);
    if (!(isThenable(valid) ? await valid : valid)) {
      log?.("warn", "webhook delivery refused: signature does not match", { bytes: body.byteLength });
      return textAnswer(401, "Invalid X-Hub-Signature-256 signature");
    }
    let events: WebhookEvent[];
    try {
      events = parseWebhook(body);
    } catch (error) {
      if (!(error instanceof WebhookPayloadError)) throw error;
      log?.("warn", "webhook payload rejected", { path: error.path, reason: error.message });
      return textAnswer(400, error.message);
    }
    if (log) {
      for (const event of events) {
        // The path names schema properties and indexes only (map keys as *), never values.
        if (event.type === "invalid") log("warn", "webhook item does not match its schema; delivered as an invalid event", { expected: event.expected, field: event.field, path: event.path });
      }
    }
    // Awaited rather than returned: an async function that returns a promise takes two more turns to settle.
    return await dispatch(events);
  }

  /** One step of the dedupe store, its failure a `WebhookDedupeStoreError`; a synchronous store (the memory one) answers without a turn of the event loop. */
  function storeStep(operation: "claim" | "markDone" | "release", key: string): unknown {
    try {
      const result = operation === "claim" ? store!.claim(key, claimTtlMs) : store![operation](key);
      return isThenable(result) ? Promise.resolve(result).catch((cause: unknown) => Promise.reject(storeError(operation, cause))) : result;
    } catch (cause) {
      throw storeError(operation, cause);
    }
  }

  /** Claims `key`; when another attempt in this process holds it, waits (bounded) for its outcome and claims again. */
  function claim(key: string): DedupeClaim | Promise<DedupeClaim> {
    const outcome = storeStep("claim", key) as DedupeClaim | Promise<DedupeClaim>;
    if (isThenable(outcome)) return outcome.then((first) => (first === "busy" ? waitForEarlier(key) : first));
    return outcome === "busy" ? waitForEarlier(key) : outcome;
  }

  async function waitForEarlier(key: string): Promise<DedupeClaim> {
    const waiters = inFlight.get(key);
    if (!waiters) return "busy";
    const finished = await withTimeout(new Promise<boolean>((resolve) => waiters.push(resolve)), inFlightWaitMs);
    return finished === TIMED_OUT ? "busy" : (storeStep("claim", key) as DedupeClaim | Promise<DedupeClaim>);
  }

  async function dispatch(events: WebhookEvent[]): Promise<WebhookAnswer> {
    let handled = 0;
    let duplicates = 0;
    let failed = 0;
    let busy = 0;
    let deferred = 0;
    // After a handler fails (or its event is still being handled elsewhere), the later events of that call wait
    // for Meta's re-delivery (so a call's events keep their order), while the events of other calls are handled
    // now rather than minutes later.
    let heldCalls: Set<string> | undefined;
    for (const event of events) {
      const callId = "callId" in event ? event.callId : undefined;
      if (callId !== undefined && heldCalls?.has(callId)) {
        deferred++;
        continue;
      }
      const key = store && webhookDedupeKey(event);
      let waiters: ((succeeded: boolean) => void)[] | undefined;
      let succeeded = false;
      try {
        if (key !== undefined) {
          const claimed = claim(key);
          const outcome = isThenable(claimed) ? await claimed : claimed;
          if (outcome === "done") {
            duplicates++;
            log?.("debug", "webhook event skipped: already handled", { type: event.type, key });
            continue;
          }
          if (outcome === "busy") {
            busy++;
            if (callId !== undefined) (heldCalls ??= new Set()).add(callId);
            log?.("info", "webhook event is being handled by an earlier attempt; answering 409 so that Meta delivers again", { type: event.type, key });
            continue;
          }
          inFlight.set(key, (waiters = []));
        }
        // Only with a logger, and only for a claimed event: the clock is read for the warning below alone.
        const started = log && key !== undefined ? Date.now() : 0;
        try {
          // Awaited only when a handler returned a promise: a synchronous handler costs no extra turn.
          const fromOnEvent = onEvent?.(event);
          if (isThenable(fromOnEvent)) await fromOnEvent;
          const fromHandler = (on[event.type] as ((event: WebhookEvent) => unknown) | undefined)?.(event);
          if (isThenable(fromHandler)) await fromHandler;
        } catch (error) {
          failed++;
          if (callId !== undefined) (heldCalls ??= new Set()).add(callId);
          log?.("error", "webhook handler failed; the delivery will be answered 500 so that Meta delivers again", { type: event.type, callId });
          await reportError(error, event);
          // Given up, so that the re-delivery is handled. A release that fails leaves the claim to lapse.
          if (key !== undefined) await Promise.resolve().then(() => storeStep("release", key)).catch((storeFailure: unknown) => reportError(storeFailure, event));
          continue;
        }
        handled++;
        if (started && Date.now() - started > claimTtlMs) {
          // Nothing renews a claim: once it lapsed, a re-delivery in another process may have handled this event too.
          log!("warn", "webhook handler outlived its claim (claimTtlMs): another process may have handled the event too", { type: event.type, key, claimTtlMs, durationMs: Date.now() - started });
        }
        // Marked only after the handlers succeeded. The work is done, so a failure to mark it is reported but
        // does not turn the answer into a 500 (that would only make Meta deliver it again, to be handled twice).
        if (key !== undefined) {
          try {
            const marked = storeStep("markDone", key);
            if (isThenable(marked)) await marked;
            succeeded = true;
          } catch (storeFailure) {
            log?.("error", "webhook dedupe store failed to mark an event done", { type: event.type, key });
            await reportError(storeFailure, event, "handled");
          }
        }
      } catch (error) {
        // Only the store's claim can land here: the event's state is unknown, so Meta must deliver it again.
        failed++;
        if (callId !== undefined) (heldCalls ??= new Set()).add(callId);
        log?.("error", "webhook dedupe store failed; the delivery will be answered 500 so that Meta delivers again", { type: event.type, key });
        await reportError(error, event);
      } finally {
        if (waiters) {
          inFlight.delete(key!);
          for (const waiter of waiters) waiter(succeeded);
        }
      }
    }
    if (failed > 0) {
      const how = handled + duplicates > 0 ? "partly handled" : "not handled";
      log?.("warn", `webhook delivery ${how}; answered 500 so that Meta delivers it again`, { events: events.length, handled, failed, busy, deferred, duplicates });
      return textAnswer(500, "Webhook handler failed");
    }
    if (busy > 0) {
      log?.("warn", "webhook delivery partly handled: events still being handled by an earlier attempt", { events: events.length, handled, busy, deferred, duplicates });
      // The counts tell an operator who sees a 409 that the rest of the delivery was handled.
      return textAnswer(409, `${busy} of ${events.length} events still being handled by an earlier delivery (${handled} handled now, ${duplicates} before); deliver again later`);
    }
    log?.("info", "webhook delivery handled", { events: events.length, handled, duplicates });
    return HANDLED;
  }

  /** `handled`: the event's handlers succeeded and only marking it done failed, so the answer stays 200. */
  async function reportError(error: unknown, event: WebhookEvent | undefined, outcome: "retried" | "handled" = "retried") {
    if (!onError) {
      // Without onError the failure would be seen nowhere but in Meta's re-deliveries: printed, as node's
      // unhandled errors are. The error is the handler's own (or a store's, whose message is redacted).
      const what = event?.type ?? "webhook";
      console.error(
        outcome === "retried"
          ? `whatsapp-calling: handling a ${what} event failed; answered 500 so that Meta delivers it again (pass onError to handle this yourself)`
          : `whatsapp-calling: a ${what} event was handled, but the dedupe store failed to mark it done (pass onError to handle this yourself)`,
        error,
      );
      return;
    }
    try {
      // Bounded: an onError that never settles must not hold the answer (and so Meta's retry) for ever.
      if ((await withTimeout(Promise.resolve(onError(error, { event })), onErrorTimeoutMs)) === TIMED_OUT) {
        log?.("warn", "webhook onError did not settle in time; answering without it", { onErrorTimeoutMs });
      }
    } catch {
      // The answer is 500 anyway; a broken error hook must not change that.
    }
  }

  // The one core; the web Request below and src/node.ts (node:http, with node:crypto's HMAC) are its carriers.
  const core: WebhookCore = async (request, check = webCryptoCheck) => {
    try {
      if (request.method === "GET") return handleSubscription(request);
      if (request.method === "POST") return await handleDelivery(request, check);
      return textAnswer(405, "Method not allowed", { allow: "GET, POST" });
    } catch (error) {
      log?.("error", "webhook request failed unexpectedly");
      await reportError(error, undefined);
      return textAnswer(500, "Internal error");
    }
  };
  const handleWebhookRequest: WebhookRequestHandler = async (request) => {
    const { status, text, headers } = await core({
      method: request.method,
      url: () => request.url,
      header: (name) => request.headers.get(name),
      body: (maxBytes) => readBody(request, maxBytes),
    });
    return new Response(text === "" ? null : text, { status, headers });
  };
  return Object.assign(handleWebhookRequest, { [WEBHOOK_CORE]: core });
}

/** Reads the body up to `maxBytes`, stopping as soon as the limit is passed rather than buffering it all. */
async function readBody(request: Request, maxBytes: number): Promise<Uint8Array | typeof BODY_TOO_LARGE> {
  if (Number(request.headers.get("content-length") ?? Number.NaN) > maxBytes) return BODY_TOO_LARGE;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    length += read.value.byteLength;
    if (length > maxBytes) {
      reader.cancel().catch(() => {});
      return BODY_TOO_LARGE;
    }
    chunks.push(read.value);
  }
  return concatBytes(chunks, length);
}

function textAnswer(status: number, text: string, headers?: Record<string, string>): WebhookAnswer {
  return { status, text, headers: headers ? { ...TEXT_HEADERS, ...headers } : TEXT_HEADERS };
}

/**
 * The answer to a delivery whose every event was handled: 200 and nothing else. Meta reads only the status, and
 * a body would cost each delivery a byte stream (`new Response(text)`) and a content type.
 */
const HANDLED: WebhookAnswer = Object.freeze({ status: 200, text: "", headers: Object.freeze({}) as Record<string, string> });

const TEXT_HEADERS: Readonly<Record<string, string>> = { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" };

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";

const storeError = (operation: "claim" | "markDone" | "release", cause: unknown) =>
  cause instanceof WebhookDedupeStoreError ? cause : new WebhookDedupeStoreError(operation, cause);

const TIMED_OUT = Symbol("timed out");

/** `promise`, or TIMED_OUT after `ms`; the timer is cleared either way, so none is left behind. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(resolve, ms, TIMED_OUT)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The handlers, checked when the endpoint is made: a misspelt event type would never be called, and a value that
 * is not a function would answer every delivery 500, neither with a word to say why.
 */
function requireHandlers(on: unknown, hooks: Record<string, unknown>): void {
  for (const [name, hook] of Object.entries(hooks)) {
    if (hook !== undefined && typeof hook !== "function") throw new WhatsAppValidationError(`${name} must be a function`, { path: name });
  }
  if (typeof on !== "object" || on === null || Array.isArray(on)) throw new WhatsAppValidationError("on must be an object of handlers by event type", { path: "on" });
  for (const [type, handler] of Object.entries(on)) {
    if (!(WEBHOOK_EVENT_TYPES as readonly string[]).includes(type)) {
      throw new WhatsAppValidationError(`on: "${type}" is not an event type (${WEBHOOK_EVENT_TYPES.join(", ")})`, { path: `on.${type}` });
    }
    if (handler !== undefined && typeof handler !== "function") throw new WhatsAppValidationError(`on["${type}"] must be a function`, { path: `on.${type}` });
  }
}

function positive(value: number | undefined, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value > 0)) throw new WhatsAppValidationError(`${path} must be a positive number`, { path });
  return value;
}
