import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Sha256, decodeDigest, encodeDigestLike } from "../../src/media/sha256.js";

describe("streamed SHA-256 agrees with node:crypto", () => {
  // Lengths around the 55/56/64-byte padding edges, and larger ones, each fed in random pieces.
  it.each([0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65_537, 300_000])("%i bytes", (length) => {
    const data = randomBytes(length);
    const hash = new Sha256();
    for (let offset = 0; offset < length; ) {
      const take = Math.min(length - offset, 1 + Math.floor(Math.random() * 200));
      hash.update(data.subarray(offset, offset + take));
      offset += take;
    }
    expect(Buffer.from(hash.digest()).toString("hex")).toBe(createHash("sha256").update(data).digest("hex"));
  });

  it("refuses to be used after digest()", () => {
    const hash = new Sha256();
    hash.digest();
    expect(() => hash.update(new Uint8Array(1))).toThrow(/after digest/);
    expect(() => hash.digest()).toThrow(/twice/);
  });
});

describe("digests in either encoding", () => {
  const digest = createHash("sha256").update("recording").digest();
  it.each([
    ["hex", digest.toString("hex")],
    ["upper-case hex", digest.toString("hex").toUpperCase()],
    ["Base64", digest.toString("base64")],
    ["Base64 without padding", digest.toString("base64").replace(/=$/, "")],
    ["URL-safe Base64", digest.toString("base64url")],
  ])("%s", (_, text) => {
    expect(Buffer.from(decodeDigest(text)!)).toEqual(digest);
  });

  it.each(["", "abc", "zz".repeat(32), digest.toString("hex").slice(2), "A".repeat(44)])("refuses %j", (text) => {
    expect(decodeDigest(text)).toBeUndefined();
  });

  it("writes a digest the way the expected one is written", () => {
    expect(encodeDigestLike(digest, "0".repeat(64))).toBe(digest.toString("hex"));
    expect(encodeDigestLike(digest, "Y9vvGyeo3n76ptkXu3CwDBsnzbRFqpjHskQdMGSVqas=")).toBe(digest.toString("base64"));
  });
});
