// Test parts for the sandbox, independent of the sandbox's own code: a real webhook receiver on 127.0.0.1 that
// keeps every delivery's raw bytes and checks its signature with node:crypto and its shape with ajv compiled
// from openapi.yaml here; and a bot's WebRTC peer (werift) that answers and echoes, or misbehaves on purpose.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createSpecAjv, SPEC_SCHEMA_ID } from "../../scripts/generate.js";
import { loadSpec } from "../../scripts/lib/spec.js";

export const APP_SECRET = "sandbox-test-app-secret";

const ajv = createSpecAjv(loadSpec());
/** The webhook schema of openapi.yaml for a delivery's field. */
export function schemaErrors(payload: any): unknown {
  const field = payload?.entry?.[0]?.changes?.[0]?.field;
  const name =
    field === "calls" ? "CallsWebhookNotification"
    : field === "messages" ? "MessagesWebhookNotification"
    : field === "account_settings_update" ? "AccountSettingsUpdateWebhookNotification"
    : "WebhookNotification";
  const validate = ajv.getSchema(`${SPEC_SCHEMA_ID}#/components/schemas/${name}`)!;
  return validate(payload) ? null : validate.errors;
}

export function signatureValid(rawBody: string, header: string | undefined, secret = APP_SECRET): boolean {
  const expected = `sha256=${createHmac("sha256", secret).update(rawBody, "utf8").digest("hex")}`;
  return header !== undefined && header.length === expected.length && timingSafeEqual(Buffer.from(header), Buffer.from(expected));
}

export interface Received {
  rawBody: string;
  headers: IncomingHttpHeaders;
  json: any;
  /** The first calls[] / statuses[] / messages[] item. */
  item: any;
  field: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** What to answer each delivery with (default 200); runs before the answer is sent. */
  onDelivery: (delivery: Received) => number | Promise<number>;
  /** Resolves with the first delivery (already received or to come) that matches. */
  next(match: (delivery: Received) => boolean, timeoutMs?: number): Promise<Received>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const waiters = new Set<() => void>();
  const receiver: Receiver = {
    url: "",
    received: [],
    onDelivery: () => 200,
    next(match, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = receiver.received.find(match);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching delivery within ${timeoutMs} ms; got ${receiver.received.map(describe).join(", ")}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      const json = JSON.parse(rawBody);
      const value = json.entry?.[0]?.changes?.[0]?.value ?? {};
      const delivery: Received = {
        rawBody,
        headers: req.headers,
        json,
        item: value.calls?.[0] ?? value.statuses?.[0] ?? value.messages?.[0],
        field: json.entry?.[0]?.changes?.[0]?.field,
      };
      receiver.received.push(delivery);
      const status = await receiver.onDelivery(delivery);
      res.writeHead(status).end();
      for (const waiter of [...waiters]) waiter();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  return receiver;
}

export function describe(delivery: Received): string {
  return delivery.item?.event ?? delivery.item?.status ?? delivery.item?.interactive?.type ?? delivery.field;
}

export const isEvent = (event: string, callId?: string) => (delivery: Received) =>
  delivery.item?.event === event && (callId === undefined || delivery.item.id === callId);
export const isStatus = (status: string, callId?: string) => (delivery: Received) =>
  delivery.field === "calls" && delivery.item?.status === status && delivery.item?.type === "call" && (callId === undefined || delivery.item.id === callId);

type Werift = typeof import("werift");
const werift: Werift = await import("werift");

/** A bot's peer: full ICE, on loopback, no STUN server; echoes what it receives. */
export interface BotPeer {
  pc: InstanceType<Werift["RTCPeerConnection"]>;
  received: { packets: number; payloads: Buffer[] };
  close(): Promise<void>;
}

export function botPeer(options: { iceLite?: boolean; echo?: boolean } = {}): BotPeer {
  const pc = new werift.RTCPeerConnection({
    // A full ICE agent asks a STUN server for its public address, and werift's default when none is configured
    // (`iceServers: []` included) is stun.l.google.com: a loopback address nobody answers keeps the test on
    // 127.0.0.1 (test/sandbox/loopback.test.ts checks it).
    iceServers: [{ urls: "stun:127.0.0.1:9" }],
    iceStunGatherTimeout: 0.05,
    iceLite: options.iceLite ?? false,
    iceUseIpv4: false,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: ["127.0.0.1"],
    iceInterfaceAddresses: { udp4: "127.0.0.1" },
    codecs: {
      audio: [
        new werift.RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48_000, channels: 2, payloadType: 111 }),
        new werift.RTCRtpCodecParameters({ mimeType: "audio/telephone-event", clockRate: 8000, channels: 1, payloadType: 126 }),
      ],
      video: [],
    },
  });
  const track = new werift.MediaStreamTrack({ kind: "audio" });
  const received = { packets: 0, payloads: [] as Buffer[] };
  pc.onTrack.subscribe((remote) =>
    remote.onReceiveRtp.subscribe((rtp) => {
      received.packets += 1;
      if (received.payloads.length < 100) received.payloads.push(Buffer.from(rtp.payload));
      if (options.echo !== false) track.writeRtp(rtp);
    }),
  );
  (pc as any).__track = track;
  return { pc, received, close: () => pc.close() };
}

/** The bot's answer to the user's offer (user-initiated call). */
export async function answerOffer(peer: BotPeer, offer: string, munge: (sdp: string) => string = (sdp) => sdp): Promise<string> {
  await peer.pc.setRemoteDescription({ type: "offer", sdp: offer });
  const transceiver = peer.pc.getTransceivers()[0]!;
  transceiver.setDirection("sendrecv");
  await transceiver.sender.replaceTrack((peer.pc as any).__track);
  const answer = await peer.pc.createAnswer();
  // The bot applies what it sends (a passive answer makes the bot a DTLS server).
  await peer.pc.setLocalDescription({ type: "answer", sdp: munge(answer.sdp) });
  return peer.pc.localDescription!.sdp;
}

/** The bot's offer for a business-initiated call. */
export async function createOffer(peer: BotPeer): Promise<string> {
  peer.pc.addTransceiver((peer.pc as any).__track, { direction: "sendrecv" });
  await peer.pc.setLocalDescription(await peer.pc.createOffer());
  return peer.pc.localDescription!.sdp;
}

/** Waits until `condition` holds, checking every 50 ms (bounded; no timing is asserted). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
