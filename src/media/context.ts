// What the media functions do with a client's context (src/client/context.ts): its one request path (retries by
// the operation's rule, token refresh, hooks, redaction), for the Graph API calls and the downloads alike; a
// download streams, so it owns a deadline that outlives the request (transport.ts, `stream`).
import { MEDIA_ID_PATTERN } from "../../generated/api-version.js";
import { ENDPOINTS } from "../../generated/operations.js";
import type { ClientContext } from "../client/context.js";
import { startDeadline as start, type AbortableDeadline } from "../client/deadline.js";
import { checkTimeout } from "../client/options.js";
import { WhatsAppValidationError } from "../errors.js";
import { WhatsAppTimeoutError } from "../client/errors.js";
import { exchange, jsonObject } from "../transport.js";

/** Options every media method takes. */
export interface MediaRequestOptions {
  /** Aborts the operation; the promise (or the download's stream) rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** This operation's deadline instead of the client's `timeoutMs`. For a download it runs until the last byte. */
  timeoutMs?: number | undefined;
}

type MediaEndpoint = "getMediaUrl" | "deleteMedia" | "uploadMedia";

/**
 * One Graph API call on the client's request path: resolves with the 2xx answer as a JSON object, rejects with
 * WhatsAppApiError on any other status.
 */
export async function graphJson(
  context: ClientContext,
  request: { endpoint: MediaEndpoint; path: string; query?: string; body?: FormData; action: string },
  options: MediaRequestOptions | undefined,
): Promise<Record<string, unknown>> {
  const timeoutMs = checkTimeout(options?.timeoutMs, "timeoutMs") ?? context.timeoutMs;
  const { method, retry } = ENDPOINTS[request.endpoint];
  const { action, path } = request;
  const out = { method, url: context.baseUrl + path + (request.query ?? ""), path, body: request.body, action, callId: undefined, retry };
  return jsonObject(await exchange(context.transport, out, options?.signal, timeoutMs), action, undefined);
}

/**
 * The deadline of one download: its `signal` aborts with a WhatsAppTimeoutError when it passes and with the
 * caller's reason when the caller aborts. `dispose()` must be called when the download is over (its last byte,
 * or a failure).
 */
export function startDeadline(context: ClientContext, options: MediaRequestOptions | undefined, action: string): AbortableDeadline {
  const timeoutMs = checkTimeout(options?.timeoutMs, "timeoutMs") ?? context.timeoutMs;
  return start(timeoutMs, options?.signal, () => new WhatsAppTimeoutError({ timeoutMs, action }));
}

/** A media id as the Graph API writes it (digits, openapi.yaml's MediaId), checked before it becomes a path segment. */
export function checkMediaId(mediaId: unknown, path = "mediaId"): string {
  // A webhook may carry the id as a JSON number (the schema allows it); one past 2^53 lost digits in JSON.parse.
  if (typeof mediaId === "number" && Number.isInteger(mediaId) && mediaId >= 0) {
    if (Number.isSafeInteger(mediaId)) return String(mediaId);
    throw new WhatsAppValidationError(`${path} is a number too large to be exact (its digits were lost when the JSON was parsed); pass the id as a string`, { path });
  }
  if (typeof mediaId !== "string" || !MEDIA_ID_PATTERN.test(mediaId)) {
    throw new WhatsAppValidationError(
      `${path} must be a media id (a string of digits, e.g. the id of a webhook's media object), not a URL or a message id`,
      { path },
    );
  }
  return mediaId;
}
