// The SDP side of Meta's relay: the offer and answer the sandbox's user sends (the 2025 template of
// webrtc.md §1.1), and the checks Meta's signalling and a browser make on the business's SDP (webrtc.md §5.2).
// A check that fails gives the text that goes into `error_data.details` of a code 100 refusal.

/** What the user's side puts into its SDP: from its WebRTC peer, or made up when there is no media. */
export interface UserSdpParams {
  readonly ufrag: string;
  readonly pwd: string;
  /** `sha-256 AA:BB:…` */
  readonly fingerprint: string;
  readonly port: number;
  readonly ssrc: number;
  /** The audio mid; Meta's offers use `audio`. */
  readonly mid: string;
  /** Opus and telephone-event payload types (111 and 126 in Meta's offers). */
  readonly opus: number;
  readonly telephoneEvent: number | undefined;
  /** `actpass` in an offer; `active` in Meta's answers to a business's offer. */
  readonly setup: "actpass" | "active";
  readonly streamId: string;
  /**
   * `2025`: the structure of real offers captured in 2025 (webrtc.md §1.1). `docs`: the older one of Meta's
   * documentation (§1.2): extmap lines, `ufrag` on the candidate, ssrc msid lines, no ptime.
   */
  readonly format?: "2025" | "docs";
  /** `a=ice-lite`, as Meta's side says (default). A business's SDP must not: Meta is ICE-lite too. */
  readonly iceLite?: boolean;
}

const OPUS_FMTP = "maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;sprop-maxcapturerate=16000;useinbandfec=1";

/** Where the documentation's older offer (webrtc.md §1.2) differs from the 2025 one (§1.1). */
const DOCS_EXTMAPS = [
  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
  "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
];

/**
 * An SDP in the structure of a real WhatsApp offer, one host candidate on 127.0.0.1: the user's (ICE-lite), or with
 * `iceLite: false` a business's made up for a bot without WebRTC.
 */
export function userSdp(params: UserSdpParams): string {
  const docs = params.format === "docs";
  const { opus, telephoneEvent, ssrc, streamId } = params;
  const payloads = [opus, ...(telephoneEvent === undefined ? [] : [telephoneEvent])];
  const candidate = docs
    ? `3024637769 1 udp 2113937151 127.0.0.1 ${params.port} typ host generation 0 network-cost 50 ufrag ${params.ufrag}`
    : `3935165743 1 udp 2122260223 127.0.0.1 ${params.port} typ host generation 0 network-cost 50`;
  const lines = [
    "v=0",
    `o=- ${Date.now()} 2 IN IP4 127.0.0.1`,
    "s=-",
    "t=0 0",
    `a=group:BUNDLE ${params.mid}`,
    `a=msid-semantic: WMS ${streamId}`,
    ...(params.iceLite === false ? [] : ["a=ice-lite"]),
    `m=audio ${params.port} UDP/TLS/RTP/SAVPF ${payloads.join(" ")}`,
    "c=IN IP4 127.0.0.1",
    "a=rtcp:9 IN IP4 0.0.0.0",
    `a=candidate:${candidate}`,
    `a=ice-ufrag:${params.ufrag}`,
    `a=ice-pwd:${params.pwd}`,
    `a=fingerprint:${params.fingerprint}`,
    `a=setup:${params.setup}`,
    `a=mid:${params.mid}`,
    ...(docs ? DOCS_EXTMAPS : []),
    "a=sendrecv",
    ...(docs ? [] : [`a=msid:${streamId} WhatsAppTrack1`]),
    "a=rtcp-mux",
    `a=rtpmap:${opus} opus/48000/2`,
    `a=rtcp-fb:${opus} transport-cc`,
    `a=fmtp:${opus} ${docs ? "minptime=10;useinbandfec=1" : OPUS_FMTP}`,
    ...(telephoneEvent === undefined ? [] : [`a=rtpmap:${telephoneEvent} telephone-event/8000`]),
    ...(docs ? [] : ["a=maxptime:20", "a=ptime:20"]),
    `a=ssrc:${ssrc} cname:WhatsAppAudioStream1`,
    ...(docs ? [`a=ssrc:${ssrc} msid:${streamId} WhatsAppTrack1`] : []),
  ];
  return `${lines.join("\r\n")}\r\n`;
}

/**
 * An SDP in Meta's format with made-up ICE credentials, fingerprint and SSRC, for a side without media: the
 * user's, or (`iceLite` false) a business's that has no WebRTC stack.
 */
export function madeUpSdp(
  setup: "actpass" | "active",
  mid: string,
  opus: number,
  telephoneEvent: number | undefined,
  options: Pick<UserSdpParams, "format" | "iceLite"> = {},
): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32 + 12 + 16 + 4));
  const hex = Array.from(bytes.subarray(0, 32), (byte) => byte.toString(16).padStart(2, "0").toUpperCase());
  const base64 = (part: Uint8Array) => btoa(String.fromCharCode(...part));
  return userSdp({
    ufrag: base64(bytes.subarray(32, 44)).slice(0, 16),
    pwd: base64(bytes.subarray(44, 60)),
    fingerprint: `sha-256 ${hex.join(":")}`,
    port: 3484,
    ssrc: new DataView(bytes.buffer, 60, 4).getUint32(0),
    mid,
    opus,
    telephoneEvent,
    setup,
    streamId: crypto.randomUUID(),
    ...options,
  });
}

/** A made-up answer to `offer` (`a=setup:active`): the offer's mid, and its Opus and telephone-event payload types. */
export function madeUpAnswer(offer: string, iceLite: boolean): string {
  const codecs = [...audioCodecs(offer)];
  const opus = codecs.find(([, codec]) => codec === "opus/48000/2")?.[0] ?? 111;
  const telephone = codecs.find(([, codec]) => codec === "telephone-event/8000")?.[0];
  return madeUpSdp("active", attributes(offer, "mid")[0] ?? "0", opus, telephone, { iceLite });
}

/** The values of every `a=<name>:` line, in order. */
export function attributes(sdp: string, name: string): string[] {
  const prefix = `a=${name}:`;
  return lines(sdp)
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length).trim());
}

function lines(sdp: string): string[] {
  return sdp.split(/\r?\n/).filter((line) => line !== "");
}

function hasFlag(sdp: string, name: string): boolean {
  return lines(sdp).some((line) => line === `a=${name}`);
}

/** The codecs of the first audio m-line: payload type → `name/clock[/channels]`, lower case. */
export function audioCodecs(sdp: string): Map<number, string> {
  const codecs = new Map<number, string>();
  for (const value of attributes(sdp, "rtpmap")) {
    const match = /^(\d+)\s+(\S+)$/.exec(value);
    if (match) codecs.set(Number(match[1]), match[2]!.toLowerCase());
  }
  return codecs;
}

export function iceCredentials(sdp: string): { ufrag: string | undefined; pwd: string | undefined } {
  return { ufrag: attributes(sdp, "ice-ufrag")[0], pwd: attributes(sdp, "ice-pwd")[0] };
}

/** Problems common to every SDP the business sends (offer or answer); the first one found, or undefined. */
function checkCommon(sdp: string): string | undefined {
  if (!sdp.startsWith("v=0")) return "SDP validation error: session.sdp is not an SDP (it must start with v=0)";
  if (!sdp.includes("\r\n")) return "SDP validation error: SDP lines must end with CRLF (\\r\\n)";
  const media = lines(sdp).filter((line) => line.startsWith("m="));
  const audio = media.filter((line) => line.startsWith("m=audio "));
  if (audio.length !== 1 || media.length !== 1) {
    return `SDP validation error: exactly one m=audio line and no other media are allowed (found ${media.length} m= lines)`;
  }
  if (!/^m=audio [1-9]\d* UDP\/TLS\/RTP\/SAVPF( \d+)+$/.test(audio[0]!)) {
    return `SDP validation error: the audio m-line must use UDP/TLS/RTP/SAVPF with a non-zero port (${audio[0]})`;
  }
  const fingerprints = attributes(sdp, "fingerprint");
  if (fingerprints.length === 0) return "No fingerprint found in SDP";
  if (!fingerprints.some((value) => /^sha-256 ([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/.test(value))) {
    return "SDP validation error: a=fingerprint must be a sha-256 fingerprint";
  }
  const { ufrag, pwd } = iceCredentials(sdp);
  if (ufrag === undefined || ufrag.length < 4 || ufrag.length > 256) {
    return "SDP validation error: a=ice-ufrag is missing or not 4 to 256 characters long";
  }
  if (pwd === undefined || pwd.length < 22 || pwd.length > 256) {
    return "SDP validation error: a=ice-pwd is missing or not 22 to 256 characters long";
  }
  if (!hasFlag(sdp, "rtcp-mux")) return "SDP validation error: a=rtcp-mux is required";
  const ssrcs = new Set(attributes(sdp, "ssrc").map((value) => value.split(" ")[0]));
  if (ssrcs.size > 1) return `SDP validation error: a single audio SSRC is required (found ${ssrcs.size})`;
  return undefined;
}

/** What the business's answer to the user's offer must be; the problem, or undefined. */
export function checkAnswer(answer: string, offer: string): string | undefined {
  const common = checkCommon(answer);
  if (common) return common;
  const setup = attributes(answer, "setup")[0];
  if (setup === undefined) return "SDP validation error: a=setup is missing (the answer must say a=setup:active)";
  if (setup === "actpass") {
    return "SDP validation error: a=setup:actpass is an offer's; the answer must choose a=setup:active (is this the caller's offer sent back?)";
  }
  if (setup !== "active" && setup !== "passive") return `SDP validation error: a=setup:${setup} is not a DTLS role`;
  const own = iceCredentials(offer);
  const theirs = iceCredentials(answer);
  if (theirs.ufrag === own.ufrag && theirs.pwd === own.pwd) {
    return "SDP validation error: the answer carries the offer's own ICE credentials (the caller's offer sent back?)";
  }
  const offered = audioCodecs(offer);
  const answered = audioCodecs(answer);
  const opus = [...answered].find(([, codec]) => codec.startsWith("opus/"));
  if (opus && opus[1] !== "opus/48000/2") return `SDP validation error: Opus must be opus/48000/2 (found ${opus[1]})`;
  const common2 = [...answered].filter(([type, codec]) => offered.get(type) === codec);
  if (common2.length === 0) return "SDP validation error: the answer has no codec of the offer (Opus 111 was offered)";
  const telephone = [...answered].find(([, codec]) => codec.startsWith("telephone-event/"));
  if (telephone && telephone[1] !== "telephone-event/8000") {
    return "SDP validation error: telephone-event must use the 8000 clock rate";
  }
  const ptime = attributes(answer, "ptime")[0];
  if (ptime !== undefined && ptime !== "20") return `SDP validation error: a=ptime must be 20 (found ${ptime})`;
  return undefined;
}

/** What the business's offer of a business-initiated call must be; the problem, or undefined. */
export function checkOffer(offer: string): string | undefined {
  const common = checkCommon(offer);
  if (common) return common;
  const setup = attributes(offer, "setup")[0];
  if (setup !== "actpass") return `SDP validation error: an offer must say a=setup:actpass (found ${setup ?? "none"})`;
  const codecs = [...audioCodecs(offer).values()];
  if (!codecs.includes("opus/48000/2")) return "SDP validation error: the offer must include opus/48000/2";
  return undefined;
}

/** Remarks that do not fail the call at signalling but show where a real call may go wrong (webrtc.md §5.2). */
export function answerWarnings(answer: string, offer: string): string[] {
  const warnings: string[] = [];
  if (attributes(answer, "setup")[0] === "passive") {
    warnings.push("a=setup:passive: Meta's side is a DTLS server only, so nobody sends a ClientHello; answer a=setup:active");
  }
  if (hasFlag(answer, "ice-lite")) warnings.push("a=ice-lite in the answer: Meta is ICE-lite too, so nobody sends checks");
  if (attributes(answer, "fingerprint").length > 1) warnings.push("more than one a=fingerprint");
  const offered = audioCodecs(offer);
  const telephone = [...offered].find(([, codec]) => codec === "telephone-event/8000");
  if (telephone && !audioCodecs(answer).has(telephone[0])) warnings.push("telephone-event dropped: DTMF is lost");
  for (const direction of ["recvonly", "sendonly", "inactive"]) {
    if (hasFlag(answer, direction)) warnings.push(`a=${direction}: the call needs sendrecv`);
  }
  return warnings;
}

/**
 * For a bot with no WebRTC stack: an answer to the user's offer (no ICE-lite, `a=setup:active`, made-up
 * credentials), or the problem that makes `offer` no offer. `sandbox.answerWithoutMedia` and the sandbox's
 * `POST /sandbox/answer-without-media` both give it.
 */
export function answerWithoutMedia(offer: unknown): { answer: string } | { problem: string } {
  const problem = typeof offer === "string" ? checkOffer(offer) : "it is not a string";
  return problem ? { problem } : { answer: madeUpAnswer(offer as string, false) };
}

/** For a bot with no WebRTC stack: an offer for `connect` (`a=setup:actpass`, no ICE-lite, made-up credentials). */
export function offerWithoutMedia(): string {
  return madeUpSdp("actpass", "audio", 111, 126, { iceLite: false });
}
