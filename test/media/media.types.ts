// Compiled by `npm run typecheck`, never run: the media methods take what the webhooks and the Media API give,
// and each @ts-expect-error proves that a wrong call does not compile.
import {
  createCallingClient,
  WhatsAppChecksumError,
  WhatsAppError,
  type MediaUrlResponse,
  type TranscriptDocument,
} from "../../src/index.js";

const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t" });

export async function rightCalls(recording: { id: string; sha256: string; mime_type: string; url: string }) {
  const fresh: MediaUrlResponse = await calls.getMediaUrl(recording.id, { phoneNumberId: "1" });
  const download = await calls.downloadMedia(recording, { maxBytes: 10_000_000, timeoutMs: 60_000 });
  const stream: ReadableStream<Uint8Array> = download.body;
  const bytes: Uint8Array = await calls.downloadMediaBytes(fresh);
  await calls.downloadMedia(recording.url, { mediaId: recording.id, sha256: recording.sha256 });
  const transcript: TranscriptDocument = await calls.fetchTranscript(recording);
  const firstWord: string | undefined = transcript.transcript.segments?.[0]?.words?.[0]?.word;
  const { mediaId, durationSeconds } = await calls.uploadVoicemailAnnouncement(new Blob([]), { description: "Default announcement (English)" });
  await calls.deleteMedia(mediaId, { signal: AbortSignal.timeout(1000) });
  const checksumIsWhatsAppError: WhatsAppError = new WhatsAppChecksumError({ expected: "a", actual: "b", size: 1 });
  return [stream, bytes, firstWord, durationSeconds, checksumIsWhatsAppError];
}

export async function wrongCalls() {
  // @ts-expect-error a media id is a string
  await calls.getMediaUrl(1002764438271669);
  // @ts-expect-error the upload takes bytes, not a path
  await calls.uploadVoicemailAnnouncement("announcement.ogg");
  // @ts-expect-error maxBytes is a number
  await calls.downloadMedia("1", { maxBytes: "10MB" });
  // @ts-expect-error a transcript's text is a string
  const text: number = (await calls.fetchTranscript("1")).transcript.text;
  return text;
}
