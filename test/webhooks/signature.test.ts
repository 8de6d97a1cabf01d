import { WhatsAppValidationError } from "../../src/index.js";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { signWebhookPayload } from "../../src/testing/index.js";
import { verifySignature } from "../../src/webhooks/index.js";
import { deliveryFixtures, encode, fixtureAppSecret, fixtureBytes, signatureCases } from "./helpers.js";

const connectBody = fixtureBytes("webhooks/calls.connect.user-initiated.json");
const connectSignature = signatureCases.cases[0]!.x_hub_signature_256;

describe("verifySignature", () => {
  it.each(signatureCases.cases.map((testCase, index) => ({ ...testCase, index })))(
    "signature case $index ($body_file) is $expected_valid",
    async (testCase) => {
      const file = fixtureBytes(testCase.body_file);
      const body = testCase.body_transform ? new Uint8Array([...file, 0x20]) : file;
      expect(await verifySignature(body, testCase.x_hub_signature_256, fixtureAppSecret)).toBe(testCase.expected_valid);
    },
  );

  it("accepts the raw body as Uint8Array, ArrayBuffer and (UTF-8) string alike", async () => {
    const asString = new TextDecoder().decode(connectBody);
    const asArrayBuffer = connectBody.buffer.slice(connectBody.byteOffset, connectBody.byteOffset + connectBody.byteLength);
    expect(await verifySignature(connectBody, connectSignature, fixtureAppSecret)).toBe(true);
    expect(await verifySignature(asArrayBuffer, connectSignature, fixtureAppSecret)).toBe(true);
    expect(await verifySignature(asString, connectSignature, fixtureAppSecret)).toBe(true);
    expect(await verifySignature(Buffer.from(connectBody), connectSignature, fixtureAppSecret)).toBe(true);
  });

  it("accepts a Uint8Array or ArrayBuffer made in another realm (decision of issue 11: 0.1.0 threw)", async () => {
    const foreign = runInNewContext("(source) => Uint8Array.from(source)")(Array.from(connectBody)) as Uint8Array;
    expect(foreign instanceof Uint8Array).toBe(false);
    expect(await verifySignature(foreign, connectSignature, fixtureAppSecret)).toBe(true);
    expect(await verifySignature(foreign.buffer as ArrayBuffer, connectSignature, fixtureAppSecret)).toBe(true);
    expect(await verifySignature(foreign, connectSignature.replace(/.$/, "0"), fixtureAppSecret)).toBe(connectSignature.endsWith("0"));
  });

  it("keeps verifying with a cached key: many secrets, and the same secret again", async () => {
    for (let index = 0; index < 40; index++) expect(await verifySignature(connectBody, connectSignature, `other-${index}`)).toBe(false);
    expect(await verifySignature(connectBody, connectSignature, fixtureAppSecret)).toBe(true);
    expect(await verifySignature(connectBody, connectSignature, fixtureAppSecret)).toBe(true);
    expect(await verifySignature(connectBody, connectSignature, `${fixtureAppSecret}x`)).toBe(false);
  });

  it("accepts any secret of a list, so a secret can be rotated", async () => {
    expect(await verifySignature(connectBody, connectSignature, ["new-secret", fixtureAppSecret])).toBe(true);
    expect(await verifySignature(connectBody, connectSignature, [fixtureAppSecret, "new-secret"])).toBe(true);
    expect(await verifySignature(connectBody, connectSignature, ["new-secret", "older-secret"])).toBe(false);
    expect(await verifySignature(connectBody, connectSignature, "another-secret")).toBe(false);
  });

  it.each([
    ["missing (undefined)", undefined],
    ["missing (null)", null],
    ["empty", ""],
    ["without the sha256= prefix", connectSignature.slice("sha256=".length)],
    ["with another algorithm", connectSignature.replace("sha256=", "sha1=")],
    ["with an uppercase prefix", connectSignature.replace("sha256=", "SHA256=")],
    ["one hex digit short", connectSignature.slice(0, -1)],
    ["one hex digit long", `${connectSignature}0`],
    ["not hex", `sha256=${"z".repeat(64)}`],
    ["uppercase hex", connectSignature.toUpperCase().replace("SHA256=", "sha256=")],
    ["with surrounding spaces", ` ${connectSignature} `],
    ["two signatures", `${connectSignature},${connectSignature}`],
    ["only the prefix", "sha256="],
  ])("gives false, never throws, for a header %s", async (_label, header) => {
    await expect(verifySignature(connectBody, header, fixtureAppSecret)).resolves.toBe(false);
  });

  it("refuses every single-byte change of a signed body, at every position", async () => {
    const changedBody = new Uint8Array(connectBody);
    const accepted: number[] = [];
    for (let position = 0; position < connectBody.length; position++) {
      const original = changedBody[position]!;
      changedBody[position] = original ^ 0x01;
      if (await verifySignature(changedBody, connectSignature, fixtureAppSecret)) accepted.push(position);
      changedBody[position] = original;
    }
    expect(connectBody.length).toBe(2373);
    expect(accepted).toEqual([]);
    expect(await verifySignature(changedBody, connectSignature, fixtureAppSecret)).toBe(true);
  });

  it("verifies Meta's \\u00e9-escaped form of non-ASCII text, not the re-serialised JSON", async () => {
    const escaped = '{"object":"whatsapp_business_account","entry":[],"name":"Ren\\u00e9e Fran\\u00e7ois \\ud83d\\udcde"}';
    const reserialised = JSON.stringify(JSON.parse(escaped));
    expect(reserialised).toContain("Renée François 📞");
    const signature = await signWebhookPayload(escaped, fixtureAppSecret);
    expect(await verifySignature(escaped, signature, fixtureAppSecret)).toBe(true);
    expect(await verifySignature(reserialised, signature, fixtureAppSecret)).toBe(false);
  });

  it("throws a WhatsAppValidationError, naming no secret, when no app secret is configured", async () => {
    await expect(verifySignature(connectBody, connectSignature, "")).rejects.toThrow(
      new WhatsAppValidationError("appSecret must be a non-empty string or a non-empty list of non-empty strings", { path: "appSecret" }),
    );
    await expect(verifySignature(connectBody, connectSignature, [])).rejects.toThrow(WhatsAppValidationError);
    await expect(verifySignature(connectBody, connectSignature, [fixtureAppSecret, ""])).rejects.toThrow(WhatsAppValidationError);
  });

  it("throws a WhatsAppValidationError for a parsed body instead of the raw bytes", async () => {
    const parsed = JSON.parse(new TextDecoder().decode(connectBody)) as unknown;
    await expect(verifySignature(parsed as string, connectSignature, fixtureAppSecret)).rejects.toThrow(
      /must be a string, a Uint8Array or an ArrayBuffer/,
    );
  });
});

describe("signWebhookPayload", () => {
  it("reproduces the header of every valid signature case", async () => {
    for (const testCase of signatureCases.cases.filter((candidate) => candidate.expected_valid)) {
      expect(await signWebhookPayload(fixtureBytes(testCase.body_file), fixtureAppSecret)).toBe(testCase.x_hub_signature_256);
    }
  });

  it("signs strings as their UTF-8 bytes, in the sha256=<64 lowercase hex> form", async () => {
    const text = '{"name":"Renée"}';
    const header = await signWebhookPayload(text, "secret");
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(await signWebhookPayload(encode(text), "secret")).toBe(header);
    // RFC 4231 test case 2: HMAC-SHA256 with key "Jefe".
    expect(await signWebhookPayload("what do ya want for nothing?", "Jefe")).toBe(
      "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("signs every delivery fixture so that verifySignature accepts it", async () => {
    for (const file of deliveryFixtures) {
      const body = fixtureBytes(file);
      expect(await verifySignature(body, await signWebhookPayload(body, "s3cret"), "s3cret")).toBe(true);
    }
  });
});
