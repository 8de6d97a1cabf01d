// src/json.ts: integers past 2^53 kept as their digits, and nothing else touched.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exactIntegers, parseJsonExact } from "../../src/json.js";

describe("exactIntegers", () => {
  it("quotes integers past 2^53 - 1 outside strings, and nothing else", () => {
    const text = String.raw`{"a":9007199254740993,"b":[-12345678901234567890, 9007199254740991, 1.2345678901234567, 12345678901234567e2],"c":"x 9007199254740993 \" 9007199254740993","d":{"e":10277777777777777}}`;
    expect(exactIntegers(text)).toBe(
      String.raw`{"a":"9007199254740993","b":["-12345678901234567890", 9007199254740991, 1.2345678901234567, 12345678901234567e2],"c":"x 9007199254740993 \" 9007199254740993","d":{"e":"10277777777777777"}}`,
    );
  });

  it("changes nothing of any JSON but those integers, and reads what it quotes back exact", () => {
    // What the exact reading of JSON.stringify(value) gives: each integer written past 2^53 - 1 as its digits.
    const expected = (node: unknown): unknown =>
      typeof node === "number" && Number.isInteger(node) && !Number.isSafeInteger(node) && /^-?\d+$/.test(String(node))
        ? String(node)
        : Array.isArray(node)
          ? node.map(expected)
          : node !== null && typeof node === "object"
            ? Object.fromEntries(Object.entries(node).map(([key, child]) => [key, expected(child)]))
            : node;
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        expect(JSON.parse(exactIntegers(text))).toEqual(expected(JSON.parse(text)));
      }),
      { numRuns: 2_000 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 2n ** 53n, max: 10n ** 25n }), fc.string(), (big, label) => {
        const text = JSON.stringify({ label, values: [1, "<BIG>", { id: "<BIG>" }] }).replaceAll('"<BIG>"', String(big));
        expect(parseJsonExact(text)).toEqual({ label, values: [1, String(big), { id: String(big) }] });
      }),
      { numRuns: 500 },
    );
  });

  it("parseJsonExact throws on what JSON.parse throws on", () => {
    expect(() => parseJsonExact('{"a":12345678901234567')).toThrow(SyntaxError);
  });
});
