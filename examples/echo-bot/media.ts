// The bot's side of the media: a werift peer connection that answers the caller's offer (or offers, for a
// call the bot places) and sends back every audio packet it receives. One peer per call; it lives as long as
// the call, not as long as the webhook request that created it.
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from "werift";

export interface EchoPeer {
  readonly pc: RTCPeerConnection;
  readonly received: { packets: number; bytes: number };
  readonly sent: { packets: number; bytes: number };
  /** Resolves when ICE and DTLS are up; rejects when they fail or after `deadlineMs`. */
  connected(deadlineMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Loopback only, for the sandbox: host candidates on 127.0.0.1 and no public STUN server. (werift asks
 * stun.l.google.com when no STUN server is configured; a loopback address that nobody answers keeps it local.)
 * In production leave the addresses to werift and give it your own STUN server if you are behind NAT.
 */
const LOCAL_ONLY = {
  iceServers: [{ urls: "stun:127.0.0.1:9" }],
  iceStunGatherTimeout: 0.05,
  iceUseIpv4: false,
  iceUseIpv6: false,
  iceAdditionalHostAddresses: ["127.0.0.1"],
  iceInterfaceAddresses: { udp4: "127.0.0.1" },
};

export function createEchoPeer(): EchoPeer {
  const pc = new RTCPeerConnection({
    ...LOCAL_ONLY,
    // WhatsApp offers Opus 111 and telephone-event 126 only.
    codecs: {
      audio: [
        new RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48_000, channels: 2, payloadType: 111 }),
        new RTCRtpCodecParameters({ mimeType: "audio/telephone-event", clockRate: 8000, channels: 1, payloadType: 126 }),
      ],
      video: [],
    },
  });
  const track = new MediaStreamTrack({ kind: "audio" });
  const received = { packets: 0, bytes: 0 };
  const sent = { packets: 0, bytes: 0 };
  pc.onTrack.subscribe((remote) => {
    remote.onReceiveRtp.subscribe((rtp) => {
      received.packets += 1;
      received.bytes += rtp.payload.length;
      // The echo: the same Opus frame goes back on the bot's one SSRC (Meta requires a single SSRC).
      track.writeRtp(rtp);
      sent.packets += 1;
      sent.bytes += rtp.payload.length;
    });
  });
  (pc as unknown as { echoTrack: MediaStreamTrack }).echoTrack = track;
  return {
    pc,
    received,
    sent,
    connected(deadlineMs) {
      return new Promise((resolve, reject) => {
        if (pc.connectionState === "connected") return resolve();
        const timer = setTimeout(() => reject(new Error(`no ICE + DTLS connection within ${deadlineMs} ms`)), deadlineMs);
        pc.connectionStateChange.subscribe((state) => {
          if (state === "connected") {
            clearTimeout(timer);
            resolve();
          } else if (state === "failed" || state === "closed") {
            clearTimeout(timer);
            reject(new Error(`the peer connection is ${state}`));
          }
        });
      });
    },
    close: () => pc.close(),
  };
}

/** The answer to a caller's offer (user-initiated call). */
export async function answerCall(peer: EchoPeer, offer: string): Promise<string> {
  await peer.pc.setRemoteDescription({ type: "offer", sdp: offer });
  const transceiver = peer.pc.getTransceivers()[0];
  if (!transceiver) throw new Error("the offer has no audio");
  transceiver.setDirection("sendrecv");
  await transceiver.sender.replaceTrack((peer.pc as unknown as { echoTrack: MediaStreamTrack }).echoTrack);
  await peer.pc.setLocalDescription(await peer.pc.createAnswer());
  return peer.pc.localDescription!.sdp;
}

/** The bot's offer for a call it places (business-initiated). */
export async function offerCall(peer: EchoPeer): Promise<string> {
  peer.pc.addTransceiver((peer.pc as unknown as { echoTrack: MediaStreamTrack }).echoTrack, { direction: "sendrecv" });
  await peer.pc.setLocalDescription(await peer.pc.createOffer());
  return peer.pc.localDescription!.sdp;
}
