// Compiled by `npm run typecheck`, never run: the media functions take a client and what the webhooks and the
// Media API give, and each @ts-expect-error proves that a wrong call does not compile.
import { createCallingClient, WhatsAppError, type MediaUrlResponse, type TranscriptDocument, type WebhookMedia } from "../../src/index.js";
import {
  WhatsAppChecksumError,
  deleteMedia,
  downloadMedia,
  downloadMediaBytes,
  fetchTranscript,
  getMediaUrl,
  uploadVoicemailAnnouncement,
} from "../../src/media/index.js";

const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t" });

export async function rightCalls(recording: { id: string; sha256: string; mime_type: string; url: string }) {
  const fresh: MediaUrlResponse = await getMediaUrl(calls, recording.id, { phoneNumberId: "1" });
  const download = await downloadMedia(calls, recording, { maxBytes: 10_000_000, timeoutMs: 60_000 });
  const stream: ReadableStream<Uint8Array> = download.body;
  const bytes: Uint8Array = await downloadMediaBytes(calls, fresh);
  await downloadMedia(calls, recording.url, { mediaId: recording.id, sha256: recording.sha256 });
  const transcript: TranscriptDocument = await fetchTranscript(calls, recording);
  const firstWord: string | undefined = transcript.transcript.segments?.[0]?.words?.[0]?.word;
  const { mediaId, durationSeconds } = await uploadVoicemailAnnouncement(calls, new Blob([]), { description: "Default announcement (English)" });
  await deleteMedia(calls, mediaId, { signal: AbortSignal.timeout(1000) });
  // A webhook's media id as it is typed (`string | number`) goes in as it is.
  const fromWebhook: WebhookMedia["id"] = 1002764438271669;
  await getMediaUrl(calls, fromWebhook);
  await deleteMedia(calls, fromWebhook);
  await downloadMediaBytes(calls, fromWebhook);
  const checksumIsWhatsAppError: WhatsAppError = new WhatsAppChecksumError({ expected: "a", actual: "b", size: 1 });
  return [stream, bytes, firstWord, durationSeconds, checksumIsWhatsAppError];
}

export async function wrongCalls() {
  // @ts-expect-error the first argument is the client
  await getMediaUrl("1002764438271669");
  // @ts-expect-error a media id is a string or, as a webhook may send it, a number; not a media object
  await getMediaUrl(calls, { id: "1002764438271669" });
  // @ts-expect-error the upload takes bytes, not a path
  await uploadVoicemailAnnouncement(calls, "announcement.ogg");
  // @ts-expect-error maxBytes is a number
  await downloadMedia(calls, "1", { maxBytes: "10MB" });
  // @ts-expect-error a transcript's text is a string
  const text: number = (await fetchTranscript(calls, "1")).transcript.text;
  return text;
}
