// The errors of the request path, which the client and whatsapp-calling/media throw: what Graph answered, or that
// it did not. WhatsAppApiError reads the code catalogue of openapi.yaml (generated/error-catalogue.ts).
import { ERROR_CATALOGUE, ERROR_HANDLING, type ErrorCatalogueEntry, type ErrorCategory } from "../../generated/error-catalogue.js";
import type { GraphErrorResponse } from "../../generated/openapi.js";
import { WhatsAppError, type RequestContext } from "../errors.js";

export type { ErrorCategory, ErrorCatalogueEntry };
export { ERROR_CATALOGUE };

/**
 * How a Graph error code is handled (the catalogue's category, retryable, tokenRefresh), or as an `unknown` one.
 * The client reads this rather than ERROR_CATALOGUE, so that it does not carry the catalogue's texts.
 */
export function errorHandling(code: number | undefined): Pick<ErrorCatalogueEntry, "category" | "retryable" | "tokenRefresh"> {
  const [category, retryable, tokenRefresh] = ERROR_HANDLING.find((row) => row[3].includes(code!)) ?? ["unknown", false, false];
  return { category, retryable, tokenRefresh };
}

/** The code catalogue's entry for a Graph error code, or an `unknown` one. */
export function lookupErrorCode(code: number | undefined): ErrorCatalogueEntry {
  const entry = code === undefined ? undefined : ERROR_CATALOGUE[code];
  return (
    entry ?? {
      title: "Unknown error",
      category: "unknown",
      retryable: false,
      tokenRefresh: false,
      description: "This code is not in the catalogue of openapi.yaml.",
    }
  );
}

type GraphErrorBody = GraphErrorResponse["error"];

/**
 * The Graph API answered with a non-2xx status. The fields come from Meta's error envelope; the message names
 * the code and Meta's text and never contains the access token.
 */
export class WhatsAppApiError extends WhatsAppError {
  static override name = "WhatsAppApiError";
  /** HTTP status of the answer. */
  readonly status: number;
  /** Graph error code (`error.code`), e.g. 190 or 138006; undefined when the body was not a Graph error. */
  readonly code: number | undefined;
  /** `error.error_subcode` (deprecated by Meta, still sent on some errors). */
  readonly subcode: number | undefined;
  /** `error.type`, e.g. OAuthException. */
  readonly type: string | undefined;
  /** `error.error_data.details`: Meta's most useful description. */
  readonly details: string | undefined;
  /** `error.fbtrace_id`: quote it to Meta's support. */
  readonly fbtraceId: string | undefined;
  /** `error.is_transient` as sent by Meta. */
  readonly isTransient: boolean;
  /** The parsed error envelope, or the raw text when the body was not JSON (undefined when empty). */
  readonly body: GraphErrorResponse | string | undefined;
  /** From the error-code catalogue of openapi.yaml. */
  readonly category: ErrorCategory;
  /**
   * Whether repeating the request later can succeed (catalogue, then `is_transient`, then the HTTP status); not
   * whether it is safe: a `connect` or message send that failed this way may have placed the call or sent the
   * message, which is why the client never repeats those (`action` says which request it was).
   */
  readonly retryable: boolean;
  readonly action: string | undefined;
  readonly callId: string | undefined;
  /** Seconds to wait, from a `Retry-After` header, when there was one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    init: {
      status: number;
      /** The answer's body: parsed JSON, text, or undefined when empty. */
      body: unknown;
      retryAfterSeconds?: number | undefined;
    } & RequestContext,
  ) {
    const body = asErrorBody(init.body);
    const error: Partial<GraphErrorBody> | undefined = typeof body === "object" ? body.error : undefined;
    const code = typeof error?.code === "number" ? error.code : undefined;
    const entry = errorHandling(code);
    const where = init.action ? ` on ${init.action}` : "";
    // Meta's own text; without one, the code says it (ERROR_CATALOGUE has its title, for those who import it).
    const text =
      code !== undefined
        ? `Graph API error ${code}${where} (HTTP ${init.status})${error?.message ? `: ${error.message}` : ""}` +
          (error?.error_data?.details ? ` — ${error.error_data.details}` : "")
        : init.status >= 300 && init.status < 400
          ? `Graph API answered HTTP ${init.status}${where}: a redirect, not followed (Graph does not redirect these calls)`
          : `Graph API answered HTTP ${init.status}${where} without a Graph error body` +
          (typeof body === "string" && body.length > 0 ? `: ${truncate(body, 200)}` : "");
    super(text);
    this.status = init.status;
    this.code = code;
    this.subcode = typeof error?.error_subcode === "number" ? error.error_subcode : undefined;
    this.type = typeof error?.type === "string" ? error.type : undefined;
    this.details = typeof error?.error_data?.details === "string" ? error.error_data.details : undefined;
    this.fbtraceId = typeof error?.fbtrace_id === "string" ? error.fbtrace_id : undefined;
    this.isTransient = error?.is_transient === true;
    this.body = body;
    this.category = code === undefined ? categoryFromStatus(init.status) : entry.category;
    this.retryable =
      code !== undefined && entry.category !== "unknown"
        ? entry.retryable
        : this.isTransient || init.status === 429 || init.status >= 500;
    this.action = init.action;
    this.callId = init.callId;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** A rate limit was hit (HTTP 429 or a rate-limit code). */
  isRateLimit(): boolean {
    return this.category === "rate_limit" || this.status === 429;
  }

  /** The access token is invalid or expired (code 190 and the other token codes): get a new one. */
  requiresTokenRefresh(): boolean {
    return errorHandling(this.code).tokenRefresh;
  }

  /** The token lacks a permission, or the account may not do this. */
  isPermissionError(): boolean {
    return this.category === "permission";
  }

  /** The catalogue puts the code in the `calling` category (most 138xxx codes; the limits among them are `rate_limit`). */
  isCallingError(): boolean {
    return this.category === "calling";
  }

  /** The user has not granted call permission (138006): send a call-permission request first. */
  isMissingCallPermission(): boolean {
    return this.code === 138006;
  }

  /** Every field but `body`: up to `maxResponseBytes` of the answer is too much for a log line. */
  override toJSON(): object {
    const { body: _body, ...fields } = super.toJSON() as Record<string, unknown>;
    return fields;
  }
}

/** A Graph error envelope as such; any other JSON as its text, so that nothing of the answer is lost. */
function asErrorBody(body: unknown): GraphErrorResponse | string | undefined {
  if (body === undefined || body === null || body === "") return undefined;
  if (typeof body === "string") return body;
  const error = (body as { error?: unknown }).error;
  if (typeof body === "object" && error !== null && typeof error === "object") return body as GraphErrorResponse;
  return JSON.stringify(body);
}

function categoryFromStatus(status: number): ErrorCategory {
  if (status === 401) return "auth";
  if (status === 403) return "permission";
  if (status === 429) return "rate_limit";
  if (status >= 500) return "server";
  if (status >= 400) return "invalid_request";
  return "unknown";
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * The Graph API answered 2xx with a body that is not what it documents: empty, not JSON, `"success": false`, or
 * without the id the call returns (`calls[0].id` of connect, `messages[0].id` of a send). Whether Meta acted on the
 * request is unknown.
 */
export class WhatsAppResponseError extends WhatsAppError {
  static override name = "WhatsAppResponseError";
  readonly status: number;
  readonly action: string | undefined;
  readonly callId: string | undefined;
  constructor(message: string, init: { status: number } & RequestContext) {
    super(message);
    this.status = init.status;
    this.action = init.action;
    this.callId = init.callId;
  }
}

/** The request outlived its deadline (`timeoutMs`). Nothing is known about whether Meta acted on it. */
export class WhatsAppTimeoutError extends WhatsAppError {
  static override name = "WhatsAppTimeoutError";
  readonly timeoutMs: number;
  readonly action: string | undefined;
  readonly callId: string | undefined;
  readonly attempt: number | undefined;
  constructor(init: { timeoutMs: number; cause?: unknown } & RequestContext) {
    super(
      `Request${init.action ? ` ${init.action}` : ""} timed out after ${init.timeoutMs} ms` +
        (init.attempt && init.attempt > 1 ? ` (attempt ${init.attempt})` : ""),
      { cause: init.cause },
    );
    this.timeoutMs = init.timeoutMs;
    this.action = init.action;
    this.callId = init.callId;
    this.attempt = init.attempt;
  }
}

/**
 * The request got no HTTP answer: DNS, connection refused or reset, TLS, or an aborted body. Its `cause` is a
 * redacted copy of the failure (name, message, `code`, causes), never the original: undici's errors keep the
 * URL or header they failed on, which a hostile upstream can fill with the token it was sent.
 */
export class WhatsAppNetworkError extends WhatsAppError {
  static override name = "WhatsAppNetworkError";
  readonly action: string | undefined;
  readonly callId: string | undefined;
  readonly attempt: number | undefined;
  constructor(init: { cause?: unknown; redact?: (text: string) => string } & RequestContext) {
    const cause = copyFailure(init.cause, init.redact ?? ((text) => text), 0);
    const reason = describeCause(cause);
    super(`Request${init.action ? ` ${init.action}` : ""} failed without an answer${reason ? `: ${reason}` : ""}`, { cause });
    this.action = init.action;
    this.callId = init.callId;
    this.attempt = init.attempt;
  }
}

/** A plain Error with the failure's name, redacted message, `code` and (three deep) causes, and no other field. */
function copyFailure(failure: unknown, redact: (text: string) => string, depth: number): Error | undefined {
  if (failure === undefined || depth > 3) return undefined;
  const source = (failure !== null && typeof failure === "object" ? failure : { message: String(failure) }) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    cause?: unknown;
  };
  const inner = copyFailure(source.cause, redact, depth + 1);
  const copy = new Error(redact(String(source.message ?? "")), inner ? { cause: inner } : undefined);
  copy.name = typeof source.name === "string" ? source.name : "Error";
  if (typeof source.code === "string" || typeof source.code === "number") Object.assign(copy, { code: redact(String(source.code)) });
  // The copy's own stack would point here and say nothing; the original's may quote the secret.
  copy.stack = `${copy.name}: ${copy.message}`;
  return copy;
}

/** undici's "fetch failed" says nothing by itself: its cause's code (ECONNREFUSED), or else its message ("bad port"). */
function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return "";
  const inner = (cause as { cause?: unknown }).cause;
  if (inner && typeof inner === "object" && "code" in inner) return `${cause.message} (${String((inner as { code: unknown }).code)})`;
  return inner instanceof Error && inner.message ? `${cause.message}: ${inner.message}` : cause.message;
}

/**
 * The answer was larger than `maxResponseBytes` (after decompression): it was not read further. Whether Meta
 * acted on the request is unknown.
 */
export class WhatsAppResponseTooLargeError extends WhatsAppError {
  static override name = "WhatsAppResponseTooLargeError";
  readonly status: number;
  readonly limitBytes: number;
  readonly action: string | undefined;
  readonly callId: string | undefined;
  constructor(init: { status: number; limitBytes: number } & RequestContext) {
    super(`Graph API answered HTTP ${init.status}${init.action ? ` on ${init.action}` : ""} with a body over the limit of ${init.limitBytes} bytes (maxResponseBytes)`);
    this.status = init.status;
    this.limitBytes = init.limitBytes;
    this.action = init.action;
    this.callId = init.callId;
  }
}

/** The access-token function (or `refreshAccessToken`) failed or gave something that is not a token. */
export class WhatsAppTokenError extends WhatsAppError {
  static override name = "WhatsAppTokenError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
