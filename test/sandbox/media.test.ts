// Bots that would fail against Meta fail against the sandbox's user too: it is ICE-lite and a DTLS server
// only, so a bot that never connects, answers ICE-lite, or answers a=setup:passive ends with the media timeout
// (terminate FAILED, 138021), as real calls did (webrtc.md §3.5).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe as suite, expect, it } from "vitest";
import { createCallingClient, WhatsAppValidationError, type CallingClient } from "../../src/index.js";
import { SandboxClosedError, SandboxMediaUnavailableError, SandboxTimeoutError, startSandbox, type Sandbox } from "../../src/testing/index.js";
import { APP_SECRET, answerOffer, botPeer, isEvent, schemaErrors, startReceiver, until, type BotPeer, type Receiver } from "./helpers.js";

let receiver: Receiver;
let sandbox: Sandbox;
let calls: CallingClient;
const peers: BotPeer[] = [];
const USER = "15550123456";

beforeEach(async () => {
  receiver = await startReceiver();
  sandbox = await startSandbox({ webhookUrl: receiver.url, appSecret: APP_SECRET, media: true, mediaTimeoutMs: 2500 });
  calls = createCallingClient({ baseUrl: sandbox.url, accessToken: sandbox.accessToken, phoneNumberId: sandbox.phoneNumberId, retry: false });
});

afterEach(async () => {
  await sandbox.close();
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
  await receiver.close();
});

async function callWith(peer: BotPeer, changeAnswer: (sdp: string) => string = (sdp) => sdp) {
  peers.push(peer);
  const { callId } = await sandbox.simulateInboundCall({ from: USER });
  const connect = await receiver.next(isEvent("connect", callId));
  const answer = await answerOffer(peer, connect.item.session.sdp, changeAnswer);
  await calls.answer(callId, answer);
  return callId;
}

async function expectMediaTimeout(callId: string) {
  const terminate = await receiver.next(isEvent("terminate", callId));
  expect(terminate.item).toMatchObject({ status: "FAILED", errors: [{ code: 138021 }], start_time: expect.any(String) });
  expect(schemaErrors(terminate.json)).toBeNull();
  const stats = await sandbox.mediaStats(callId);
  expect(stats.received.packets).toBe(0);
  return stats;
}

suite("the user's peer is Meta's side, not a friendly one", () => {
  it("a bot that never connects (its peer closed after answering) gets 138021", async () => {
    const peer = botPeer();
    const callId = await callWith(peer);
    await peer.close();
    const stats = await expectMediaTimeout(callId);
    expect(stats.connected).toBe(false);
  });

  it("an ICE-lite bot gets 138021: the user is ICE-lite too and sends no checks", async () => {
    const callId = await callWith(botPeer({ iceLite: true }));
    expect((await expectMediaTimeout(callId)).connected).toBe(false);
    expect(sandbox.call(callId)?.warnings).toContain("a=ice-lite in the answer: Meta is ICE-lite too, so nobody sends checks");
  });

  it("a bot answering a=setup:passive gets 138021: the user is a DTLS server only, nobody sends a ClientHello", async () => {
    const callId = await callWith(botPeer(), (sdp) => sdp.replace(/^a=setup:active\r$/m, "a=setup:passive\r"));
    expect((await expectMediaTimeout(callId)).connected).toBe(false);
    expect(sandbox.call(callId)?.warnings[0]).toMatch(/^a=setup:passive/);
  });

  it("a bot that receives but never sends gets 138021 although ICE and DTLS connected", async () => {
    const peer = botPeer({ echo: false });
    const callId = await callWith(peer);
    const stats = await expectMediaTimeout(callId);
    expect(stats.connected).toBe(true);
    expect(stats.sent.packets).toBeGreaterThan(0);
    expect(peer.received.packets).toBeGreaterThan(0);
  });

  it("a bot that sends its answer seconds after making it still connects: ICE is answered at once, DTLS waits for the answer", async () => {
    const peer = botPeer();
    peers.push(peer);
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    const connect = await receiver.next(isEvent("connect", callId));
    const answer = await answerOffer(peer, connect.item.session.sdp);
    // The bot's checks and ClientHellos start now; the user's side gets the answer 2 s later.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await sandbox.mediaStats(callId)).connected).toBe(false);
    await calls.answer(callId, answer);
    await until(async () => (await sandbox.mediaStats(callId)).received.packets >= 10 && peer.received.packets >= 10, "audio both ways");
    expect((await sandbox.mediaStats(callId)).connected).toBe(true);
  });

  it("flags a bot that sends media between pre_accept and accept (the caller's timer starts at the first packet)", async () => {
    const peer = botPeer();
    peers.push(peer);
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    const answer = await answerOffer(peer, (await receiver.next(isEvent("connect", callId))).item.session.sdp);
    await calls.preAccept(callId, answer);
    await until(async () => (await sandbox.mediaStats(callId)).connected, "ICE + DTLS");
    const { RtpHeader, RtpPacket } = await import("werift");
    const track = (peer.pc as any).__track;
    await until(async () => {
      track.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: 1, timestamp: 960, ssrc: 1 }), Buffer.from([0xf8, 0xff, 0xfe])));
      return (await sandbox.mediaStats(callId)).received.packets > 0;
    }, "the bot's early packet");
    await calls.accept(callId, answer);
    expect(sandbox.call(callId)?.warnings).toContain("the bot sent media before accept: the caller's timer started at its first packet");
  });

  it("waitForMedia resolves with the stats once the bot's audio reaches the user", async () => {
    const callId = await callWith(botPeer());
    const stats = await sandbox.waitForMedia(callId, { packets: 10 });
    expect(stats.connected).toBe(true);
    expect(stats.connectMs).toEqual(expect.any(Number));
    expect(stats.received.packets).toBeGreaterThanOrEqual(10);
    expect(stats.received.bytes).toBeGreaterThan(0);
  });

  it("waitForMedia rejects with SandboxTimeoutError when the bot sends nothing in time, or the call ends first", async () => {
    const silent = await callWith(botPeer({ echo: false }));
    const timedOut = await sandbox.waitForMedia(silent, { timeoutMs: 800 }).catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(SandboxTimeoutError);
    expect(timedOut).toMatchObject({ name: "SandboxTimeoutError", callId: silent, waitingFor: "media", timeoutMs: 800 });
    expect((timedOut as Error).message).toMatch(new RegExp(`^call ${silent.replace(/[.+=]/g, "\\$&")} did not reach media within 800 ms: the user's peer received 0 of 1 packets`));
    // The sandbox ends the silent call after mediaTimeoutMs (2.5 s): a wait longer than that ends with the call.
    const ended = await sandbox.waitForMedia(silent, { timeoutMs: 10_000 }).catch((error: unknown) => error);
    expect(ended).toBeInstanceOf(SandboxTimeoutError);
    expect((ended as Error).message).toMatch(/^call \S+ ended before it reached media: the user's peer received 0 of 1 packets$/);
    expect(sandbox.call(silent)?.state).toBe("ended");
  });

  it("waitForMedia refuses a count or a deadline that is not one, and stops when the sandbox closes", async () => {
    const callId = await callWith(botPeer({ echo: false }));
    await expect(sandbox.waitForMedia(callId, { packets: 0 })).rejects.toThrow(new WhatsAppValidationError("waitForMedia: packets must be a whole number of at least 1, not 0", { path: "packets" }));
    await expect(sandbox.waitForMedia(callId, { timeoutMs: Number.NaN })).rejects.toThrow(new WhatsAppValidationError("waitForMedia: timeoutMs must be a number of milliseconds, not NaN", { path: "timeoutMs" }));
    await expect(sandbox.waitForMedia(callId, { packets: 0 })).rejects.toBeInstanceOf(WhatsAppValidationError);
    const waiting = sandbox.waitForMedia(callId, { timeoutMs: 10_000 }).catch((error: unknown) => error);
    await sandbox.close();
    const error = await waiting;
    expect(error).toBeInstanceOf(SandboxClosedError);
    expect(error).toMatchObject({ name: "SandboxClosedError", method: "waitForMedia", message: `waitForMedia: the sandbox is closed (call ${callId} was waiting for media)` });
  });

  it("a bot whose audio stops mid-call gets 138021 after the silence window", async () => {
    await sandbox.close();
    sandbox = await startSandbox({ webhookUrl: receiver.url, appSecret: APP_SECRET, media: true, silenceTimeoutMs: 1500 });
    calls = createCallingClient({ baseUrl: sandbox.url, accessToken: sandbox.accessToken, phoneNumberId: sandbox.phoneNumberId, retry: false });
    const peer = botPeer();
    const callId = await callWith(peer);
    await until(async () => (await sandbox.mediaStats(callId)).received.packets >= 10, "the bot's audio");
    await peer.close();
    const terminate = await receiver.next(isEvent("terminate", callId));
    expect(terminate.item).toMatchObject({ status: "FAILED", errors: [{ code: 138021 }] });
    expect(sandbox.call(callId)?.end?.reason).toMatch(/^no media from the bot for \d+ s mid-call$/);
  });

  it("the caller's offer sent back as the answer is refused at signalling (code 100)", async () => {
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    const offer = (await receiver.next(isEvent("connect", callId))).item.session.sdp;
    const response = await fetch(`${sandbox.url}/v23.0/${sandbox.phoneNumberId}/calls`, {
      method: "POST",
      headers: { authorization: `Bearer ${sandbox.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({ messaging_product: "whatsapp", call_id: callId, action: "pre_accept", session: { sdp_type: "answer", sdp: offer } }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error).toMatchObject({ code: 100, error_data: { details: expect.stringContaining("a=setup:actpass") } });
  });
});

suite("werift is an optional peer dependency", () => {
  it("media: true without werift rejects with SandboxMediaUnavailableError naming the package", async () => {
    // A child process in which werift cannot be resolved, as in a project that did not install it.
    const script = `
      import { register } from "node:module";
      register("data:text/javascript," + encodeURIComponent('export async function resolve(s, c, n) { if (s === "werift") { const e = new Error("Cannot find package werift"); e.code = "ERR_MODULE_NOT_FOUND"; throw e; } return n(s, c); }'));
      const { startSandbox, SandboxMediaUnavailableError, signWebhookPayload } = await import("./src/testing/index.ts");
      console.log(JSON.stringify({ signature: await signWebhookPayload("{}", "s") }));
      try { await startSandbox({ webhookUrl: "http://127.0.0.1:9/", appSecret: "s", media: true }); console.log("started"); }
      catch (error) { console.log(JSON.stringify({ isClass: error instanceof SandboxMediaUnavailableError, name: error.name, packageName: error.packageName, message: error.message })); }
      const auto = await startSandbox({ webhookUrl: "http://127.0.0.1:9/", appSecret: "s" });
      console.log(JSON.stringify({ autoMedia: auto.media }));
      await auto.close();
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: process.cwd(), timeout: 25_000 });
    const [signed, failure, auto] = stdout.trim().split("\n").map((line) => JSON.parse(line));
    // The signing helper works without werift (the sandbox is loaded only by startSandbox).
    expect(signed).toEqual({ signature: expect.stringMatching(/^sha256=[0-9a-f]{64}$/) });
    expect(failure).toEqual({
      isClass: true,
      name: "SandboxMediaUnavailableError",
      packageName: "werift",
      message: expect.stringContaining("npm install --save-dev werift@0.25.2"),
    });
    expect(auto).toEqual({ autoMedia: false });
    expect(new SandboxMediaUnavailableError(undefined)).toBeInstanceOf(Error);
  });
});
