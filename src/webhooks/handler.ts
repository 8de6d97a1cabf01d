import { WhatsAppValidationError } from "../errors.js";
import { log as writeLog, type Logger, type LogLevel } from "../logging.js";
import { createMemoryDedupeStore, webhookDedupeKey, type WebhookDedupeStore } from "./dedupe.js";
import { WebhookPayloadError, WebhookVerificationError } from "./errors.js";
import { parseWebhook, type WebhookEvent, type WebhookEventOf, type WebhookEventType } from "./parse.js";
import { appSecretList, SIGNATURE_HEADER, verifySignature } from "./signature.js";
import { requireVerifyToken, verifySubscription } from "./subscription.js";

/**
 * Default body-size cap: Meta batches up to 1000 updates in one delivery, and a connect update with its SDP is
 * a few KB, so 4 MiB leaves room for a full batch while a larger body is refused before it is buffered.
 */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

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
  onEvent?: (event: WebhookEvent) => unknown;
  /** Handlers by event type. */
  on?: WebhookEventHandlers;
  /**
   * Called when a handler (or the dedupe store) throws, with the event it was handling. The later events of the
   * same call wait for the re-delivery, other calls' events are still handled, and the delivery is answered 500
   * so that Meta sends it again. `event` is absent only for a failure outside any event. A throwing `onError` is
   * ignored.
   */
  onError?: (error: unknown, context: { event?: WebhookEvent | undefined }) => unknown;
  /** Larger bodies are answered 413 without being read whole. Default `DEFAULT_MAX_BODY_BYTES` (4 MiB). */
  maxBodyBytes?: number;
  /**
   * Drops events already handled (Meta delivers again after a timeout or an error, and may send duplicates).
   * `true` (default): a bounded in-memory store (10,000 keys, 7 days); `false`: off; or your own store.
   * An event counts as handled only once its handlers succeeded.
   */
  dedupe?: boolean | WebhookDedupeStore;
  /**
   * Gets one-line summaries (counts, event types, call ids, the path of a rejected payload); never the app
   * secret, the verify token, the signature header or a payload. `console` works.
   */
  logger?: Logger;
}

/** A web-standard request handler: `(request: Request) => Promise<Response>`. */
export type WebhookRequestHandler = (request: Request) => Promise<Response>;

const BODY_TOO_LARGE = Symbol("body too large");

/**
 * The webhook endpoint as a web-standard handler (Node through `whatsapp-calling/node`, Bun, Deno, Hono,
 * workers):
 *
 * - GET: the subscription handshake: 200 with the challenge as `text/plain`, 403 for a wrong verify token, 400
 *   for missing parameters.
 * - POST: 401 when `X-Hub-Signature-256` is missing or wrong (checked on the raw bytes before any parsing); 413
 *   above `maxBodyBytes`; 400 for a body that is not a webhook payload (the body names the path); otherwise
 *   every event is handled in delivery order, one after the other, and the answer is 200 once all handlers
 *   finished, or 500 (so Meta delivers again) when one threw.
 * - anything else: 405 with `Allow: GET, POST`.
 */
export function createWebhookHandler(options: WebhookHandlerOptions): WebhookRequestHandler {
  const appSecrets = appSecretList(options.appSecret);
  const { verifyToken, onEvent, on = {}, onError, logger } = options;
  requireVerifyToken(verifyToken);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) throw new WhatsAppValidationError("maxBodyBytes must be a positive integer", { path: "maxBodyBytes" });
  const store: WebhookDedupeStore | undefined =
    options.dedupe === false ? undefined : options.dedupe === undefined || options.dedupe === true ? createMemoryDedupeStore() : options.dedupe;
  // Keys being handled right now: a re-delivery that arrives while the first is still running (Meta gives up
  // after about 20 seconds) is not dispatched a second time in parallel.
  const inFlight = new Set<string>();

  const log = (level: LogLevel, message: string, details?: Record<string, unknown>) => writeLog(logger, level, message, details);

  function handleSubscription(request: Request): Response {
    try {
      const challenge = verifySubscription(new URL(request.url), verifyToken);
      log("info", "webhook subscription verified");
      return textResponse(200, challenge);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      log("warn", "webhook subscription refused", { status: error.status, reason: error.message });
      return textResponse(error.status, error.message);
    }
  }

  async function handleDelivery(request: Request): Promise<Response> {
    const signature = request.headers.get(SIGNATURE_HEADER);
    if (!signature) {
      log("warn", "webhook delivery refused: no X-Hub-Signature-256 header");
      return textResponse(401, "Missing X-Hub-Signature-256 header");
    }
    let body: Uint8Array | typeof BODY_TOO_LARGE;
    try {
      body = await readBody(request, maxBodyBytes);
    } catch {
      log("warn", "webhook delivery refused: the body could not be read");
      return textResponse(400, "The request body could not be read");
    }
    if (body === BODY_TOO_LARGE) {
      log("warn", "webhook delivery refused: body too large", { maxBodyBytes });
      // Closing the connection stops the rest of an oversized body from being read just to be thrown away.
      return textResponse(413, `Body larger than ${maxBodyBytes} bytes`, { connection: "close" });
    }
    if (!(await verifySignature(body, signature, appSecrets))) {
      log("warn", "webhook delivery refused: signature does not match", { bytes: body.byteLength });
      return textResponse(401, "Invalid X-Hub-Signature-256 signature");
    }
    let events: WebhookEvent[];
    try {
      events = parseWebhook(body);
    } catch (error) {
      if (!(error instanceof WebhookPayloadError)) throw error;
      log("warn", "webhook payload rejected", { path: error.path, reason: error.message });
      return textResponse(400, error.message);
    }
    return dispatch(events);
  }

  async function dispatch(events: WebhookEvent[]): Promise<Response> {
    let handled = 0;
    let duplicates = 0;
    let failed = 0;
    let deferred = 0;
    // After a handler fails, the later events of that call wait for Meta's re-delivery (so a call's events
    // keep their order), while the events of other calls are handled now rather than minutes later.
    const failedCalls = new Set<string>();
    for (const event of events) {
      const callId = "callId" in event ? event.callId : undefined;
      if (callId !== undefined && failedCalls.has(callId)) {
        deferred++;
        continue;
      }
      const key = store ? webhookDedupeKey(event) : undefined;
      let claimed = false;
      try {
        if (store && key !== undefined) {
          if (!inFlight.has(key)) {
            inFlight.add(key);
            claimed = true;
          }
          if (!claimed || (await store.has(key))) {
            duplicates++;
            log("debug", "webhook event skipped: already handled or being handled", { type: event.type, key });
            continue;
          }
        }
        await onEvent?.(event);
        await (on[event.type] as ((event: WebhookEvent) => unknown) | undefined)?.(event);
        // Marked only after the handlers succeeded: a delivery answered 500 is handled again when Meta resends it.
        if (store && key !== undefined) await store.add(key);
        handled++;
      } catch (error) {
        failed++;
        if (callId !== undefined) failedCalls.add(callId);
        log("error", "webhook handler failed; the delivery will be answered 500 so that Meta delivers again", {
          type: event.type,
          callId,
        });
        await reportError(error, event);
      } finally {
        if (claimed && key !== undefined) inFlight.delete(key);
      }
    }
    if (failed > 0) {
      log("warn", "webhook delivery partly handled", { events: events.length, handled, failed, deferred, duplicates });
      return textResponse(500, "Webhook handler failed");
    }
    log("info", "webhook delivery handled", { events: events.length, handled, duplicates });
    return textResponse(200, "OK");
  }

  async function reportError(error: unknown, event: WebhookEvent | undefined) {
    try {
      await onError?.(error, { event });
    } catch {
      // The answer is 500 anyway; a broken error hook must not change that.
    }
  }

  return async function handleWebhookRequest(request: Request): Promise<Response> {
    try {
      if (request.method === "GET") return handleSubscription(request);
      if (request.method === "POST") return await handleDelivery(request);
      return textResponse(405, "Method not allowed", { allow: "GET, POST" });
    } catch (error) {
      log("error", "webhook request failed unexpectedly");
      await reportError(error, undefined);
      return textResponse(500, "Internal error");
    }
  };
}

/** Reads the body up to `maxBytes`, stopping as soon as the limit is passed rather than buffering it all. */
async function readBody(request: Request, maxBytes: number): Promise<Uint8Array | typeof BODY_TOO_LARGE> {
  const declaredLength = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declaredLength > maxBytes) return BODY_TOO_LARGE;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    length += value.byteLength;
    if (length > maxBytes) {
      reader.cancel().catch(() => {});
      return BODY_TOO_LARGE;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function textResponse(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(text, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff", ...headers },
  });
}
