// Media URLs, downloads and deletion. A download streams: the bytes are counted against `maxBytes` and hashed
// as they pass, and the stream ends with an error instead of `done` when the cap is passed or the checksum is
// wrong. A media URL lives 5 minutes; an expired one is replaced once by a fresh URL from the media id.
import { MEDIA_ID_PATTERN } from "../../generated/api-version.js";
import type { MediaUrlResponse, SuccessResponse, WebhookMedia } from "../../generated/openapi.js";
import { WhatsAppValidationError, type RequestContext } from "../errors.js";
import { WhatsAppApiError, WhatsAppNetworkError, WhatsAppResponseError } from "../client/errors.js";
import type { CallingClient } from "../client.js";
import { clientContext, type ClientContext } from "../client/context.js";
import { concatBytes } from "../webhooks/bytes.js";
import { dispose, within, type AbortableDeadline } from "../client/deadline.js";
import { ENDPOINTS } from "../../generated/operations.js";
import { apiError, exchange, type Answer } from "../transport.js";
import { checkMediaId, graphJson, startDeadline, type MediaRequestOptions } from "./context.js";
import { WhatsAppChecksumError, WhatsAppMediaExpiredError, WhatsAppMediaTooLargeError } from "./errors.js";
import { Sha256, decodeDigest, encodeDigestLike, sameDigest } from "./sha256.js";

/** Default `maxBytes` of a download: 100 MiB, Meta's largest media size (documents); recordings are far smaller. */
export const DEFAULT_MEDIA_MAX_BYTES = 100 * 1024 * 1024;

/** Answers of a media URL that mean "this URL expired": worth one fresh URL by media id. */
const EXPIRED_STATUSES = new Set([403, 404, 410]);

/**
 * What a download starts from: a media id (a string of digits, or a number, as a webhook may send it), a media
 * URL, or a webhook's media object (`call_recording.audio`, `call_transcript.document`, a voicemail's `audio`) or
 * a `getMediaUrl` answer, whose `id`, `url` and `sha256` are used. A number is taken as its digits.
 */
export type MediaSource = string | number | WebhookMedia | Partial<Pick<MediaUrlResponse, "id" | "url" | "sha256">>;

export interface GetMediaUrlOptions extends MediaRequestOptions {
  /** Serve the URL only if the media belongs to this business number (`phone_number_id`). */
  phoneNumberId?: string | undefined;
}

export interface DownloadMediaOptions extends GetMediaUrlOptions {
  /**
   * The SHA-256 to check the bytes against, Base64 (webhooks) or hex (Media API). Default: the source's
   * `sha256`, else the one `getMediaUrl` answers. A mismatch ends the stream with WhatsAppChecksumError.
   */
  sha256?: string | undefined;
  /** Largest download accepted, in bytes. Default DEFAULT_MEDIA_MAX_BYTES (100 MiB). */
  maxBytes?: number | undefined;
  /** The media id when the source is a bare URL, so that an expired URL can be replaced. */
  mediaId?: string | undefined;
}

export interface MediaDownload {
  /**
   * The bytes as they arrive. It errors with WhatsAppMediaTooLargeError past `maxBytes`, with
   * WhatsAppChecksumError at the end when the digest is wrong, and with the deadline's or the caller's reason;
   * act on the content only once it has closed. Cancel it to stop the download.
   */
  body: ReadableStream<Uint8Array>;
  /** The `Content-Type` of the answer, e.g. `audio/ogg; codecs=opus`. */
  mimeType: string | undefined;
  /** The `Content-Length` of the answer, when it has one. */
  size: number | undefined;
  mediaId: string | undefined;
  /** Whether the digest is checked at the end (false when neither the caller nor Meta gave one). */
  verified: boolean;
  /** Reads the whole body (checked as `body` is) into one array (over an ArrayBuffer: a `BlobPart`). */
  bytes(): Promise<Uint8Array<ArrayBuffer>>;
}

/** `GET /{media-id}`: the media's metadata and a download URL valid for 5 minutes. A webhook's numeric id is taken as its digits. */
export async function getMediaUrl(calls: CallingClient, mediaId: string | number, options?: GetMediaUrlOptions): Promise<MediaUrlResponse> {
  const context = clientContext(calls);
  const id = checkMediaId(mediaId);
  const phoneNumberId = options?.phoneNumberId === undefined ? undefined : checkMediaId(options.phoneNumberId, "phoneNumberId");
  const query = phoneNumberId === undefined ? "" : `?phone_number_id=${phoneNumberId}`;
  const data = (await graphJson(context, { endpoint: "getMediaUrl", path: `/${id}`, query, action: "getMediaUrl" }, options)) as Partial<MediaUrlResponse>;
  if (typeof data.url !== "string" || data.url.length === 0) {
    throw new WhatsAppResponseError("getMediaUrl succeeded but the answer has no url", { status: 200, action: "getMediaUrl" });
  }
  return data as MediaUrlResponse;
}

/** `DELETE /{media-id}`. */
export async function deleteMedia(calls: CallingClient, mediaId: string | number, options?: MediaRequestOptions): Promise<SuccessResponse> {
  const context = clientContext(calls);
  const id = checkMediaId(mediaId);
  return (await graphJson(context, { endpoint: "deleteMedia", path: `/${id}`, action: "deleteMedia" }, options)) as SuccessResponse;
}

/**
 * Downloads a media object with the Bearer token. Resolves when the answer's headers are in; the bytes stream
 * through `body` (or `bytes()`), under one deadline that runs until the last byte.
 */
export async function downloadMedia(calls: CallingClient, source: MediaSource, options: DownloadMediaOptions = {}): Promise<MediaDownload> {
  const context = clientContext(calls);
  const start = describeSource(source, options);
  const maxBytes = checkMaxBytes(options.maxBytes);
  const deadline = startDeadline(context, options, "downloadMedia");
  const begun = Date.now();
  let handedOver = false;
  try {
    let { url, mediaId } = start;
    let expected = start.sha256;
    let refreshed = false;
    const refresh = async (id: string) => {
      const fresh = await getMediaUrl(calls, id, { ...options, signal: deadline.signal, timeoutMs: deadline.timeoutMs }).catch((error: unknown) => {
        // Graph's "no such object": the id expired or the media was deleted. Any other failure is what it is.
        if (error instanceof WhatsAppApiError && error.code === 100 && error.subcode === 33) {
          throw new WhatsAppMediaExpiredError({ status: error.status, mediaId: id, refreshed, cause: error });
        }
        throw error;
      });
      checkAnnouncedSize(fresh.file_size, maxBytes, id);
      expected ??= fresh.sha256 === undefined ? undefined : checkDigest(fresh.sha256, "sha256 of getMediaUrl");
      return fresh.url;
    };
    if (url === undefined) url = await refresh(mediaId!);
    for (;;) {
      const target = checkDownloadUrl(url, context.baseUrl);
      const summary: DownloadSummary = { action: "downloadMedia", method: "GET", path: new URL(target).pathname };
      const answer = await fetchMedia(context, target, summary.path, deadline, deadline.timeoutMs - (Date.now() - begun));
      if (EXPIRED_STATUSES.has(answer.status)) {
        if (mediaId === undefined || refreshed) throw new WhatsAppMediaExpiredError({ status: answer.status, mediaId, refreshed });
        refreshed = true;
        url = await refresh(mediaId);
        continue;
      }
      const { response } = answer;
      if (!response) throw apiError(answer, "downloadMedia", undefined);
      const size = contentLength(response.headers);
      if (size !== undefined && size > maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw new WhatsAppMediaTooLargeError({ maxBytes, size, announced: true, mediaId });
      }
      const body = checkedStream(response.body, { maxBytes, expected, mediaId, deadline, summary });
      handedOver = true;
      return {
        body,
        mimeType: response.headers.get("content-type") ?? undefined,
        size,
        mediaId,
        verified: expected !== undefined,
        bytes: () => collect(body),
      };
    }
  } finally {
    // Once the stream is handed over, it ends the deadline itself, at its last byte.
    if (!handedOver) dispose(deadline);
  }
}

/** The bytes of a media object, read to the end and checked: `downloadMedia` then `bytes()`. */
export async function downloadMediaBytes(calls: CallingClient, source: MediaSource, options?: DownloadMediaOptions): Promise<Uint8Array<ArrayBuffer>> {
  return (await downloadMedia(calls, source, options)).bytes();
}

/** Where a download is, for log lines and errors: never its query string (Meta's signature). */
type DownloadSummary = Required<Pick<RequestContext, "action" | "method" | "path">>;

/**
 * One GET of a media URL on the client's request path, as its methods send: the token (refreshed after a 401 with
 * a token code), retries of 429, 5xx and lost connections, the hooks, the log, no redirect followed (it would carry
 * the token to wherever it points). Under the download's deadline; a 2xx answer comes back with its body unread.
 */
function fetchMedia(context: ClientContext, url: string, path: string, deadline: AbortableDeadline, remainingMs: number): Promise<Answer> {
  const { method, retry } = ENDPOINTS.downloadMedia;
  const out = { method, url, path, body: undefined, action: "downloadMedia", callId: undefined, retry };
  // What is left of the download's deadline, so that no retry is waited for that could not finish in time.
  return exchange(context.transport, out, undefined, remainingMs, deadline);
}

interface ExpectedDigest {
  text: string;
  bytes: Uint8Array;
}

function describeSource(
  source: MediaSource,
  options: DownloadMediaOptions,
): { url: string | undefined; mediaId: string | undefined; sha256: ExpectedDigest | undefined } {
  let url: string | undefined;
  let mediaId = options.mediaId === undefined ? undefined : checkMediaId(options.mediaId);
  let sha256 = options.sha256;
  if (typeof source === "string") {
    if (MEDIA_ID_PATTERN.test(source)) mediaId = source;
    else if (/^https?:\/\//i.test(source)) url = source;
    else throw new WhatsAppValidationError("downloadMedia takes a media id (digits), a media URL or a webhook media object", { path: "source" });
  } else if (typeof source === "number") {
    mediaId = checkMediaId(source, "source");
  } else if (source !== null && typeof source === "object") {
    if (source.id !== undefined) mediaId = checkMediaId(source.id, "source.id");
    if (source.url !== undefined) url = source.url;
    sha256 ??= source.sha256;
  } else {
    throw new WhatsAppValidationError("downloadMedia takes a media id (digits), a media URL or a webhook media object", { path: "source" });
  }
  if (url === undefined && mediaId === undefined) {
    throw new WhatsAppValidationError("downloadMedia needs a media id or a media URL", { path: "source" });
  }
  return { url, mediaId, sha256: sha256 === undefined ? undefined : checkDigest(sha256, "sha256") };
}

function checkDigest(text: unknown, path: string): ExpectedDigest {
  const bytes = typeof text === "string" ? decodeDigest(text) : undefined;
  if (!bytes) throw new WhatsAppValidationError(`${path} must be a SHA-256 digest in Base64 or hex`, { path: "sha256" });
  return { text: text as string, bytes };
}

function checkMaxBytes(maxBytes: unknown): number {
  if (maxBytes === undefined) return DEFAULT_MEDIA_MAX_BYTES;
  if (typeof maxBytes !== "number" || !Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new WhatsAppValidationError("maxBytes must be a whole number of bytes above 0", { path: "maxBytes" });
  }
  return maxBytes;
}

function checkAnnouncedSize(fileSize: unknown, maxBytes: number, mediaId: string) {
  const size = typeof fileSize === "number" ? fileSize : typeof fileSize === "string" && /^[0-9]+$/.test(fileSize) ? Number(fileSize) : undefined;
  if (size !== undefined && size > maxBytes) throw new WhatsAppMediaTooLargeError({ maxBytes, size, announced: true, mediaId });
}

/**
 * The token goes only where it cannot be read on the way: https, the client's own Graph origin (a sandbox),
 * or this machine.
 */
function checkDownloadUrl(url: string, graphBaseUrl: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WhatsAppValidationError("the media URL is not an absolute URL", { path: "url" });
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
  const graphOrigin = new URL(graphBaseUrl).origin;
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && (loopback || parsed.origin === graphOrigin))) {
    throw new WhatsAppValidationError(
      `refusing to send the access token to a ${parsed.protocol} URL on ${parsed.host}: media URLs are https`,
      { path: "url" },
    );
  }
  return parsed.href;
}

function contentLength(headers: Headers): number | undefined {
  const value = headers.get("content-length");
  return value !== null && /^[0-9]+$/.test(value.trim()) ? Number(value) : undefined;
}

/**
 * The answer's body, read only as fast as the consumer pulls: counted against the cap, hashed, and ended with
 * an error when either check fails. The deadline ends with the stream, however it ends.
 */
function checkedStream(
  upstream: ReadableStream<Uint8Array> | null,
  check: { maxBytes: number; expected: ExpectedDigest | undefined; mediaId: string | undefined; deadline: AbortableDeadline; summary: DownloadSummary },
): ReadableStream<Uint8Array> {
  const reader = upstream?.getReader();
  const hash = check.expected ? new Sha256() : undefined;
  let received = 0;
  const { deadline } = check;
  let settled = false;
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, error: unknown) => {
    if (settled) return;
    settled = true;
    dispose(deadline);
    void reader?.cancel(error).catch(() => undefined);
    controller.error(error);
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        // An abort or the deadline ends the download at once, also while nobody is reading.
        deadline.signal.addEventListener("abort", () => fail(controller, deadline.signal.reason), { once: true });
      },
      async pull(controller) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = reader ? await within(deadline, reader.read()) : { done: true, value: undefined };
        } catch (error) {
          return fail(
            controller,
            deadline.signal.aborted ? deadline.signal.reason : new WhatsAppNetworkError({ cause: error, ...check.summary }),
          );
        }
        if (chunk.done) {
          if (hash && check.expected) {
            const actual = hash.digest();
            if (!sameDigest(actual, check.expected.bytes)) {
              return fail(
                controller,
                new WhatsAppChecksumError({
                  expected: check.expected.text,
                  actual: encodeDigestLike(actual, check.expected.text),
                  mediaId: check.mediaId,
                  size: received,
                }),
              );
            }
          }
          settled = true;
          dispose(deadline);
          controller.close();
          return;
        }
        received += chunk.value.byteLength;
        if (received > check.maxBytes) {
          return fail(controller, new WhatsAppMediaTooLargeError({ maxBytes: check.maxBytes, size: received, announced: false, mediaId: check.mediaId }));
        }
        hash?.update(chunk.value);
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        settled = true;
        dispose(deadline);
        return reader?.cancel(reason);
      },
    },
    // Nothing is read ahead of the consumer: a download past the cap, or cancelled, stops at once.
    { highWaterMark: 0 },
  );
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concatBytes(chunks, length);
    chunks.push(value);
    length += value.byteLength;
  }
}
