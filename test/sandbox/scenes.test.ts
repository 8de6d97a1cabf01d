// The two scenes of `npm start`, over real HTTP and real WebRTC on 127.0.0.1: a bot made of the public client
// and a werift peer against the sandbox's user (ICE-lite, DTLS server, Opus). Every webhook is checked against
// openapi.yaml's schema and its signature with node:crypto, independently of the sandbox's code.
import { afterEach, beforeEach, describe as suite, expect, it } from "vitest";
import { createCallingClient, type CallingClient } from "../../src/index.js";
import { startSandbox, type Sandbox } from "../../src/testing/index.js";
import { TONE_FRAMES } from "../../src/testing/sandbox/tone.js";
import { APP_SECRET, answerOffer, botPeer, createOffer, isEvent, isStatus, schemaErrors, signatureValid, startReceiver, until, type BotPeer, type Receiver } from "./helpers.js";

let receiver: Receiver;
let sandbox: Sandbox;
let calls: CallingClient;
const peers: BotPeer[] = [];
const USER = "15550123456";

beforeEach(async () => {
  receiver = await startReceiver();
  sandbox = await startSandbox({
    webhookUrl: receiver.url,
    appSecret: APP_SECRET,
    media: true,
    users: { [USER]: { name: "Dana Okafor", permissionReply: "accept", pickUp: "accept", pickUpDelayMs: 200 } },
  });
  calls = createCallingClient({ baseUrl: sandbox.url, accessToken: sandbox.accessToken, phoneNumberId: sandbox.phoneNumberId, retry: false });
});

afterEach(async () => {
  await sandbox.close();
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
  await receiver.close();
});

function expectEveryDeliveryValid() {
  expect(receiver.received.length).toBeGreaterThan(0);
  for (const delivery of receiver.received) {
    expect(signatureValid(delivery.rawBody, delivery.headers["x-hub-signature-256"] as string)).toBe(true);
    expect(delivery.headers["content-type"]).toBe("application/json");
    expect(schemaErrors(delivery.json)).toBeNull();
    expect(delivery.json.object).toBe("whatsapp_business_account");
    expect(delivery.json.entry[0].changes[0].value.metadata).toEqual({ display_phone_number: sandbox.displayPhoneNumber, phone_number_id: sandbox.phoneNumberId });
  }
}

suite("scene 1: the user calls, the bot pre-accepts and accepts, audio both ways, the user hangs up", () => {
  it("connects ICE and DTLS with the bot and echoes the user's Opus tone", async () => {
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    const connect = await receiver.next(isEvent("connect", callId));
    expect(connect.item).toMatchObject({ id: callId, from: USER, to: sandbox.displayPhoneNumber, event: "connect", direction: "USER_INITIATED" });
    expect(connect.item.timestamp).toMatch(/^\d{10}$/);
    expect(connect.json.entry[0].changes[0].value.contacts).toEqual([{ profile: { name: "Dana Okafor" }, wa_id: USER }]);
    const offer: string = connect.item.session.sdp;
    expect(connect.item.session.sdp_type).toBe("offer");
    // Meta's 2025 offer, as webrtc.md §1.1 and §5.1 describe it.
    for (const line of ["a=ice-lite", "a=setup:actpass", "a=mid:audio", "a=group:BUNDLE audio", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2", "a=rtpmap:126 telephone-event/8000", "a=ptime:20"]) {
      expect(offer.split("\r\n")).toContain(line);
    }
    expect(offer).toMatch(/^m=audio (\d+) UDP\/TLS\/RTP\/SAVPF 111 126\r$/m);
    expect(offer).toMatch(/^a=candidate:\S+ 1 udp 2122260223 127\.0\.0\.1 \d+ typ host/m);
    expect(offer.match(/^a=candidate:/gm)).toHaveLength(1);
    expect(offer.match(/^a=fingerprint:sha-256 /gm)).toHaveLength(1);
    expect(offer.match(/^a=ssrc:\d+ cname:WhatsAppAudioStream1\r$/gm)).toHaveLength(1);
    expect(offer.endsWith("\r\n")).toBe(true);

    const peer = botPeer();
    peers.push(peer);
    const answer = await answerOffer(peer, offer);
    expect(answer).toMatch(/^a=setup:active\r$/m);
    await expect(calls.preAccept(callId, answer)).resolves.toEqual({ messaging_product: "whatsapp", success: true });
    await expect(calls.accept(callId, answer, { bizOpaqueCallbackData: "ticket-1" })).resolves.toEqual({ messaging_product: "whatsapp", success: true });
    expect(sandbox.call(callId)?.state).toBe("accepted");

    await until(async () => (await sandbox.mediaStats(callId)).received.packets >= 25 && peer.received.packets >= 25, "audio both ways");
    const stats = await sandbox.mediaStats(callId);
    expect(stats.connected).toBe(true);
    expect(stats.connectMs).toBeTypeOf("number");
    expect(stats.sent.packets).toBeGreaterThanOrEqual(25);
    expect(stats.sent.bytes).toBeGreaterThan(stats.sent.packets * 10);
    // The bot got the user's tone frames, byte for byte, and sent them back.
    const tone = new Set(TONE_FRAMES);
    expect(peer.received.payloads.slice(0, 10).every((payload) => tone.has(payload.toString("base64")))).toBe(true);
    expect(stats.received.bytes).toBeGreaterThan(0);

    await sandbox.hangUp(callId);
    const terminate = await receiver.next(isEvent("terminate", callId));
    expect(terminate.item).toMatchObject({ id: callId, from: USER, event: "terminate", direction: "USER_INITIATED", status: "COMPLETED", biz_opaque_callback_data: "ticket-1" });
    expect(Number(terminate.item.end_time)).toBeGreaterThanOrEqual(Number(terminate.item.start_time));
    expect(terminate.item.duration).toBe(Number(terminate.item.end_time) - Number(terminate.item.start_time));
    expect(terminate.item.errors).toBeUndefined();
    expect(terminate.json.entry[0].changes[0].value.contacts).toEqual([{ profile: { name: "Dana Okafor" }, wa_id: USER }]);
    // The call has ended: the bot's terminate is a step out of order.
    await expect(calls.terminate(callId)).rejects.toMatchObject({ status: 400, code: 100 });
    expectEveryDeliveryValid();
  });
});

suite("the older offer format of Meta's documentation", () => {
  it("connects and echoes the same way", async () => {
    const { callId } = await sandbox.simulateInboundCall({ from: USER, offerFormat: "docs" });
    const offer: string = (await receiver.next(isEvent("connect", callId))).item.session.sdp;
    expect(offer).toMatch(/^a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r$/m);
    expect(offer).toMatch(/^a=candidate:\S+ 1 udp 2113937151 127\.0\.0\.1 \d+ typ host generation 0 network-cost 50 ufrag \S+\r$/m);
    expect(offer).not.toContain("a=ptime");
    const peer = botPeer();
    peers.push(peer);
    await calls.answer(callId, await answerOffer(peer, offer));
    await until(async () => (await sandbox.mediaStats(callId)).received.packets >= 10 && peer.received.packets >= 10, "audio both ways");
    await sandbox.hangUp(callId);
    await receiver.next(isEvent("terminate", callId));
    expectEveryDeliveryValid();
  });
});

suite("scene 2: permission, a business-initiated call, audio, the bot hangs up", () => {
  it("grants permission on request, rings, sends RINGING and ACCEPTED, connects media, ends on terminate", async () => {
    await expect(calls.getCallPermissions(USER)).resolves.toMatchObject({ permission: { status: "no_permission" } });
    const peer = botPeer();
    peers.push(peer);
    const refusedOffer = await createOffer(peer);
    await expect(calls.connect(USER, refusedOffer)).rejects.toMatchObject({ status: 401, code: 138006 });

    const sent = await calls.sendCallPermissionRequest(USER, { bodyText: "May we call you about your order?" });
    const reply = await receiver.next((delivery) => delivery.item?.interactive?.type === "call_permission_reply");
    expect(reply.field).toBe("messages");
    expect(reply.item.context.id).toBe(sent.messageId ?? (sent as any).messages?.[0]?.id);
    expect(reply.item.interactive.call_permission_reply).toMatchObject({ response: "accept", is_permanent: false, response_source: "user_action" });
    expect(reply.item.interactive.call_permission_reply.expiration_timestamp).toMatch(/^\d{10}$/);
    await expect(calls.getCallPermissions(USER)).resolves.toMatchObject({ permission: { status: "temporary" } });

    const { callId } = await calls.connect(USER, refusedOffer, { bizOpaqueCallbackData: "order-7" });
    const connect = await receiver.next(isEvent("connect", callId));
    expect(connect.item).toMatchObject({ id: callId, from: sandbox.displayPhoneNumber, to: USER, direction: "BUSINESS_INITIATED", biz_opaque_callback_data: "order-7" });
    expect(connect.item.session.sdp_type).toBe("answer");
    const answer: string = connect.item.session.sdp;
    expect(answer).toMatch(/^a=ice-lite\r$/m);
    expect(answer).toMatch(/^a=setup:active\r$/m);
    await peer.pc.setRemoteDescription({ type: "answer", sdp: answer });

    const ringing = await receiver.next(isStatus("RINGING", callId));
    expect(ringing.item).toMatchObject({ id: callId, type: "call", status: "RINGING", recipient_id: USER, biz_opaque_callback_data: "order-7" });
    await receiver.next(isStatus("ACCEPTED", callId));
    await until(async () => (await sandbox.mediaStats(callId)).received.packets >= 25 && peer.received.packets >= 25, "audio both ways");
    expect((await sandbox.mediaStats(callId)).connected).toBe(true);

    await expect(calls.terminate(callId)).resolves.toEqual({ messaging_product: "whatsapp", success: true });
    const terminate = await receiver.next(isEvent("terminate", callId));
    expect(terminate.item).toMatchObject({ id: callId, status: "COMPLETED", direction: "BUSINESS_INITIATED", biz_opaque_callback_data: "order-7" });
    expect(terminate.item.start_time).toMatch(/^\d{10}$/);
    const order = receiver.received.filter((d) => d.item?.id === callId).map((d) => d.item.event ?? d.item.status);
    expect(order).toEqual(["connect", "RINGING", "ACCEPTED", "terminate"]);
    expectEveryDeliveryValid();
  });
});
