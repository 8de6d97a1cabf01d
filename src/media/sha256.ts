// SHA-256 that takes its input in pieces. crypto.subtle.digest() needs the whole input at once, so checking a
// download against its `sha256` while it streams would mean holding every byte until the end; this hashes each
// chunk as it passes instead (FIPS 180-4). Only the media checksum uses it: signatures stay on crypto.subtle.

// The constants are the first 32 bits of the fractional parts of the square roots (initial state) and cube
// roots (round constants) of the first primes (FIPS 180-4, 4.2.2 and 5.3.3), computed rather than spelled out.
const PRIMES: number[] = [];
for (let n = 2; PRIMES.length < 64; n++) if (PRIMES.every((p) => n % p !== 0)) PRIMES.push(n);
const fraction = (x: number) => ((x - Math.floor(x)) * 2 ** 32) >>> 0;
const K = Uint32Array.from(PRIMES, (p) => fraction(Math.cbrt(p)));
const INITIAL = Uint32Array.from(PRIMES.slice(0, 8), (p) => fraction(Math.sqrt(p)));

export class Sha256 {
  private readonly state = INITIAL.slice();
  private readonly block = new Uint8Array(64);
  private readonly words = new Uint32Array(64);
  private blockLength = 0;
  private totalLength = 0;
  private finished = false;

  update(data: Uint8Array): this {
    if (this.finished) throw new Error("Sha256: update() after digest()");
    this.totalLength += data.byteLength;
    this.absorb(data);
    return this;
  }

  digest(): Uint8Array {
    if (this.finished) throw new Error("Sha256: digest() called twice");
    this.finished = true;
    const bitLength = this.totalLength * 8;
    const padding = new Uint8Array((this.blockLength < 56 ? 56 : 120) - this.blockLength + 8);
    padding[0] = 0x80;
    const view = new DataView(padding.buffer);
    // A JavaScript number holds lengths up to 2^53 bits exactly; write it as two 32-bit halves.
    view.setUint32(padding.length - 8, Math.floor(bitLength / 2 ** 32));
    view.setUint32(padding.length - 4, bitLength >>> 0);
    this.absorb(padding);
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) outView.setUint32(i * 4, this.state[i]!);
    return out;
  }

  /** Feeds bytes through the 64-byte blocks, keeping a partial block for the next call. */
  private absorb(data: Uint8Array): void {
    let offset = 0;
    if (this.blockLength > 0) {
      const take = Math.min(64 - this.blockLength, data.byteLength);
      this.block.set(data.subarray(0, take), this.blockLength);
      this.blockLength += take;
      offset = take;
      if (this.blockLength < 64) return;
      this.compress(this.block, 0);
      this.blockLength = 0;
    }
    for (; offset + 64 <= data.byteLength; offset += 64) this.compress(data, offset);
    if (offset < data.byteLength) {
      this.block.set(data.subarray(offset), 0);
      this.blockLength = data.byteLength - offset;
    }
  }

  private compress(data: Uint8Array, offset: number): void {
    const w = this.words;
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4;
      w[i] = (data[j]! << 24) | (data[j + 1]! << 16) | (data[j + 2]! << 8) | data[j + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!;
      const b = w[i - 2]!;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    const s = this.state;
    let a = s[0]!, b = s[1]!, c = s[2]!, d = s[3]!, e = s[4]!, f = s[5]!, g = s[6]!, h = s[7]!;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K[i]! + w[i]!) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    s[0] = (s[0]! + a) | 0;
    s[1] = (s[1]! + b) | 0;
    s[2] = (s[2]! + c) | 0;
    s[3] = (s[3]! + d) | 0;
    s[4] = (s[4]! + e) | 0;
    s[5] = (s[5]! + f) | 0;
    s[6] = (s[6]! + g) | 0;
    s[7] = (s[7]! + h) | 0;
  }
}

/**
 * The 32 bytes of a SHA-256 digest written in hex (the Media API's example) or Base64 (the webhooks'), standard
 * or URL-safe, padded or not; undefined when it is neither.
 */
export function decodeDigest(text: string): Uint8Array | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    return Uint8Array.from(trimmed.match(/../g)!, (pair) => parseInt(pair, 16));
  }
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return undefined;
  const standard = trimmed.replace(/-/g, "+").replace(/_/g, "/").replace(/=?$/, "=");
  let binary: string;
  try {
    binary = atob(standard);
  } catch {
    return undefined;
  }
  return binary.length === 32 ? Uint8Array.from(binary, (char) => char.charCodeAt(0)) : undefined;
}

/** A digest written the way `like` is written (hex or Base64), so that an error shows two comparable strings. */
export function encodeDigestLike(digest: Uint8Array, like: string): string {
  if (/^[0-9a-fA-F]{64}$/.test(like.trim())) return [...digest].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return btoa(String.fromCharCode(...digest));
}

export function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
