// The sandbox's call recordings are Ogg Opus files (RFC 7845), as Meta's are (`audio/ogg; codecs=opus`): Opus
// packets as they came over RTP, put in Ogg pages without re-encoding. Only what a writer needs is here.
import { concatBytes, utf8Bytes } from "../../webhooks/bytes.js";

const PRE_SKIP = 312;
const SAMPLE_RATE = 48_000;
/** A 20 ms CELT frame that decodes to silence: the recording of a call without media. */
export const SILENT_OPUS_PACKET = Uint8Array.of(0xf8, 0xff, 0xfe);
/** Packets per page: a second of 20 ms frames, well inside a page's 255 lacing values. */
const PACKETS_PER_PAGE = 50;

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let crc = n << 24;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  return crc >>> 0;
});

/** Ogg's CRC-32: polynomial 0x04c11db7, not reflected, no initial or final XOR. */
export function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc;
}

/** Samples at 48 kHz in one Opus packet, from its TOC byte (RFC 6716 §3.1). */
export function opusSamples(packet: Uint8Array): number {
  const toc = packet[0]!;
  const config = toc >> 3;
  // SILK 10/20/40/60 ms, hybrid 10/20 ms, CELT 2.5/5/10/20 ms.
  const frame = config < 12 ? [480, 960, 1920, 2880][config & 3]! : config < 16 ? [480, 960][config & 1]! : [120, 240, 480, 960][config & 3]!;
  const code = toc & 3;
  const frames = code === 0 ? 1 : code < 3 ? 2 : (packet[1] ?? 0) & 0x3f;
  return frame * frames;
}

function page(packets: readonly Uint8Array[], granule: bigint, sequence: number, serial: number, flags: number): Uint8Array {
  const lacing: number[] = [];
  let size = 0;
  for (const packet of packets) {
    for (let left = packet.length; ; left -= 255) {
      lacing.push(Math.min(left, 255));
      if (left < 255) break;
    }
    size += packet.length;
  }
  const bytes = new Uint8Array(27 + lacing.length + size);
  const view = new DataView(bytes.buffer);
  bytes.set([0x4f, 0x67, 0x67, 0x53]); // "OggS"; version 0
  bytes[5] = flags;
  view.setBigInt64(6, granule, true);
  view.setUint32(14, serial, true);
  view.setUint32(18, sequence, true);
  bytes[26] = lacing.length;
  bytes.set(lacing, 27);
  let offset = 27 + lacing.length;
  for (const packet of packets) {
    bytes.set(packet, offset);
    offset += packet.length;
  }
  view.setUint32(22, oggCrc(bytes), true);
  return bytes;
}

/** An Ogg Opus file of mono Opus packets (empty ones are left out; none at all gives one silent frame). */
export function oggOpus(packets: readonly Uint8Array[], vendor = "whatsapp-calling sandbox"): Uint8Array {
  const audio = packets.filter((packet) => packet.length > 0);
  if (audio.length === 0) audio.push(SILENT_OPUS_PACKET);
  const serial = 0x5741_4341; // any number; one logical stream
  const head = new Uint8Array(19);
  const headView = new DataView(head.buffer);
  head.set(utf8Bytes("OpusHead"));
  head[8] = 1; // version
  head[9] = 1; // channels
  headView.setUint16(10, PRE_SKIP, true);
  headView.setUint32(12, SAMPLE_RATE, true);
  const vendorBytes = utf8Bytes(vendor);
  const tags = new Uint8Array(8 + 4 + vendorBytes.length + 4);
  tags.set(utf8Bytes("OpusTags"));
  new DataView(tags.buffer).setUint32(8, vendorBytes.length, true);
  tags.set(vendorBytes, 12);
  const pages = [page([head], 0n, 0, serial, 0x02), page([tags], 0n, 1, serial, 0)];
  let granule = 0n;
  for (let start = 0; start < audio.length; start += PACKETS_PER_PAGE) {
    const chunk = audio.slice(start, start + PACKETS_PER_PAGE);
    for (const packet of chunk) granule += BigInt(opusSamples(packet));
    const last = start + PACKETS_PER_PAGE >= audio.length;
    pages.push(page(chunk, granule, pages.length, serial, last ? 0x04 : 0));
  }
  return concatBytes(pages, pages.reduce((total, part) => total + part.length, 0));
}
