// The fetch that every request of a client goes through, the one-line methods and `raw` alike. openapi-fetch
// has no retries and its middleware cannot send a request again, so deadlines, retries and token refresh live
// here, around a buffered copy of the request body that is sent intact on every attempt.
import { NON_IDEMPOTENT_CALL_ACTIONS, OPERATIONS, type OperationInfo } from "../generated/operations.js";
import {
  WhatsAppApiError,
  WhatsAppError,
  WhatsAppNetworkError,
  WhatsAppResponseError,
  WhatsAppTimeoutError,
  WhatsAppTokenError,
  lookupErrorCode,
} from "./errors.js";
import { log, redactSecrets, type Logger } from "./logging.js";

/** An access token, or a function read on every request that returns one. */
export type AccessTokenSource = string | (() => string | Promise<string>);

export interface RetryOptions {
  /** Retries after the first attempt. Default 2. */
  retries?: number;
  /** Base of the exponential backoff. Default 250 ms. */
  minDelayMs?: number;
  /** Cap of one backoff delay. Default 4000 ms. A longer `Retry-After` is honoured if the deadline allows. */
  maxDelayMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
/** The longest delay a timer can have; a longer one would fire at once. */
export const MAX_TIMEOUT_MS = 2_147_483_647;
export const DEFAULT_RETRY: Required<RetryOptions> = { retries: 2, minDelayMs: 250, maxDelayMs: 4_000 };

/** What `onRetry` is told before each retry. */
export interface RetryInfo {
  /** The attempt that failed (1 for the first). */
  attempt: number;
  /** How long the client waits before the next attempt. */
  delayMs: number;
  /** The answer or network failure that caused the retry. */
  cause: WhatsAppApiError | WhatsAppNetworkError;
  action: string | undefined;
  callId: string | undefined;
}

export interface TransportOptions {
  fetch: (request: Request) => Promise<Response>;
  /** Path of the versioned base URL (`/v23.0`), to find the operation a request is for. */
  basePath: string;
  timeoutMs: number;
  retry: Required<RetryOptions> | false;
  onRetry?: ((info: RetryInfo) => void) | undefined;
  refreshAccessToken?: (() => Promise<string>) | undefined;
  logger?: Logger | undefined;
  /** Called with the token a refresh produced (a string token source is replaced by it; a function is kept). */
  onTokenRefreshed: (token: string) => void;
  /** The token source as it is now, for requests that were not given a token at their start. */
  currentTokenSource: () => AccessTokenSource;
}

/** Per-request settings, fixed when the request starts. */
export interface SendContext {
  /** The token read when the request started (a rotation later does not change it). */
  token: Promise<string>;
  /** Refresh generation when the token was read. */
  generation: number;
  timeoutMs?: number | undefined;
  /**
   * What must never reach an error: the token and the secrets of the request body (the ICE passwords of an SDP).
   * Filled in by `send`, so that an answer that quotes the request cannot carry them into an error.
   */
  secrets: string[];
}

interface RequestDescription {
  action: string | undefined;
  callId: string | undefined;
  operation: OperationInfo | undefined;
  idempotent: boolean;
  path: string;
}

const OPERATION_MATCHERS = OPERATIONS.map((operation) => ({
  operation,
  pattern: new RegExp(`^${operation.path.replace(/\{[^}]+\}/g, "[^/]+")}/?$`),
}));

/** Reads a token source once: the string, or the function's result. Errors become WhatsAppTokenError. */
export function readToken(source: AccessTokenSource): Promise<string> {
  try {
    const value = typeof source === "function" ? source() : source;
    return Promise.resolve(value).then(checkToken, (cause: unknown) => {
      throw new WhatsAppTokenError("The accessToken function failed", { cause: describeTokenFailure(cause) });
    });
  } catch (cause) {
    return Promise.reject(new WhatsAppTokenError("The accessToken function failed", { cause: describeTokenFailure(cause) }));
  }
}

// The failure of a user's token function may carry the token in its message; keep only its name.
function describeTokenFailure(cause: unknown): Error {
  return new Error(cause instanceof Error ? `${cause.name} thrown by the token function` : "non-Error thrown by the token function");
}

function checkToken(token: unknown): string {
  if (typeof token !== "string" || token.length === 0) {
    throw new WhatsAppTokenError(`The access token must be a non-empty string, got ${token === "" ? "an empty string" : typeof token}`);
  }
  // Control characters or spaces would make the Authorization header invalid, and fetch's error would quote it.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new WhatsAppTokenError("The access token contains spaces, line breaks or non-ASCII characters");
  }
  return token;
}

export class Transport {
  private generation = 0;
  private refreshing: Promise<string> | undefined;
  /**
   * The token the last refresh replaced, and its replacement. A token function may go on returning the rejected
   * token for a while (a cache, a vault not yet rotated); the replacement is sent instead until it returns
   * another one.
   */
  private replaced: { rejected: string; replacement: string } | undefined;

  constructor(private readonly options: TransportOptions) {}

  /** A context for a request that starts now, with the token as it is now. */
  startContext(timeoutMs?: number): SendContext {
    return { token: this.currentToken(), generation: this.generation, timeoutMs, secrets: [] };
  }

  private currentToken(): Promise<string> {
    return readToken(this.options.currentTokenSource()).then((token) =>
      this.replaced && token === this.replaced.rejected ? this.replaced.replacement : token,
    );
  }

  /** The fetch given to openapi-fetch for requests made through `raw`. */
  readonly fetchForRaw = (request: Request): Promise<Response> => this.send(request, this.startContext());

  async send(request: Request, context: SendContext): Promise<Response> {
    const started = Date.now();
    const timeoutMs = context.timeoutMs ?? this.options.timeoutMs;
    const callerSignal = request.signal;
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined;
    const requestJson = parseJson(body);
    const description = describeRequest(request, requestJson, this.options.basePath);
    context.secrets.push(...bodySecrets(requestJson));
    const summary = { action: description.action, callId: description.callId, method: request.method, path: description.path };

    const deadline = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      deadline.abort(new WhatsAppTimeoutError({ timeoutMs, ...summary }));
    }, timeoutMs);
    const onCallerAbort = () => deadline.abort(callerSignal.reason);
    if (callerSignal.aborted) onCallerAbort();
    else callerSignal.addEventListener("abort", onCallerAbort, { once: true });

    const retry = this.options.retry && description.idempotent ? this.options.retry : undefined;
    let token = "";
    let generation = context.generation;
    let refreshed = false;
    let attempt = 0;

    const abortError = (attemptNumber: number, cause?: unknown): unknown =>
      timedOut
        ? new WhatsAppTimeoutError({
            timeoutMs,
            ...summary,
            attempt: attemptNumber,
            // The deadline's own reason says nothing more than the error itself.
            cause: cause instanceof WhatsAppTimeoutError ? undefined : cause,
          })
        : callerSignal.reason;

    try {
      token = await raceAbort(context.token, deadline.signal).catch((error: unknown) => {
        throw deadline.signal.aborted ? abortError(1) : error;
      });
      context.secrets.push(token);
      for (;;) {
        attempt += 1;
        const attemptStarted = Date.now();
        let response: Response;
        let answer: ParsedJson;
        try {
          const headers = new Headers(request.headers);
          headers.set("Authorization", `Bearer ${token}`);
          const outgoing = new Request(request.url, { method: request.method, headers, body, signal: deadline.signal });
          // fetch(outgoing) copies it into a Request that follows outgoing.signal through a weak link: once
          // `outgoing` is garbage collected, the deadline no longer aborts the fetch (nodejs/undici#4068). So
          // `outgoing` is kept reachable until the body is read, and both steps are raced against the deadline,
          // which also holds a custom fetch that ignores the signal given to it.
          const sent = await raceAbort(this.options.fetch(outgoing), deadline.signal);
          // Read the whole (small, JSON) body under the deadline, so a server that stalls after the headers
          // cannot hang the caller while openapi-fetch reads it.
          const bytes = await raceAbort(sent.arrayBuffer(), deadline.signal).finally(() => void outgoing);
          answer = parseJson(new Uint8Array(bytes));
          response = new Response(bytes.byteLength > 0 ? bytes : null, {
            status: sent.status,
            statusText: sent.statusText,
            headers: sent.headers,
          });
        } catch (error) {
          if (deadline.signal.aborted) throw abortError(attempt, error);
          if (error instanceof WhatsAppError) throw error;
          const failure = new WhatsAppNetworkError({ cause: error, ...summary, attempt });
          const delayMs = retry && this.retryDelay(retry, attempt, undefined, started, timeoutMs);
          if (delayMs === undefined || delayMs === false) {
            log(this.options.logger, "error", `whatsapp-calling: ${label(summary)} failed without an answer`, {
              ...summary,
              attempt,
              durationMs: Date.now() - started,
            });
            throw failure;
          }
          await this.beforeRetry(failure, attempt, delayMs, summary, deadline.signal, () => abortError(attempt));
          continue;
        }

        const details = { ...summary, status: response.status, attempt, durationMs: Date.now() - attemptStarted };
        if (response.ok && answer.present && !answer.valid) {
          throw new WhatsAppResponseError(
            `Graph API answered HTTP ${response.status}${summary.action ? ` on ${summary.action}` : ""} with a body that is not JSON`,
            { status: response.status, ...summary, attempt },
          );
        }
        if (response.ok) {
          log(this.options.logger, "info", `whatsapp-calling: ${label(summary)} → ${response.status}`, {
            ...details,
            durationMs: Date.now() - started,
          });
          return response;
        }

        const errorBody =
          answer.valid && answer.value !== null && typeof answer.value === "object"
            ? (answer.value as { error?: { code?: unknown } })
            : undefined;
        const code = errorBody?.error?.code;
        const apiError = () =>
          new WhatsAppApiError({
            status: response.status,
            body: redactSecrets(errorBody, context.secrets),
            retryAfterSeconds: retryAfterMs(response.headers) === undefined ? undefined : retryAfterMs(response.headers)! / 1000,
            ...summary,
            attempt,
          });

        if (
          response.status === 401 &&
          !refreshed &&
          this.options.refreshAccessToken &&
          typeof code === "number" &&
          lookupErrorCode(code).tokenRefresh
        ) {
          refreshed = true;
          const original = apiError();
          log(this.options.logger, "warn", `whatsapp-calling: ${label(summary)} → 401 (code ${code}); refreshing the access token`, details);
          try {
            token = await raceAbort(this.refreshedToken(generation, token), deadline.signal);
          } catch (error) {
            if (deadline.signal.aborted) throw abortError(attempt, error);
            const failure = new WhatsAppTokenError("Refreshing the access token failed; the request was not repeated", {
              cause: original,
            });
            throw failure;
          }
          context.secrets.push(token);
          generation = this.generation;
          continue;
        }

        const retryable = response.status === 429 || response.status >= 500;
        const knownNotRetryable = typeof code === "number" && lookupErrorCode(code).category !== "unknown" && !lookupErrorCode(code).retryable;
        if (retry && retryable && !knownNotRetryable) {
          const delayMs = this.retryDelay(retry, attempt, retryAfterMs(response.headers), started, timeoutMs);
          if (delayMs !== false) {
            await this.beforeRetry(apiError(), attempt, delayMs, summary, deadline.signal, () => abortError(attempt));
            continue;
          }
        }
        log(this.options.logger, "warn", `whatsapp-calling: ${label(summary)} → ${response.status}${code === undefined ? "" : ` (code ${code})`}`, {
          ...details,
          code,
          durationMs: Date.now() - started,
        });
        return response;
      }
    } finally {
      clearTimeout(timer);
      callerSignal.removeEventListener("abort", onCallerAbort);
    }
  }

  /** Backoff with full jitter, or the server's Retry-After; false when no attempt is left or the deadline is too near. */
  private retryDelay(
    retry: Required<RetryOptions>,
    attempt: number,
    retryAfter: number | undefined,
    started: number,
    timeoutMs: number,
  ): number | false {
    if (attempt > retry.retries) return false;
    const ceiling = Math.min(retry.maxDelayMs, retry.minDelayMs * 2 ** (attempt - 1));
    const delayMs = retryAfter ?? Math.round(Math.random() * ceiling);
    const remaining = timeoutMs - (Date.now() - started);
    // A retry that could not get an answer before the deadline only turns a real answer into a timeout.
    if (delayMs >= remaining - 1) return false;
    return delayMs;
  }

  private async beforeRetry(
    cause: WhatsAppApiError | WhatsAppNetworkError,
    attempt: number,
    delayMs: number,
    summary: { action: string | undefined; callId: string | undefined },
    signal: AbortSignal,
    onAbort: () => unknown,
  ) {
    log(this.options.logger, "warn", `whatsapp-calling: ${label(summary)} attempt ${attempt} failed; retrying in ${delayMs} ms`, {
      ...summary,
      attempt,
      delayMs,
      status: cause instanceof WhatsAppApiError ? cause.status : undefined,
      code: cause instanceof WhatsAppApiError ? cause.code : undefined,
    });
    try {
      this.options.onRetry?.({ attempt, delayMs, cause, action: summary.action, callId: summary.callId });
    } catch {
      // onRetry is an observer; its failure must not change the request.
    }
    await sleep(delayMs, signal).catch(() => {
      throw onAbort();
    });
  }

  /**
   * One refresh for all requests in flight: a request whose token is older than the last refresh takes the
   * refreshed token; otherwise it joins the refresh under way or starts one.
   */
  private refreshedToken(seenGeneration: number, rejected: string): Promise<string> {
    if (this.generation > seenGeneration) return this.currentToken();
    if (!this.refreshing) {
      const refresh = this.options.refreshAccessToken!;
      this.refreshing = (async () => {
        const token = checkToken(await refresh());
        this.replaced = { rejected, replacement: token };
        this.generation += 1;
        this.options.onTokenRefreshed(token);
        return token;
      })().finally(() => {
        this.refreshing = undefined;
      });
    }
    return this.refreshing;
  }

  get refreshGeneration() {
    return this.generation;
  }
}

function label(summary: { action: string | undefined; method?: string; path?: string }) {
  return summary.action ?? `${summary.method} ${summary.path}`;
}

/** A body read once: whether there was one, and its JSON when it parses. */
interface ParsedJson {
  present: boolean;
  valid: boolean;
  value?: unknown;
}

function parseJson(bytes: Uint8Array | undefined): ParsedJson {
  if (!bytes || bytes.byteLength === 0) return { present: false, valid: false };
  try {
    return { present: true, valid: true, value: JSON.parse(new TextDecoder().decode(bytes)) };
  } catch {
    return { present: true, valid: false };
  }
}

function describeRequest(request: Request, body: ParsedJson, basePath: string): RequestDescription {
  const pathname = new URL(request.url).pathname;
  const path = pathname.startsWith(basePath) ? pathname.slice(basePath.length) : pathname;
  const operation = OPERATION_MATCHERS.find(
    ({ operation: candidate, pattern }) => candidate.method === request.method && pattern.test(path),
  )?.operation;
  let action = operation?.operationId;
  let callId: string | undefined;
  let idempotent = operation ? operation.idempotent : request.method === "GET";
  if (operation?.operationId === "manageCall" && body.present) {
    // A body that cannot be read as an action is treated as one that must not be repeated.
    const parsed = body.value !== null && typeof body.value === "object" ? (body.value as { action?: unknown; call_id?: unknown }) : undefined;
    if (typeof parsed?.action === "string") action = parsed.action;
    if (typeof parsed?.call_id === "string") callId = parsed.call_id;
    idempotent = parsed !== undefined && !NON_IDEMPOTENT_CALL_ACTIONS.some((name) => name === parsed.action);
  }
  return { action, callId, operation, idempotent, path };
}

/**
 * The parts of a request body that are secret: the ICE passwords of an SDP, and the SDP itself as sent (raw and
 * JSON-escaped), since a server may quote any of them back in an error.
 */
function bodySecrets(body: ParsedJson): string[] {
  const value = body.value as { session?: { sdp?: unknown } } | null | undefined;
  const sdp = value !== null && typeof value === "object" ? value.session?.sdp : undefined;
  if (typeof sdp !== "string") return [];
  const icePasswords = [...sdp.matchAll(/a=ice-pwd:([^\r\n]+)/g)].map((match) => match[1]!.trim());
  return [sdp, JSON.stringify(sdp).slice(1, -1), ...icePasswords];
}

/** `Retry-After` in milliseconds, from seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Settles with the promise, or rejects with the signal's reason as soon as it aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
