/// <reference types="node" />
// The sandbox user's WebRTC peer, played like Meta's side rather than like a friendly browser (webrtc.md §5):
// ICE-lite (it answers the bot's checks and never sends its own; a bot that claims ICE-CONTROLLED gets 487), a
// DTLS server for calls the user places (its offer says a=setup:actpass and it waits for the bot's ClientHello),
// one host candidate on 127.0.0.1, no STUN or TURN server, Opus 111 + telephone-event 126 in the structure of a
// real 2025 WhatsApp offer. It sends a 440 Hz tone as real Opus frames (tone.ts) and counts what comes back.
//
// werift is an optional peer dependency: it is imported here, only when media is used.
import { WhatsAppError } from "../../errors.js";
import { MEDIA_PACKAGE, SandboxMediaUnavailableError } from "./errors.js";
import { userSdp } from "./sdp.js";
import type { MediaStats } from "./media-stats.js";
import { TONE_FRAMES } from "./tone.js";
import { MAX_RECORDED_FRAMES } from "./recordings.js";

type Werift = typeof import("werift");
type PeerConnection = InstanceType<Werift["RTCPeerConnection"]>;
type Track = InstanceType<Werift["MediaStreamTrack"]>;

let loading: Promise<Werift> | undefined;

/** Loads werift once. The specifier is a variable so that bundlers and size checks leave it out. */
export function loadWerift(): Promise<Werift> {
  const specifier: string = MEDIA_PACKAGE;
  loading ??= (import(specifier) as Promise<Werift>).catch((cause: unknown) => {
    loading = undefined;
    throw new SandboxMediaUnavailableError(cause);
  });
  return loading;
}

const OPUS_PT = 111;
const TELEPHONE_EVENT_PT = 126;
const FRAME_MS = 20;
const SAMPLES_PER_FRAME = 960;
/** The audio mid of Meta's offers. */
const META_MID = "audio";

export class UserMediaPeer {
  private readonly pc: PeerConnection;
  private readonly track: Track;
  private readonly werift: Werift;
  private ready = 0;
  private connectedAt: number | undefined;
  private sending: NodeJS.Timeout | undefined;
  private readonly counts = { sentPackets: 0, sentBytes: 0, receivedPackets: 0, receivedBytes: 0 };
  /** Whether the call asked for a recording: only then are the bot's packets kept. */
  recording = false;
  /** The bot's RTP payloads by payload type, for the call's recording: at most MAX_RECORDED_FRAMES. */
  private readonly recorded = new Map<number, Uint8Array[]>();
  private recordedPackets = 0;
  /** When the last RTP packet from the bot arrived (0: none yet). */
  lastReceivedAt = 0;
  private firstPacket!: () => void;
  /** Settles when the first RTP packet from the bot arrives. */
  readonly firstPacketReceived = new Promise<void>((resolve) => (this.firstPacket = resolve));
  private connectedResolve!: () => void;
  readonly connected = new Promise<void>((resolve) => (this.connectedResolve = resolve));

  private constructor(werift: Werift) {
    this.werift = werift;
    const { RTCPeerConnection, RTCRtpCodecParameters, MediaStreamTrack } = werift;
    this.pc = new RTCPeerConnection({
      iceLite: true,
      iceServers: [],
      // One host candidate on loopback: no interface is probed, no STUN server asked.
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ["127.0.0.1"],
      iceInterfaceAddresses: { udp4: "127.0.0.1" },
      codecs: {
        audio: [
          new RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48_000, channels: 2, payloadType: OPUS_PT }),
          new RTCRtpCodecParameters({ mimeType: "audio/telephone-event", clockRate: 8000, channels: 1, payloadType: TELEPHONE_EVENT_PT }),
        ],
        video: [],
      },
      headerExtensions: { audio: [], video: [] },
    });
    this.track = new MediaStreamTrack({ kind: "audio" });
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === "connected" && this.connectedAt === undefined) {
        this.connectedAt = Date.now();
        this.connectedResolve();
      }
    });
    this.pc.onTrack.subscribe((remote) => {
      remote.onReceiveRtp.subscribe((rtp) => {
        this.counts.receivedPackets += 1;
        this.lastReceivedAt = Date.now();
        this.counts.receivedBytes += rtp.payload.length;
        if (this.recording && this.recordedPackets < MAX_RECORDED_FRAMES) {
          this.recordedPackets += 1;
          const packets = this.recorded.get(rtp.header.payloadType) ?? [];
          this.recorded.set(rtp.header.payloadType, packets);
          packets.push(Uint8Array.from(rtp.payload));
        }
        this.firstPacket();
      });
    });
  }

  static async create(): Promise<UserMediaPeer> {
    return new UserMediaPeer(await loadWerift());
  }

  /** A user-initiated call: the user's offer, in the structure of Meta's. */
  async createOffer(format: "2025" | "docs" = "2025"): Promise<string> {
    // Meta's offers name the audio mid `audio`; werift keeps a mid set before its first offer.
    this.pc.addTransceiver(this.track, { direction: "sendrecv" }).mid = META_MID;
    await this.pc.setLocalDescription(await this.pc.createOffer());
    const local = this.pc.localDescription!.sdp;
    this.holdDtlsUntilAnswer();
    const candidate = /^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/m.exec(local);
    if (!candidate) throw new WhatsAppError("the sandbox's WebRTC peer has no candidate on 127.0.0.1");
    return userSdp({
      ufrag: attribute(local, "ice-ufrag")!,
      pwd: attribute(local, "ice-pwd")!,
      fingerprint: attribute(local, "fingerprint")!,
      port: Number(candidate[1]),
      ssrc: Number(attribute(local, "ssrc")?.split(" ")[0]),
      mid: META_MID,
      opus: OPUS_PT,
      telephoneEvent: TELEPHONE_EVENT_PT,
      setup: "actpass",
      streamId: crypto.randomUUID(),
      format,
    });
  }

  /**
   * Meta's relay answers the bot's ICE checks at once, but cannot finish DTLS before it has the answer's
   * fingerprint ("the ICE process will only converge after Meta processes the SDP answer"): a ClientHello that
   * arrives earlier is dropped, and the bot's DTLS retransmits it (webrtc.md §5.3). werift has no option for
   * this, so the user's ICE data event is wrapped; without that hook werift would run the handshake before it
   * knows the fingerprint and never deliver media.
   */
  private holdDtlsUntilAnswer(): void {
    type DataEvent = { execute: (data: Uint8Array, ...rest: unknown[]) => void };
    const transports = (this.pc as unknown as { iceTransports?: { connection?: { onData?: DataEvent } }[] }).iceTransports;
    const event = transports?.[0]?.connection?.onData;
    if (!event) throw new WhatsAppError("the sandbox cannot hold DTLS on this werift version (no ICE data event)");
    const deliver = event.execute;
    event.execute = (data, ...rest) => {
      const dtls = data[0] !== undefined && data[0] > 19 && data[0] < 64;
      if (dtls && this.ready === 0) return;
      deliver(data, ...rest);
    };
  }

  /**
   * Applies the bot's answer as a browser would; a rejection is the SDP problem, as text. The user stays the
   * DTLS server whatever the answer says: an answer of a=setup:passive leaves both sides waiting for a
   * ClientHello, which is how such a call ends with Meta too.
   */
  async applyAnswer(answer: string): Promise<string | undefined> {
    const translated = answer.replace(/^a=setup:passive(?=\r?$)/m, "a=setup:active");
    try {
      await this.pc.setRemoteDescription({ type: "answer", sdp: translated });
    } catch (error) {
      return `SDP validation error: ${error instanceof Error ? error.message : String(error)}`;
    }
    this.ready = Date.now();
    return undefined;
  }

  /** A business-initiated call: the user's ICE-lite answer to the bot's offer (Meta's answers say a=setup:active). */
  async answerOffer(offer: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: "offer", sdp: offer });
    const transceiver = this.pc.getTransceivers()[0];
    if (transceiver) {
      transceiver.setDirection("sendrecv");
      await transceiver.sender.replaceTrack(this.track);
    }
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.ready = Date.now();
    const answer = this.pc.localDescription!.sdp;
    return answer.includes("a=ice-lite") ? answer : answer.replace(/^(m=audio[^\r\n]*)/m, "a=ice-lite\r\n$1");
  }

  /** The user speaks: a tone, 20 ms Opus frames, until the call ends. Does not wait for the bot's media first. */
  startAudio(): void {
    if (this.sending) return;
    const { RtpPacket, RtpHeader } = this.werift;
    const frames = TONE_FRAMES.map((frame) => Buffer.from(frame, "base64"));
    let sequenceNumber = Math.floor(Math.random() * 0xffff);
    let timestamp = Math.floor(Math.random() * 0xffffffff);
    let index = 0;
    this.sending = setInterval(() => {
      const payload = frames[index % frames.length]!;
      const header = new RtpHeader({ payloadType: OPUS_PT, sequenceNumber, timestamp, marker: index === 0 });
      this.track.writeRtp(new RtpPacket(header, payload));
      sequenceNumber = (sequenceNumber + 1) & 0xffff;
      timestamp = (timestamp + SAMPLES_PER_FRAME) >>> 0;
      index += 1;
      if (this.connectedAt !== undefined) {
        this.counts.sentPackets += 1;
        this.counts.sentBytes += payload.length;
      }
    }, FRAME_MS);
    this.sending.unref();
  }

  /** The bot's audio as received: the packets of the payload type it sent most (Opus; DTMF events are few). */
  recordedAudio(): Uint8Array[] {
    return [...this.recorded.values()].reduce<Uint8Array[]>((most, packets) => (packets.length > most.length ? packets : most), []);
  }

  stats(): MediaStats {
    return {
      connected: this.connectedAt !== undefined,
      connectMs: this.connectedAt === undefined ? undefined : Math.max(0, this.connectedAt - this.ready),
      sent: { packets: this.counts.sentPackets, bytes: this.counts.sentBytes },
      received: { packets: this.counts.receivedPackets, bytes: this.counts.receivedBytes },
    };
  }

  async close(): Promise<void> {
    if (this.sending) clearInterval(this.sending);
    this.sending = undefined;
    this.track.stop();
    await this.pc.close().catch(() => undefined);
  }
}

function attribute(sdp: string, name: string): string | undefined {
  const match = new RegExp(`^a=${name}:(.*)$`, "m").exec(sdp);
  return match?.[1]?.trim();
}
