// What the media functions need from a client, and the one request path they share: a deadline combined with
// the caller's signal, the Bearer token, and errors that name the operation but never carry the token.
import { WhatsAppApiError, WhatsAppError, WhatsAppNetworkError, WhatsAppResponseError, WhatsAppTimeoutError, WhatsAppValidationError } from "../errors.js";
import { log, redactSecrets, type Logger } from "../logging.js";
import { MAX_TIMEOUT_MS, raceAbort, retryAfterMs } from "../transport.js";

/** What the media functions take from a client; `createCallingClient` builds one from its options. */
export interface MediaContext {
  fetch: (request: Request) => Promise<Response>;
  /** The versioned Graph base URL, e.g. `https://graph.facebook.com/v23.0`. */
  baseUrl: string;
  /** The token for a request that starts now. */
  token: () => Promise<string>;
  /** The business phone number id the uploads go to. */
  phoneNumberId: () => string;
  /** Default deadline of one operation, in milliseconds. */
  timeoutMs: number;
  logger?: Logger | undefined;
}

/** Options every media function takes. */
export interface MediaRequestOptions {
  /** Aborts the operation; the promise (or the download's stream) rejects with the signal's reason. */
  signal?: AbortSignal;
  /** This operation's deadline instead of the client's `timeoutMs`. For a download it runs until the last byte. */
  timeoutMs?: number;
}

/** Where an operation is, for log lines and errors: never a query string (a media URL's is signed). */
export interface OperationSummary {
  action: string;
  method: string;
  path: string;
}

/**
 * A deadline for one operation: `signal` aborts with a WhatsAppTimeoutError when it passes and with the caller's
 * reason when the caller aborts. `end()` must be called when the operation is over (a download: its last byte).
 */
export interface Deadline {
  signal: AbortSignal;
  timeoutMs: number;
  end(): void;
}

export function startDeadline(context: MediaContext, options: MediaRequestOptions | undefined, action: string): Deadline {
  const timeoutMs = checkTimeout(options?.timeoutMs) ?? context.timeoutMs;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new WhatsAppTimeoutError({ timeoutMs, action })), timeoutMs);
  const callerSignal = options?.signal;
  const onCallerAbort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    timeoutMs,
    end() {
      clearTimeout(timer);
      callerSignal?.removeEventListener("abort", onCallerAbort);
    },
  };
}

/**
 * Sends one request with the Bearer token under the deadline and resolves with the answer, headers read and
 * body unread. A failure without an answer becomes WhatsAppNetworkError; an abort, the deadline's reason.
 */
export async function sendWithToken(
  context: MediaContext,
  url: string,
  init: { method: string; body?: BodyInit; headers?: Record<string, string> },
  deadline: Deadline,
  summary: OperationSummary,
  token: string,
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  const request = new Request(url, { method: init.method, headers, body: init.body ?? null, signal: deadline.signal });
  try {
    // Raced as well as signalled: a custom fetch may ignore the signal (see transport.ts on undici#4068).
    return await raceAbort(context.fetch(request), deadline.signal).finally(() => void request);
  } catch (error) {
    if (deadline.signal.aborted) throw deadline.signal.reason;
    if (error instanceof WhatsAppError) throw error;
    throw new WhatsAppNetworkError({ cause: error, action: summary.action, method: summary.method, path: summary.path });
  }
}

/** Reads the token under the deadline. */
export function tokenUnder(context: MediaContext, deadline: Deadline): Promise<string> {
  return raceAbort(context.token(), deadline.signal);
}

/**
 * One Graph API call with a JSON answer: resolves with the parsed 2xx body, rejects with WhatsAppApiError on
 * any other status (its body stripped of the token).
 */
export async function graphJson(
  context: MediaContext,
  request: { method: string; path: string; query?: Record<string, string | undefined>; body?: BodyInit; action: string },
  options: MediaRequestOptions | undefined,
): Promise<unknown> {
  const deadline = startDeadline(context, options, request.action);
  const started = Date.now();
  const summary: OperationSummary = { action: request.action, method: request.method, path: pathOf(context.baseUrl) + request.path };
  try {
    const url = new URL(context.baseUrl + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, value);
    const token = await tokenUnder(context, deadline);
    const response = await sendWithToken(context, url.href, { method: request.method, body: request.body }, deadline, summary, token);
    const text = await raceAbort(response.text(), deadline.signal).catch((error: unknown) => {
      throw deadline.signal.aborted ? deadline.signal.reason : new WhatsAppNetworkError({ cause: error, ...summary });
    });
    const body = parseJson(text);
    log(context.logger, response.ok ? "info" : "warn", `whatsapp-calling: ${request.action} → ${response.status}`, {
      ...summary,
      status: response.status,
      durationMs: Date.now() - started,
    });
    if (!response.ok) {
      const retryAfter = retryAfterMs(response.headers);
      throw new WhatsAppApiError({
        status: response.status,
        body: redactSecrets(body === undefined ? text : body, [token]),
        retryAfterSeconds: retryAfter === undefined ? undefined : retryAfter / 1000,
        action: request.action,
        method: request.method,
        path: summary.path,
      });
    }
    if (body === undefined || body === null || typeof body !== "object") {
      throw new WhatsAppResponseError(`Graph API answered HTTP ${response.status} on ${request.action} with a body that is not a JSON object`, {
        status: response.status,
        action: request.action,
      });
    }
    return body;
  } finally {
    deadline.end();
  }
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The path of a URL, without host or query string. */
export function pathOf(url: string): string {
  return new URL(url).pathname.replace(/\/+$/, "");
}

function checkTimeout(timeoutMs: unknown): number | undefined {
  if (timeoutMs === undefined) return undefined;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new WhatsAppValidationError(`timeoutMs must be a number of milliseconds above 0 and at most ${MAX_TIMEOUT_MS}`, {
      path: "timeoutMs",
    });
  }
  return timeoutMs;
}

/** A media id as the Graph API writes it (digits), checked before it becomes a path segment. */
export function checkMediaId(mediaId: unknown, path = "mediaId"): string {
  if (typeof mediaId !== "string" || !/^[0-9]+$/.test(mediaId)) {
    throw new WhatsAppValidationError(
      `${path} must be a media id (a string of digits, e.g. the id of a webhook's media object), not a URL or a message id`,
      { path },
    );
  }
  return mediaId;
}
