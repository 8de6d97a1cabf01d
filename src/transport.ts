// The one request path of a client, for the one-line methods and `raw` alike: a body serialized once, then
// `fetch(url, init)` per attempt under one deadline, with retries by the operation's rule from openapi.yaml and
// one shared token refresh. Every answer is read once, to its end or to the size cap, and nothing is cloned.
import type { OperationInfo, RetryRule } from "../generated/operations.js";
import { Tokens } from "./client/token.js";
import { discard, dispose, pause, startDeadline, within, type AbortableDeadline, type Deadline } from "./client/deadline.js";
import { retryAfterMs, retryDelay, type RetryInfo, type RetryOptions } from "./client/retry.js";
import {
  WhatsAppApiError,
  WhatsAppNetworkError,
  WhatsAppResponseError,
  WhatsAppResponseTooLargeError,
  WhatsAppTimeoutError,
  WhatsAppTokenError,
  errorHandling,
} from "./client/errors.js";
import { parseJsonExact } from "./json.js";
import { redactSecrets, type Log } from "./logging.js";

export const DEFAULT_TIMEOUT_MS = 15_000;
/** The longest delay a timer can have; a longer one would fire at once. */
export const MAX_TIMEOUT_MS = 2_147_483_647;
/**
 * How long after a timeout the client's requests carry an abort signal of their own: undici's default
 * headersTimeout, the longest a connection that never answers would otherwise stay open.
 */
export const ABORTABLE_AFTER_TIMEOUT_MS = 300_000;
/** The most bytes of one answer that are read (after decompression): Graph answers are a few hundred bytes. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1_048_576;
/** The most bytes read of a streamed request's error answer (an expired media URL's, say). */
const STREAM_ERROR_BODY_BYTES = 16_384;

/** What the client calls to send a request: the global `fetch`, or one that takes the same arguments. */
export type FetchFunction = (input: string, init: RequestInit & { headers: Record<string, string> }) => Promise<Response>;

/** What a request hook is told about one attempt. */
export interface AttemptInfo {
  action: string;
  callId: string | undefined;
  method: string;
  /** Path without host, version or query. */
  path: string;
  /** 1 for the first. */
  attempt: number;
}

/** How an attempt ended: answered and done (`success` or `error`), sent again (`retry`, `refresh`), or given up. */
export type AttemptOutcome = "success" | "error" | "retry" | "refresh" | "timeout" | "aborted";

export interface AttemptResult extends AttemptInfo {
  outcome: AttemptOutcome;
  /** HTTP status, when an answer came. */
  status: number | undefined;
  durationMs: number;
  /** What the call rejects with (or, for a retry, what caused it), when it fails. */
  error: unknown;
}

/**
 * For metrics and tracing: told about every attempt of every request. `onRequest` may return headers to add
 * (e.g. `traceparent`), synchronously; they are sent in lower case, and an `Authorization` among them is dropped.
 */
export interface RequestHooks {
  onRequest?(info: AttemptInfo): Record<string, string> | void;
  onResponse?(result: AttemptResult): void;
}

export interface TransportConfig {
  fetch: FetchFunction;
  tokens: Tokens;
  retry: Required<RetryOptions> | false;
  maxResponseBytes: number;
  onRetry: ((info: RetryInfo) => void) | undefined;
  hooks: RequestHooks | undefined;
  log: Log | undefined;
  /**
   * Until when (epoch ms) each request gets a signal that its deadline aborts. Linking a signal into a fetch is
   * most of what a deadline costs (Node 20's undici: about a tenth of a loopback request, BENCHMARKS.md), so a
   * request carries only the caller's signal, if any, until a request of this client times out: the deadline then
   * rejects on time, but its connection stays open until the answer comes (it is then let go) or undici gives up.
   * From that timeout on, for ABORTABLE_AFTER_TIMEOUT_MS, the deadline closes the connection: an upstream that
   * hangs costs at most the connections that were in flight when it began to.
   */
  abortableUntil: number;
}

/** One request, ready to send. */
export interface Outgoing {
  method: OperationInfo["method"];
  url: string;
  /** Path without host, version or query, for logs and errors. */
  path: string;
  /** The JSON body, serialized once; or a multipart form (a media upload), sent with its own content type. */
  body: string | FormData | undefined;
  action: string;
  callId: string | undefined;
  retry: RetryRule;
  /** The SDP the body carries: its ICE passwords must never come back in an error. */
  sdp?: string | undefined;
  /** Headers of a `raw` request (the one-line methods send only their own). */
  headers?: Record<string, string> | undefined;
}

/** The last answer, read to its end (a streamed 2xx aside). */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** A 2xx answer of a streamed request (a media download), its body unread. */
  response?: Response;
  /** The parsed body of a non-2xx answer, when it is JSON. */
  json?: unknown;
  attempt: number;
  /** What must not reach an error: the tokens sent and the SDP's secrets. */
  secrets: () => string[];
}

const TOO_LARGE = Symbol("too large");
const decoder = new TextDecoder();
const noop = () => {};

/**
 * Sends `out` and gives back its last answer. A request whose body is streamed to the caller (a media download)
 * passes the deadline it owns as `stream`, which outlives the request, and as `timeoutMs` what is left of it: a
 * 2xx answer then comes back with its body unread, and the deadline is left running until the caller's last byte.
 * Of a streamed request's other answers at most STREAM_ERROR_BODY_BYTES are read, to tell why (a longer one is
 * let go, and the status alone decides).
 */
export async function exchange(config: TransportConfig, out: Outgoing, signal: AbortSignal | undefined, timeoutMs: number, stream?: AbortableDeadline): Promise<Answer> {
  if (signal?.aborted) throw signal.reason;
  // Read now, synchronously with the caller's call: a rotation right after it does not change this request.
  let token: string | Promise<string> = config.tokens.read();
  let generation = config.tokens.generation;
  const { action, callId, method, path } = out;
  const started = Date.now();
  let attempt = 1;
  let attemptStarted = started;
  const context = (): AttemptInfo => ({ action, callId, method, path, attempt });
  const deadline = stream ?? startDeadline(timeoutMs, signal, () => new WhatsAppTimeoutError({ timeoutMs, ...context() }), started < config.abortableUntil);
  const tokens: string[] = [];
  const secrets = () => [...tokens, ...sdpSecrets(out.sdp)];
  const report = (outcome: AttemptOutcome, status: number | undefined, error?: unknown) => {
    if (!config.hooks?.onResponse) return;
    try {
      config.hooks.onResponse({ ...context(), outcome, status, durationMs: Date.now() - attemptStarted, error });
    } catch {
      // Hooks observe; their failure must not change the request.
    }
  };
  const summary = (level: "info" | "warn" | "error", text: string, status?: number, code?: unknown) =>
    config.log?.(level, `whatsapp-calling: ${action}${text}`, { ...context(), status, code, durationMs: Date.now() - started });
  /** Says why (to the hooks, the log and onRetry), then waits before the next attempt. */
  const retry = async (cause: WhatsAppApiError | WhatsAppNetworkError, delayMs: number) => {
    const { status, code } = cause as WhatsAppApiError;
    summary("warn", ` attempt ${attempt} failed; retrying in ${delayMs} ms`, status, code);
    report("retry", status, cause);
    try {
      config.onRetry?.({ attempt, delayMs, cause, action, callId });
    } catch {
      // onRetry is an observer; its failure must not change the request.
    }
    await pause(deadline, delayMs);
  };

  try {
    if (typeof token !== "string") token = await within(deadline, token);
    tokens.push(token);
    let refreshed = false;
    // Whether an attempt may have reached Meta without its answer coming back: a repeat may find it done.
    let outcomeUnknown = false;
    for (; ; attempt++) {
      attemptStarted = Date.now();
      let response: Response;
      let text: string | typeof TOO_LARGE;
      try {
        deadline.fetching = config.fetch(out.url, attemptInit(config, out, token, context, deadline.signal));
        response = await within(deadline, deadline.fetching);
        deadline.fetching = undefined;
        if (stream && response.ok) {
          summary("info", ` → ${response.status}`, response.status);
          report("success", response.status);
          return { status: response.status, headers: response.headers, text: "", response, attempt, secrets };
        }
        text = await within(deadline, readBody(response, stream ? STREAM_ERROR_BODY_BYTES : config.maxResponseBytes, deadline));
        deadline.reading = undefined;
      } catch (error) {
        if (deadline.reason !== undefined) throw error;
        const failure = new WhatsAppNetworkError({ cause: error, redact: (text) => redactSecrets(text, secrets()), ...context() });
        const delayMs = out.retry !== "never" && config.retry && retryDelay(config.retry, attempt, undefined, timeoutMs - (Date.now() - started));
        if (delayMs === false) {
          summary("error", " failed without an answer");
          report("error", undefined, failure);
          throw failure;
        }
        // Nothing was sent when the connection was refused; after any other failure Meta may have acted.
        outcomeUnknown ||= (error as { cause?: { code?: unknown } } | undefined)?.cause?.code !== "ECONNREFUSED";
        await retry(failure, delayMs);
        continue;
      }

      const { status } = response;
      if (text === TOO_LARGE && stream) text = "";
      if (text === TOO_LARGE) {
        const failure = new WhatsAppResponseTooLargeError({ status, limitBytes: config.maxResponseBytes, ...context() });
        summary("warn", ` → ${status}, over maxResponseBytes`, status);
        report("error", status, failure);
        throw failure;
      }
      const answer: Answer = { status, headers: response.headers, text, attempt, secrets };
      if (status >= 200 && status < 300) {
        summary("info", ` → ${status}`, status);
        report("success", status);
        return answer;
      }

      answer.json = parseJson(text);
      const code = (answer.json as { error?: { code?: unknown } } | undefined)?.error?.code;
      const next = afterError(config, out, answer, code, refreshed, outcomeUnknown, timeoutMs - (Date.now() - started));
      if (next === "refresh") {
        refreshed = true;
        const original = apiError(answer, action, callId);
        summary("warn", ` → 401 (code ${code}); refreshing the access token`, status, code);
        report("refresh", status, original);
        try {
          token = await within(deadline, config.tokens.refreshed(generation, token, deadline.ended));
        } catch (error) {
          if (deadline.reason !== undefined) throw error;
          throw new WhatsAppTokenError("Refreshing the access token failed; the request was not repeated", { cause: original });
        }
        tokens.push(token);
        generation = config.tokens.generation;
      } else if (next === "done") {
        summary("info", ` → ${status} to a repeat after an attempt of unknown outcome: already done`, status, code);
        report("success", status);
        return { status: 200, headers: response.headers, text: '{"success":true}', attempt, secrets };
      } else if (next === "fail") {
        summary("warn", ` → ${status}${code === undefined ? "" : ` (code ${code})`}`, status, code);
        report("error", status);
        return answer;
      } else {
        outcomeUnknown ||= status !== 429;
        await retry(apiError(answer, action, callId), next);
      }
    }
  } catch (error) {
    if (deadline.reason === undefined) throw error;
    // A streamed request's deadline always aborts its own fetch: its timeout says nothing of the client's others.
    if (deadline.timedOut && !stream) config.abortableUntil = Date.now() + ABORTABLE_AFTER_TIMEOUT_MS;
    report(deadline.timedOut ? "timeout" : "aborted", undefined, deadline.reason);
    throw deadline.reason;
  } finally {
    if (!stream) dispose(deadline);
  }
}

/**
 * What follows a non-2xx answer: a token refresh (once, after a 401 with a token code); "done" for a 4xx to a
 * repeat after an attempt of unknown outcome (Meta refuses to do again what that attempt did); the delay before a
 * retry of a transient answer (429, 5xx) when the operation's rule and the deadline allow; or "fail".
 */
function afterError(
  config: TransportConfig,
  out: Outgoing,
  answer: Answer,
  code: unknown,
  refreshed: boolean,
  outcomeUnknown: boolean,
  remainingMs: number,
): "refresh" | "done" | "fail" | number {
  const { status } = answer;
  const entry = typeof code === "number" ? errorHandling(code) : undefined;
  if (status === 401 && !refreshed && config.tokens.refresh && entry?.tokenRefresh) return "refresh";
  if (out.retry === "success-if-done" && outcomeUnknown && status >= 400 && status < 500 && ![401, 403, 429].includes(status)) return "done";
  const transient = status === 429 || (status >= 500 && status < 600);
  const knownNotRetryable = entry !== undefined && entry.category !== "unknown" && !entry.retryable;
  if (!transient || knownNotRetryable || out.retry === "never" || !config.retry) return "fail";
  const delayMs = retryDelay(config.retry, answer.attempt, retryAfterMs(answer.headers), remainingMs);
  return delayMs === false ? "fail" : delayMs;
}

/** The init of one attempt: the request's own headers, a hook's, the content type and the token. */
function attemptInit(config: TransportConfig, out: Outgoing, token: string, info: () => AttemptInfo, signal: AbortSignal | undefined) {
  const headers: Record<string, string> = out.headers ? { ...out.headers } : {};
  // The attempt's info is made only for a hook that is told it.
  if (config.hooks?.onRequest) Object.assign(headers, addedHeaders(config.hooks.onRequest, info()));
  if (typeof out.body === "string") headers["content-type"] = "application/json";
  headers.authorization = `Bearer ${token}`;
  return { method: out.method, headers, body: out.body, signal, redirect: "manual" as const };
}

/**
 * The hook's headers, named in lower case as the client's own are: header names are case-insensitive, so an
 * `Authorization` or `Content-Type` of the hook's must not ride beside the client's (fetch would join the two).
 * A hook's Authorization is dropped; a Promise (an async hook) adds nothing.
 */
function addedHeaders(onRequest: NonNullable<RequestHooks["onRequest"]>, info: AttemptInfo): Record<string, string> {
  const headers: Record<string, string> = {};
  try {
    const added: unknown = onRequest(info);
    if (added === null || typeof added !== "object" || typeof (added as { then?: unknown }).then === "function") return headers;
    for (const [name, value] of Object.entries(added)) {
      const lower = name.toLowerCase();
      if (lower !== "authorization") headers[lower] = String(value);
    }
  } catch {
    // A hook that throws changes nothing.
  }
  return headers;
}

/**
 * The body as text, or TOO_LARGE. A body whose size the answer states and that is not compressed is read whole
 * (undici enforces Content-Length, so it cannot grow past it): the usual Graph answer, without a stream reader.
 * Any other body is read chunk by chunk and given up once more than `limit` bytes arrived.
 */
async function readBody(
  response: Response,
  limit: number,
  deadline: Deadline,
): Promise<string | typeof TOO_LARGE> {
  if (!response.body) return "";
  const length = response.headers.get("content-length");
  const size = length === null ? NaN : Number(length);
  if (size <= limit && !response.headers.has("content-encoding")) return response.text();
  if (size > limit) {
    discard(response);
    return TOO_LARGE;
  }
  const reader = response.body.getReader();
  deadline.reading = reader;
  return readText(reader, limit);
}

/** The body as text, or TOO_LARGE once more than `limit` bytes arrived (the rest is not read). */
async function readText(reader: ReadableStreamDefaultReader<Uint8Array>, limit: number): Promise<string | typeof TOO_LARGE> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    size += read.value.byteLength;
    if (size > limit) {
      reader.cancel().catch(noop);
      return TOO_LARGE;
    }
    chunks.push(read.value);
  }
  // One chunk is the usual case of a Graph answer; more are joined once.
  return chunks.length < 2 ? decoder.decode(chunks[0]) : decoder.decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The parts of a request that are secret besides the token: the SDP as sent (raw and JSON-escaped) and its ICE
 * passwords, since a server may quote any of them back in an error.
 */
function sdpSecrets(sdp: string | undefined): string[] {
  if (typeof sdp !== "string") return [];
  const icePasswords = [...sdp.matchAll(/a=ice-pwd:([^\r\n]+)/g)].map((match) => match[1]!.trim());
  return [sdp, JSON.stringify(sdp).slice(1, -1), ...icePasswords];
}

/** The WhatsAppApiError of a non-2xx answer, with everything taken from the answer redacted. */
export function apiError(answer: Answer, action: string, callId: string | undefined): WhatsAppApiError {
  const retryAfter = retryAfterMs(answer.headers);
  return new WhatsAppApiError({
    status: answer.status,
    body: redactSecrets(answer.json ?? answer.text, answer.secrets()),
    retryAfterSeconds: retryAfter === undefined ? undefined : retryAfter / 1000,
    action,
    callId,
    attempt: answer.attempt,
  });
}

/** The 2xx answer as a JSON object, or WhatsAppResponseError; a non-2xx answer as WhatsAppApiError. */
export function jsonObject(answer: Answer, action: string, callId: string | undefined): Record<string, unknown> {
  if (answer.status < 200 || answer.status >= 300) throw apiError(answer, action, callId);
  const unusable = (what: string) =>
    new WhatsAppResponseError(`Graph API answered HTTP ${answer.status} on ${action} with ${what}`, { status: answer.status, action, callId, attempt: answer.attempt });
  if (answer.text === "") throw unusable("an empty body");
  let value: unknown;
  try {
    // An id past 2^53 written as a JSON number (a settings' announcement_media_id) comes back as its digits.
    value = parseJsonExact(answer.text);
  } catch {
    throw unusable("a body that is not JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw unusable("a body that is not a JSON object");
  // SuccessResponse is `success: true`; a 2xx that says otherwise did not do what was asked, so it is not a success.
  if ((value as Record<string, unknown>)["success"] === false) throw unusable('"success": false');
  return value as Record<string, unknown>;
}
