import { describe, expect, it } from "vitest";
import { DEFAULT_API_VERSION, WhatsAppApiError, WhatsAppResponseError, WhatsAppValidationError } from "../../src/index.js";
import { DEFAULT_ANNOUNCEMENT_MAX_BYTES, uploadVoicemailAnnouncement } from "../../src/media/index.js";
import { oggOpusDuration } from "../../src/media/upload.js";
import { PHONE_NUMBER_ID, TOKEN, mediaClient, oggOpus, parseMultipart, useMediaServer } from "./helpers.js";

const server = useMediaServer();
const client = () => mediaClient(server);
const ANNOUNCEMENT = oggOpus(12.5);
const uploaded = () => server.setHandler(() => ({ body: { id: "938884519013664" } }));

function receivedParts() {
  expect(server.requests).toHaveLength(1);
  const request = server.requests[0]!;
  expect(request.method).toBe("POST");
  expect(request.url).toBe(`/${DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/media`);
  expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect(request.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
  return parseMultipart(request.body, request.headers["content-type"]).map((part) => ({
    ...part,
    bytes: part.filename === undefined ? part.bytes.toString("utf8") : part.bytes,
  }));
}

describe("uploadVoicemailAnnouncement", () => {
  it("sends the documented multipart form and returns the media id for the voicemail settings", async () => {
    uploaded();
    const result = await uploadVoicemailAnnouncement(client(), new Blob([new Uint8Array(ANNOUNCEMENT)], { type: "audio/ogg" }), {
      description: "Default announcement (English)",
      filename: "welcome.ogg",
    });
    expect(result).toEqual({ mediaId: "938884519013664", durationSeconds: 12.5, data: { id: "938884519013664" } });
    expect(receivedParts()).toEqual([
      { name: "messaging_product", filename: undefined, contentType: undefined, bytes: "whatsapp" },
      { name: "type", filename: undefined, contentType: undefined, bytes: "audio/ogg" },
      { name: "use_case", filename: undefined, contentType: undefined, bytes: "call_voicemail_announcement" },
      { name: "description", filename: undefined, contentType: undefined, bytes: "Default announcement (English)" },
      { name: "file", filename: "welcome.ogg", contentType: "audio/ogg", bytes: ANNOUNCEMENT },
    ]);
  });

  it("takes bytes, leaves out an absent description, names the file announcement.ogg", async () => {
    uploaded();
    await uploadVoicemailAnnouncement(client(), new Uint8Array(ANNOUNCEMENT));
    const parts = receivedParts();
    expect(parts.map((part) => part.name)).toEqual(["messaging_product", "type", "use_case", "file"]);
    expect(parts[3]).toEqual({ name: "file", filename: "announcement.ogg", contentType: "audio/ogg", bytes: ANNOUNCEMENT });
  });

  it("keeps a File's name and takes an ArrayBuffer", async () => {
    uploaded();
    await uploadVoicemailAnnouncement(client(), new File([new Uint8Array(ANNOUNCEMENT)], "es.ogg", { type: "audio/ogg; codecs=opus" }));
    expect(receivedParts()[3]).toMatchObject({ filename: "es.ogg", bytes: ANNOUNCEMENT });
    server.requests.length = 0;
    const buffer = ANNOUNCEMENT.buffer.slice(ANNOUNCEMENT.byteOffset, ANNOUNCEMENT.byteOffset + ANNOUNCEMENT.byteLength);
    await uploadVoicemailAnnouncement(client(), buffer as ArrayBuffer);
    expect(receivedParts()[3]).toMatchObject({ bytes: ANNOUNCEMENT });
  });

  it("uploads to the phone number id the client has now (setPhoneNumberId)", async () => {
    uploaded();
    const calls = client();
    calls.setPhoneNumberId("5550001");
    await uploadVoicemailAnnouncement(calls, ANNOUNCEMENT);
    expect(server.requests[0]!.url).toBe(`/${DEFAULT_API_VERSION}/5550001/media`);
  });

  it("a numeric id in the answer is returned as a string", async () => {
    server.setHandler(() => ({ body: '{"id":938884519013664}' }));
    expect((await uploadVoicemailAnnouncement(client(), ANNOUNCEMENT)).mediaId).toBe("938884519013664");
  });

  it("an answer without id is a WhatsAppResponseError", async () => {
    server.setHandler(() => ({ body: { success: true } }));
    await expect(uploadVoicemailAnnouncement(client(), ANNOUNCEMENT)).rejects.toBeInstanceOf(WhatsAppResponseError);
  });

  it("Meta's refusal is a WhatsAppApiError without the token", async () => {
    server.setHandler(() => ({ status: 400, body: { error: { message: `Param file invalid (token ${TOKEN})`, code: 100, type: "OAuthException" } } }));
    const error = await uploadVoicemailAnnouncement(client(), ANNOUNCEMENT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect(error).toMatchObject({ status: 400, code: 100, action: "uploadVoicemailAnnouncement" });
    expect(JSON.stringify(error) + (error as Error).message).not.toContain(TOKEN);
  });

  describe("checked before sending", () => {
    const vorbis = Buffer.from(ANNOUNCEMENT);
    vorbis.write("\x01vorbis\x00", 28, "latin1");
    it.each([
      ["an MP3 Blob", new Blob([new Uint8Array(ANNOUNCEMENT)], { type: "audio/mpeg" }), /must be audio\/ogg/],
      ["an empty file", new Uint8Array(0), /empty/],
      ["bytes that are not OGG", new TextEncoder().encode("ID3\x03 an mp3 file, really"), /does not start with an OGG page/],
      ["OGG Vorbis", vorbis, /not an OpusHead/],
      ["60 seconds", oggOpus(60), /lasts 60\.00 s.*shorter than 60 s/],
      ["headers without audio", oggOpus(0), /no audio/],
      ["a string", "announcement.ogg" as unknown as Blob, /Blob, a File, an ArrayBuffer or a Uint8Array/],
    ])("%s", async (_, file, message) => {
      const error = await uploadVoicemailAnnouncement(client(), file).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WhatsAppValidationError);
      expect((error as Error).message).toMatch(message);
      expect(server.requests).toHaveLength(0);
    });

    it("a file over maxBytes (default 16 MiB)", async () => {
      expect(DEFAULT_ANNOUNCEMENT_MAX_BYTES).toBe(16 * 1024 * 1024);
      const error = await uploadVoicemailAnnouncement(client(), ANNOUNCEMENT, { maxBytes: 100 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WhatsAppValidationError);
      expect((error as Error).message).toMatch(`is ${ANNOUNCEMENT.length} bytes, more than maxBytes (100)`);
      const big = await uploadVoicemailAnnouncement(client(), new Blob([new Uint8Array(DEFAULT_ANNOUNCEMENT_MAX_BYTES + 1)])).catch(
        (e: unknown) => e,
      );
      expect((big as Error).message).toMatch(/more than maxBytes/);
      expect(server.requests).toHaveLength(0);
    });
  });
});

describe("oggOpusDuration", () => {
  it.each([0.02, 1, 59.98, 125])("reads %s s from the last granule position minus the pre-skip", (seconds) => {
    expect(oggOpusDuration(oggOpus(seconds))).toBeCloseTo(seconds, 6);
    expect(oggOpusDuration(oggOpus(seconds, 3840))).toBeCloseTo(seconds, 6);
  });
});

describe("uploadVoicemailAnnouncement is never repeated on its own", () => {
  it("a 500 is reported after one attempt (a repeat would store a second copy)", async () => {
    server.setHandler(() => ({ status: 500, body: { error: { message: "oops", code: 1, is_transient: true } } }));
    const calls = mediaClient(server, { retry: { retries: 3, minDelayMs: 1, maxDelayMs: 1 } });
    await expect(uploadVoicemailAnnouncement(calls, ANNOUNCEMENT)).rejects.toMatchObject({ name: "WhatsAppApiError", status: 500 });
    expect(server.requests).toHaveLength(1);
  });
});
