import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { WhatsAppResponseError, type TranscriptDocument } from "../../src/index.js";
import { WhatsAppChecksumError, fetchTranscript } from "../../src/media/index.js";
import { TOKEN, mediaClient, useMediaServer } from "./helpers.js";

const server = useMediaServer();
const client = () => mediaClient(server);

// The transcript document of Meta's "Call transcription" page (Jun 18, 2026), as in calling-api-2026.md §2.
const TRANSCRIPT = {
  metadata: {
    processed_at: "2026-06-18T20:16:47Z",
    audio: { duration: 21.76, sample_rate: 16000, channels: 2, audio_format: "stereo" },
  },
  transcript: {
    text: "[Business] Hello, how about you? [Customer] Hey, I'm good. How are you?",
    language: "en",
    duration: 21.76,
    confidence: 0.83,
    segments: [
      {
        id: 1,
        speaker: "Business",
        channel: 0,
        start: 1.16,
        end: 2.44,
        text: "Hello, how about you?",
        confidence: 0.85,
        words: [{ word: "Hello,", start: 1.16, end: 1.64, confidence: 0.89, lang: "en" }],
      },
    ],
  },
} satisfies TranscriptDocument;

const bytes = Buffer.from(JSON.stringify(TRANSCRIPT));
const document = {
  id: "1002764438271669",
  sha256: createHash("sha256").update(bytes).digest("base64"),
  mime_type: "application/json",
  url: "",
};

function serve(body: Buffer | string) {
  server.setHandler(() => ({ headers: { "content-type": "application/json" }, body: Buffer.from(body) }));
  document.url = `${server.url}/whatsapp_business/attachments/?mid=1002764438271669`;
}

describe("fetchTranscript", () => {
  it("downloads the webhook's document with the token and parses it into the typed document", async () => {
    serve(bytes);
    const transcript = await fetchTranscript(client(), document);
    expect(transcript).toEqual(TRANSCRIPT);
    expect(transcript.transcript.segments?.[0]?.words?.[0]?.word).toBe("Hello,");
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.url).toBe("/whatsapp_business/attachments/?mid=1002764438271669");
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("checks the document's sha256", async () => {
    serve(JSON.stringify({ ...TRANSCRIPT, transcript: { ...TRANSCRIPT.transcript, text: "[Business] changed" } }));
    await expect(fetchTranscript(client(), document)).rejects.toBeInstanceOf(WhatsAppChecksumError);
  });

  it("passes on fields it does not know, and takes a document without segments", async () => {
    const minimal = { transcript: { text: "", language: "xx", future_field: 1 }, extra: true };
    serve(JSON.stringify(minimal));
    expect(await fetchTranscript(client(), { url: document.url })).toEqual(minimal);
  });

  it.each([
    ["not JSON", "<html>error</html>", /not JSON/],
    ["JSON without a transcript", JSON.stringify({ metadata: {} }), /no `transcript` object/],
    ["a JSON array", "[]", /no `transcript` object/],
  ])("%s is a WhatsAppResponseError", async (_, body, message) => {
    serve(body);
    const error = await fetchTranscript(client(), { url: document.url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WhatsAppResponseError);
    expect((error as Error).message).toMatch(message);
  });
});
