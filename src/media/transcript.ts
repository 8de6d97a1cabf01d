// A call transcript is a JSON document behind `call_transcript.document`: downloaded like any media (token,
// cap, checksum, expiry), then parsed into the TranscriptDocument type of openapi.yaml.
import type { TranscriptDocument } from "../../generated/openapi.js";
import { WhatsAppResponseError } from "../client/errors.js";
import type { CallingClient } from "../client.js";
import { downloadMedia, type DownloadMediaOptions, type MediaSource } from "./download.js";

/** Downloads a transcript (a media id, URL or the webhook's `call_transcript.document`) and parses it. */
export async function fetchTranscript(
  calls: CallingClient,
  source: MediaSource,
  options?: DownloadMediaOptions,
): Promise<TranscriptDocument> {
  const download = await downloadMedia(calls, source, options);
  const bytes = await download.bytes();
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new WhatsAppResponseError(`The transcript${download.mediaId ? ` ${download.mediaId}` : ""} is not JSON (${bytes.byteLength} bytes, ${download.mimeType ?? "no content type"})`, {
      status: 200,
      action: "fetchTranscript",
    });
  }
  // Only what makes it a transcript is required (openapi.yaml: TranscriptDocument); other fields pass as sent.
  const transcript = (document as { transcript?: unknown } | null)?.transcript;
  if (document === null || typeof document !== "object" || transcript === null || typeof transcript !== "object") {
    throw new WhatsAppResponseError("The transcript document has no `transcript` object", { status: 200, action: "fetchTranscript" });
  }
  return document as TranscriptDocument;
}
