// A call that asks for a recording or a transcript gets its webhook after it ends, and the file behind it is served
// by the sandbox's Media API, so that a bot's whole recording path (webhook, media URL, download, checksum,
// expired URL, deletion) runs on loopback. The Ogg file is read here with code of the test's own (a bitwise CRC,
// not the sandbox's table) and decoded with libopus (opusscript).
import { createHash } from "node:crypto";
import OpusScript from "opusscript";
import { afterEach, beforeEach, describe as suite, expect, it } from "vitest";
import { createCallingClient, WhatsAppApiError, type CallingClient } from "../../src/index.js";
import { deleteMedia, downloadMedia, fetchTranscript, getMediaUrl, uploadVoicemailAnnouncement, WhatsAppMediaExpiredError } from "../../src/media/index.js";
import { parseWebhook } from "../../src/webhooks/index.js";
import { oggOpus } from "../media/helpers.js";
import { startSandbox, type Sandbox, type SandboxOptions } from "../../src/testing/index.js";
import { APP_SECRET, answerOffer, botPeer, isEvent, schemaErrors, signatureValid, startReceiver, type BotPeer, type Receiver } from "./helpers.js";

const USER = "15550123456";
const RECORD = { status: "ENABLED", purpose: "quality assurance", announcement_language: "en_US" } as const;
const TRANSCRIBE = { status: "ENABLED", purpose: "support notes", announcement_language: "en" } as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let receiver: Receiver;
let sandbox: Sandbox;
let calls: CallingClient;
const peers: BotPeer[] = [];

async function start(options: Partial<SandboxOptions> = {}) {
  sandbox = await startSandbox({ webhookUrl: receiver.url, appSecret: APP_SECRET, media: false, recordingDelayMs: 50, ...options });
  calls = createCallingClient({ baseUrl: sandbox.url, accessToken: sandbox.accessToken, phoneNumberId: sandbox.phoneNumberId, retry: false });
}

beforeEach(async () => {
  receiver = await startReceiver();
});

afterEach(async () => {
  await sandbox?.close();
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
  await receiver.close();
});

/** An inbound call answered without media (with `accept` options), talked for `talkMs`, then hung up by the user. */
async function answeredCall(acceptOptions: Parameters<CallingClient["answer"]>[2], talkMs = 300) {
  const { callId } = await sandbox.simulateInboundCall({ from: USER });
  const connect = await receiver.next(isEvent("connect", callId));
  await calls.answer(callId, sandbox.answerWithoutMedia(connect.item.session.sdp), acceptOptions);
  await sleep(talkMs);
  await sandbox.hangUp(callId);
  return callId;
}

/** The pages of an Ogg file, read and checked here: capture pattern, version, CRC, lacing. */
function oggPages(bytes: Uint8Array) {
  const crc = (data: Uint8Array) => {
    let value = 0;
    for (const byte of data) {
      value ^= byte << 24;
      for (let bit = 0; bit < 8; bit++) value = value & 0x80000000 ? (value << 1) ^ 0x04c11db7 : value << 1;
      value >>>= 0;
    }
    return value >>> 0;
  };
  const buffer = Buffer.from(bytes);
  const pages: { flags: number; granule: bigint; sequence: number; packets: Buffer[] }[] = [];
  for (let offset = 0; offset < buffer.length; ) {
    expect(buffer.subarray(offset, offset + 4).toString("latin1")).toBe("OggS");
    expect(buffer[offset + 4]).toBe(0);
    const count = buffer[offset + 26]!;
    const lacing = [...buffer.subarray(offset + 27, offset + 27 + count)];
    const size = 27 + count + lacing.reduce((a, b) => a + b, 0);
    const page = Buffer.from(buffer.subarray(offset, offset + size));
    const stated = page.readUInt32LE(22);
    page.writeUInt32LE(0, 22);
    expect(crc(page)).toBe(stated);
    const packets: Buffer[] = [];
    let at = 27 + count;
    let current: Buffer[] = [];
    for (const value of lacing) {
      current.push(page.subarray(at, at + value));
      at += value;
      if (value < 255) {
        packets.push(Buffer.concat(current));
        current = [];
      }
    }
    pages.push({ flags: page[5]!, granule: page.readBigInt64LE(6), sequence: page.readUInt32LE(18), packets });
    offset += size;
  }
  return pages;
}

function decode(packets: Buffer[]): Int16Array {
  const decoder = new OpusScript(48_000, 1);
  try {
    const parts = packets.map((packet) => {
      const pcm = decoder.decode(packet);
      return new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2).slice();
    });
    const all = new Int16Array(parts.reduce((n, part) => n + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      all.set(part, offset);
      offset += part.length;
    }
    return all;
  } finally {
    decoder.delete();
  }
}

suite("recordings and transcripts of the sandbox", () => {
  it("a recorded, transcribed call: both webhooks after the terminate, signed and in openapi.yaml's shapes", async () => {
    await start({ users: { [USER]: { says: "I would like to book a table for two" } } });
    const callId = await answeredCall({ recording: RECORD, transcription: TRANSCRIBE });
    const recording = await receiver.next(isEvent("call_recording_available", callId));
    const transcript = await receiver.next(isEvent("call_transcription_available", callId));
    const order = receiver.received.map((delivery) => delivery.item?.event ?? delivery.item?.status);
    expect(order.indexOf("terminate")).toBeLessThan(order.indexOf("call_recording_available"));
    for (const delivery of [recording, transcript]) {
      expect(signatureValid(delivery.rawBody, delivery.headers["x-hub-signature-256"] as string)).toBe(true);
      expect(schemaErrors(delivery.json)).toBeNull();
      expect(Object.keys(delivery.json.entry[0].changes[0].value)).toEqual(["messaging_product", "metadata", "calls"]);
    }
    expect(recording.item).toEqual({
      id: callId,
      from: USER,
      timestamp: expect.stringMatching(/^\d{10}$/),
      event: "call_recording_available",
      call_recording: {
        type: "audio",
        audio: {
          id: expect.stringMatching(/^\d{16}$/),
          sha256: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
          mime_type: "audio/ogg; codecs=opus",
          url: expect.stringMatching(new RegExp(`^${sandbox.url}/media-download/\\d{16}\\?expires=\\d+$`)),
        },
      },
    });
    expect(transcript.item).toEqual({
      id: callId,
      from: USER,
      timestamp: expect.stringMatching(/^\d{10}$/),
      event: "call_transcription_available",
      call_transcript: {
        document: { id: expect.stringMatching(/^\d{16}$/), sha256: expect.any(String), mime_type: "application/json", url: expect.any(String) },
      },
    });

    // The recording: the webhook's URL, checked against the webhook's Base64 digest.
    const download = await downloadMedia(calls, recording.item.call_recording.audio);
    expect(download.verified).toBe(true);
    expect(download.mimeType).toBe("audio/ogg; codecs=opus");
    const bytes = await download.bytes();
    expect(createHash("sha256").update(bytes).digest("base64")).toBe(recording.item.call_recording.audio.sha256);

    // Without media: silence as long as the call was live (300 ms of talk: 15 frames of 20 ms, give or take).
    const pages = oggPages(bytes);
    expect(pages.map((page) => page.sequence)).toEqual(pages.map((_, index) => index));
    expect(pages[0]!.flags).toBe(0x02);
    expect(pages.at(-1)!.flags).toBe(0x04);
    const head = pages[0]!.packets[0]!;
    expect(head.subarray(0, 8).toString("latin1")).toBe("OpusHead");
    expect([head[8], head[9], head.readUInt16LE(10), head.readUInt32LE(12), head[18]]).toEqual([1, 1, 312, 48_000, 0]);
    expect(pages[1]!.packets[0]!.subarray(0, 8).toString("latin1")).toBe("OpusTags");
    const audio = pages.slice(2).flatMap((page) => page.packets);
    expect(audio.length).toBeGreaterThanOrEqual(14);
    expect(audio.length).toBeLessThanOrEqual(30);
    expect(pages.at(-1)!.granule).toBe(BigInt(audio.length * 960));
    const pcm = decode(audio);
    expect(pcm.length).toBe(audio.length * 960);
    expect(pcm.every((sample) => sample === 0)).toBe(true);

    // The transcript: what the scene says the user spoke.
    const document = await fetchTranscript(calls, transcript.item.call_transcript.document);
    expect(document).toEqual({
      metadata: { processed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), audio: { duration: expect.any(Number), sample_rate: 16_000, channels: 2, audio_format: "stereo" } },
      transcript: {
        text: "[Customer] I would like to book a table for two",
        language: "en",
        duration: document.metadata!.audio!.duration,
        confidence: 1,
        segments: [{ id: 1, speaker: "Customer", channel: 1, start: 0, end: document.metadata!.audio!.duration, text: "I would like to book a table for two", confidence: 1 }],
      },
    });
    expect(document.metadata!.audio!.duration).toBeGreaterThanOrEqual(0.3);
    expect(document.metadata!.audio!.duration).toBeLessThan(1);
  });

  it("the Media API: a fresh URL with the hex digest and size, only for this number, and deletion", async () => {
    await start();
    const callId = await answeredCall({ recording: RECORD });
    const { item } = await receiver.next(isEvent("call_recording_available", callId));
    const mediaId: string = item.call_recording.audio.id;
    const bytes = await (await downloadMedia(calls, item.call_recording.audio)).bytes();

    const url = await getMediaUrl(calls, mediaId, { phoneNumberId: sandbox.phoneNumberId });
    expect(url).toEqual({
      messaging_product: "whatsapp",
      url: expect.stringMatching(new RegExp(`^${sandbox.url}/media-download/${mediaId}\\?expires=\\d+$`)),
      mime_type: "audio/ogg; codecs=opus",
      sha256: createHash("sha256").update(bytes).digest("hex"),
      file_size: String(bytes.byteLength),
      id: mediaId,
    });

    // The URL needs the token, as Meta's does.
    const anonymous = await fetch(url.url);
    expect(anonymous.status).toBe(401);
    expect((await anonymous.json()).error.code).toBe(190);

    const other = await getMediaUrl(calls, mediaId, { phoneNumberId: "999999999999" }).catch((error: unknown) => error);
    expect(other).toBeInstanceOf(WhatsAppApiError);
    expect(other).toMatchObject({ status: 400, code: 100 });

    await expect(deleteMedia(calls, mediaId)).resolves.toEqual({ success: true });
    const gone = await getMediaUrl(calls, mediaId).catch((error: unknown) => error);
    expect(gone).toMatchObject({ status: 400, code: 100, subcode: 33 });
    const download = await downloadMedia(calls, mediaId).catch((error: unknown) => error);
    expect(download).toBeInstanceOf(WhatsAppMediaExpiredError);
    expect(download).toMatchObject({ mediaId, status: 400 });
    const stale = await fetch(url.url, { headers: { authorization: `Bearer ${sandbox.accessToken}` } });
    expect(stale.status).toBe(404);
    expect(sandbox.events.filter((event) => event.kind === "request" && event.path === "/{media-id}").map((event) => (event as { status: number }).status)).toEqual([
      200, 400, 200, 400, 400,
    ]);
  });

  it("an expired webhook URL is replaced by a fresh one from the media id, and the download still checks out", async () => {
    await start({ mediaUrlTtlMs: 400 });
    const callId = await answeredCall({ recording: RECORD }, 100);
    const { item } = await receiver.next(isEvent("call_recording_available", callId));
    await sleep(500);
    const expired = await fetch(item.call_recording.audio.url, { headers: { authorization: `Bearer ${sandbox.accessToken}` } });
    expect(expired.status).toBe(404);
    const download = await downloadMedia(calls, item.call_recording.audio);
    const bytes = await download.bytes();
    expect(createHash("sha256").update(bytes).digest("base64")).toBe(item.call_recording.audio.sha256);
    expect(sandbox.events.some((event) => event.kind === "request" && event.path === "/{media-id}" && event.action === "getMediaUrl" && event.status === 200)).toBe(true);
  });

  it("a business-initiated call with a recording gets one after it ends; a call that asked for none, or DISABLED, gets none", async () => {
    await start({ users: { [USER]: { permission: "permanent", pickUpDelayMs: 50 } } });
    const { callId } = await calls.connect(USER, sandbox.offerWithoutMedia(), { recording: RECORD });
    await receiver.next((delivery) => delivery.item?.status === "ACCEPTED" && delivery.item?.id === callId);
    await calls.terminate(callId);
    const recording = await receiver.next(isEvent("call_recording_available", callId));
    expect(recording.item).toMatchObject({ id: callId, from: USER, call_recording: { type: "audio" } });

    const plain = await answeredCall(undefined, 50);
    const disabled = await answeredCall({ recording: { status: "DISABLED" }, transcription: { status: "DISABLED" } }, 50);
    await sleep(300);
    await sandbox.deliveriesSettled();
    const later = receiver.received.filter((delivery) => [plain, disabled].includes(delivery.item?.id)).map((delivery) => delivery.item.event);
    expect(later).toEqual(["connect", "terminate", "connect", "terminate"]);
  });

  it("waitForDelivery: a test waits for a webhook sent after a delay, without sleeping; a wrong match is refused at once", async () => {
    await start({ recordingDelayMs: 200 });
    const callId = await answeredCall({ recording: RECORD, transcription: TRANSCRIBE }, 50);
    const recording = await sandbox.waitForDelivery({ callId, event: "call_recording_available" });
    expect(recording).toMatchObject({ callId, event: "call_recording_available", state: "delivered" });
    expect(parseWebhook(recording.body)).toEqual([expect.objectContaining({ type: "call.recording_available", callId })]);
    expect(receiver.received.some((delivery) => delivery.item?.event === "call_recording_available" && delivery.item?.id === callId)).toBe(true);
    // One sent already resolves too, with the same delivery.
    expect((await sandbox.waitForDelivery({ callId, event: "terminate" })).id).toBe(sandbox.deliveries.find((delivery) => delivery.callId === callId && delivery.event === "terminate")!.id);
    expect(await sandbox.waitForDelivery({ event: "call_transcription_available" })).toMatchObject({ callId, state: "delivered" });

    const plain = await answeredCall(undefined, 50);
    const error = await sandbox.waitForDelivery({ callId: plain, event: "call_recording_available" }, { timeoutMs: 400 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      name: "SandboxTimeoutError",
      callId: plain,
      waitingFor: "delivery call_recording_available",
      timeoutMs: 400,
      message: `no call_recording_available for call ${plain} was sent within 400 ms: sent so far: connect (delivered), terminate (delivered)`,
    });
    await expect(sandbox.waitForDelivery({})).rejects.toMatchObject({ name: "WhatsAppValidationError", path: "match", message: "waitForDelivery: pass a callId, an event or both" });
    await expect(sandbox.waitForDelivery({ callId: "wacid.nope" })).rejects.toMatchObject({ name: "WhatsAppValidationError", path: "callId" });
    const pending = sandbox.waitForDelivery({ event: "voicemail" }).catch((caught: unknown) => caught);
    await sandbox.close();
    expect(await pending).toMatchObject({ name: "SandboxClosedError", method: "waitForDelivery", message: "waitForDelivery: the sandbox is closed (the wait was still pending)" });
  });

  it("with media, the recording holds the bot's Opus packets as the user received them", async () => {
    await start({ media: true });
    const peer = botPeer();
    peers.push(peer);
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    const connect = await receiver.next(isEvent("connect", callId));
    await calls.answer(callId, await answerOffer(peer, connect.item.session.sdp), { recording: RECORD });
    await sandbox.waitForMedia(callId, { packets: 40 });
    await sandbox.hangUp(callId);
    const { item } = await receiver.next(isEvent("call_recording_available", callId));
    const audio = oggPages(await (await downloadMedia(calls, item.call_recording.audio)).bytes())
      .slice(2)
      .flatMap((page) => page.packets);
    const stats = await sandbox.mediaStats(callId);
    expect(audio.length).toBe(stats.received.packets);
    // The bot echoes the user's tone: the recording starts with what the bot got, packet for packet.
    expect(audio.slice(0, 20).map((packet) => packet.toString("hex"))).toEqual(peer.received.payloads.slice(0, 20).map((packet) => packet.toString("hex")));
    expect(decode(audio).some((sample) => Math.abs(sample) > 1000)).toBe(true);
  });

  it("takes a voicemail announcement upload: a media id that the Media API serves, byte for byte, and that the settings take", async () => {
    await start();
    const file = new Uint8Array(oggOpus(3));
    const { mediaId, durationSeconds } = await uploadVoicemailAnnouncement(calls, new Blob([file], { type: "audio/ogg" }), { description: "Default announcement (English)" });
    expect(mediaId).toMatch(/^\d{16}$/);
    expect(durationSeconds).toBeCloseTo(3, 2);
    const media = await getMediaUrl(calls, mediaId);
    expect(media).toMatchObject({ id: mediaId, mime_type: "audio/ogg", sha256: createHash("sha256").update(file).digest("hex"), file_size: String(file.byteLength) });
    expect(new Uint8Array(await (await downloadMedia(calls, mediaId)).bytes())).toEqual(file);
    const voicemail = { status: "ENABLED" as const, triggers: ["REJECT" as const, "TIMEOUT" as const], audio: { default: { announcement_media_id: mediaId, timeout_seconds: 20 } } };
    await expect(calls.updateCallingSettings({ voicemail })).resolves.toEqual({ success: true });
    expect((await calls.getCallingSettings()).voicemail).toEqual(voicemail);
  });

  it("refuses an upload that is not the announcement form, with code 100 naming the field", async () => {
    await start();
    const post = async (body: BodyInit, headers: Record<string, string> = {}) => {
      const response = await fetch(`${sandbox.url}/v23.0/${sandbox.phoneNumberId}/media`, { method: "POST", headers: { authorization: `Bearer ${sandbox.accessToken}`, ...headers }, body });
      return { status: response.status, details: ((await response.json()) as { error: { code: number; error_data: { details: string } } }).error };
    };
    const form = (fields: Record<string, string>, file?: Blob) => {
      const body = new FormData();
      for (const [name, value] of Object.entries(fields)) body.append(name, value);
      if (file) body.append("file", file, "announcement.ogg");
      return body;
    };
    const fields = { messaging_product: "whatsapp", type: "audio/ogg", use_case: "call_voicemail_announcement" };
    const refused = (details: string) => ({ status: 400, details: expect.objectContaining({ code: 100, error_data: { messaging_product: "whatsapp", details } }) });
    expect(await post(JSON.stringify(fields), { "content-type": "application/json" })).toEqual(refused("Invalid parameter file: the body must be multipart/form-data with a file part"));
    expect(await post(form({ ...fields, use_case: "message" }, new Blob([new Uint8Array(oggOpus(1))])))).toEqual(refused("Invalid parameter use_case: must be call_voicemail_announcement"));
    expect(await post(form(fields))).toEqual(refused("Invalid parameter file: is required: the audio as a file part"));
    expect(await post(form(fields, new Blob([new TextEncoder().encode("RIFF....WAVEfmt ")])))).toEqual(
      refused("Invalid parameter file: the announcement must be OGG audio with the OPUS codec: the file does not start with an OGG page"),
    );
    expect(await post(form(fields, new Blob([new Uint8Array(oggOpus(61))])))).toEqual(refused("Invalid parameter file: lasts 61.00 s; an announcement is shorter than 60 s"));
  });

  it("with voicemail on, a rejected or unanswered call ends, then the user's voicemail comes as an audio message with the call id", async () => {
    await start({ ringingTimeoutMs: 5000 });
    const { mediaId } = await uploadVoicemailAnnouncement(calls, new Uint8Array(oggOpus(2)));
    const audio = { default: { announcement_media_id: mediaId, timeout_seconds: 0 } };
    await calls.updateCallingSettings({ voicemail: { status: "ENABLED", triggers: ["REJECT"], audio } });
    const rejected = await sandbox.simulateInboundCall({ from: USER });
    await receiver.next(isEvent("connect", rejected.callId));
    await calls.reject(rejected.callId);
    await expectVoicemail(rejected.callId, "REJECTED");

    await calls.updateCallingSettings({ voicemail: { status: "ENABLED", triggers: ["TIMEOUT"], audio } });
    const missed = await sandbox.simulateInboundCall({ from: USER });
    await expectVoicemail(missed.callId, "FAILED");
  });

  it("with voicemail off, a missed or rejected call gets no voicemail", async () => {
    await start({ ringingTimeoutMs: 200 });
    const { callId: missed } = await sandbox.simulateInboundCall({ from: USER });
    await receiver.next(isEvent("terminate", missed));
    await calls.updateCallingSettings({ voicemail: { status: "DISABLED" } });
    const { callId: rejected } = await sandbox.simulateInboundCall({ from: USER });
    await calls.reject(rejected);
    await receiver.next(isEvent("terminate", rejected));
    await sleep(300);
    await sandbox.deliveriesSettled();
    expect(receiver.received.filter((delivery) => delivery.field === "messages")).toEqual([]);
  });
});

/** The call's terminate (with `status`), then its voicemail: signed, in openapi.yaml's shape, its audio served by id. */
async function expectVoicemail(callId: string, status: string) {
  const message = await receiver.next((delivery) => delivery.field === "messages" && delivery.item?.id === callId);
  expect(message.item).toEqual({
    id: callId,
    from: USER,
    timestamp: expect.stringMatching(/^\d+$/),
    type: "audio",
    audio: { id: expect.stringMatching(/^\d+$/), sha256: expect.any(String), mime_type: "audio/ogg; codecs=opus" },
  });
  expect(schemaErrors(message.json)).toBeNull();
  expect(signatureValid(message.rawBody, message.headers["x-hub-signature-256"] as string)).toBe(true);
  expect(parseWebhook(message.rawBody)).toEqual([expect.objectContaining({ type: "call.voicemail", callId, media: message.item.audio })]);
  const deliveries = receiver.received.filter((delivery) => delivery.item?.id === callId);
  expect(deliveries.map((delivery) => delivery.item.event ?? delivery.item.type)).toEqual(["connect", "terminate", "audio"]);
  expect(deliveries[1]!.item.status).toBe(status);
  const bytes = new Uint8Array(await (await downloadMedia(calls, message.item.audio.id)).bytes());
  expect(createHash("sha256").update(bytes).digest("base64")).toBe(message.item.audio.sha256);
  // One second of the user's tone: 50 Opus packets after the two header pages.
  expect(oggPages(bytes).slice(2).flatMap((page) => page.packets)).toHaveLength(50);
}
