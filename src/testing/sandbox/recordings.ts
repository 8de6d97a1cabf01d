// What the sandbox's recordings, transcripts and voicemails hold. A recording is the bot's audio as the user's
// WebRTC peer received it (the Opus packets, not re-encoded), or, without media, silence as long as the call. The
// sandbox cannot transcribe: a transcript gives the words the scene says the user spoke (`SandboxUser.says`), or
// none, as Meta's does for a language it cannot transcribe. A voicemail is one second of the user's tone.
import type { TranscriptDocument } from "../../../generated/openapi.js";
import { SILENT_OPUS_PACKET, oggOpus } from "./ogg.js";
import { TONE_FRAMES } from "./tone.js";

/** The most a recording holds: ten minutes of 20 ms frames (the user's peer keeps no more of the bot's packets). */
export const MAX_RECORDED_FRAMES = 30_000;

export function recordingFile(audio: readonly Uint8Array[] | undefined, seconds: number): Uint8Array {
  if (audio && audio.length > 0) return oggOpus(audio);
  const frames = Math.min(MAX_RECORDED_FRAMES, Math.max(1, Math.round(seconds * 50)));
  return oggOpus(Array.from({ length: frames }, () => SILENT_OPUS_PACKET));
}

/** What a user says to a voicemail: one second of the tone the user's peer plays in a call. */
export function voicemailFile(): Uint8Array {
  // atob, not Buffer: this module is web-standard (test/spec/web-standard.test.ts); media.ts may use node's.
  return oggOpus(TONE_FRAMES.map((frame) => Uint8Array.from(atob(frame), (char) => char.charCodeAt(0))));
}

export function transcriptFile(seconds: number, says: string | undefined, now = Date.now()): TranscriptDocument {
  const duration = Math.round(seconds * 100) / 100;
  return {
    metadata: {
      processed_at: new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z"),
      audio: { duration, sample_rate: 16_000, channels: 2, audio_format: "stereo" },
    },
    transcript: {
      text: says === undefined ? "" : `[Customer] ${says}`,
      language: "en",
      duration,
      confidence: says === undefined ? 0 : 1,
      // Numbered from 1, as in Meta's sample.
      segments: says === undefined ? [] : [{ id: 1, speaker: "Customer", channel: 1, start: 0, end: duration, text: says, confidence: 1 }],
    },
  };
}
