// The failures that only media has. Graph answers (getMediaUrl, deleteMedia, the upload) and a download
// answered with another error status stay WhatsAppApiError; deadlines and lost connections stay
// WhatsAppTimeoutError and WhatsAppNetworkError.
import { WhatsAppError } from "../errors.js";

/** The downloaded bytes do not have the SHA-256 that the webhook or the Media API gave. */
export class WhatsAppChecksumError extends WhatsAppError {
  static override name = "WhatsAppChecksumError";
  /** The digest the download was checked against, as given. */
  readonly expected: string;
  /** The digest of the bytes received, in the same encoding (hex or Base64) as `expected`. */
  readonly actual: string;
  readonly mediaId: string | undefined;
  /** Bytes received. */
  readonly size: number;
  constructor(init: { expected: string; actual: string; mediaId?: string | undefined; size: number }) {
    super(
      `Media${init.mediaId ? ` ${init.mediaId}` : ""} failed its checksum: SHA-256 of the ${init.size} bytes received is ` +
        `${init.actual}, expected ${init.expected}`,
    );
    this.expected = init.expected;
    this.actual = init.actual;
    this.mediaId = init.mediaId;
    this.size = init.size;
  }
}

/** The media is larger than the download's `maxBytes`; reading stopped at the cap. */
export class WhatsAppMediaTooLargeError extends WhatsAppError {
  static override name = "WhatsAppMediaTooLargeError";
  readonly maxBytes: number;
  /** The size Meta announced (file_size or Content-Length), or the bytes read when reading stopped. */
  readonly size: number;
  readonly mediaId: string | undefined;
  constructor(init: { maxBytes: number; size: number; announced: boolean; mediaId?: string | undefined }) {
    super(
      `Media${init.mediaId ? ` ${init.mediaId}` : ""} is larger than maxBytes (${init.maxBytes}): ` +
        (init.announced ? `${init.size} bytes announced` : `more than ${init.maxBytes} bytes sent`) +
        "; raise maxBytes to download it",
    );
    this.maxBytes = init.maxBytes;
    this.size = init.size;
    this.mediaId = init.mediaId;
  }
}

/**
 * The media cannot be had any more. Either its download URL answered 403, 404 or 410 (a media URL lives 5
 * minutes) and a fresh one from `GET /{media-id}` was refused too, or no media id was known to ask for one; or
 * `GET /{media-id}` answered Graph's "no such object" (code 100, subcode 33): the id expired (7 days after its
 * webhook) or the media was deleted. Then `cause` is that WhatsAppApiError.
 */
export class WhatsAppMediaExpiredError extends WhatsAppError {
  static override name = "WhatsAppMediaExpiredError";
  /** HTTP status of the last answer. */
  readonly status: number;
  readonly mediaId: string | undefined;
  /** Whether a fresh URL was fetched before giving up. */
  readonly refreshed: boolean;
  constructor(init: { status: number; mediaId?: string | undefined; refreshed: boolean; cause?: unknown }) {
    super(
      init.cause !== undefined
        ? `Media ${init.mediaId} is gone (HTTP ${init.status}, code 100/33: no such object): expired 7 days after its webhook, or deleted`
        : init.refreshed
          ? `Media ${init.mediaId} could not be downloaded: HTTP ${init.status} on its URL, and again on a fresh URL`
          : `The media URL answered HTTP ${init.status} (a media URL is valid for 5 minutes); pass the media id ` +
            "(mediaId, or a webhook media object with its id) to get a fresh URL automatically",
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.status = init.status;
    this.mediaId = init.mediaId;
    this.refreshed = init.refreshed;
  }
}
