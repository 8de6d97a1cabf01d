import { WhatsAppValidationError } from "../../src/index.js";
import { describe, expect, it } from "vitest";
import { WhatsAppError } from "../../src/errors.js";
import { verifySubscription, WebhookVerificationError } from "../../src/webhooks/index.js";
import { fixtureJson } from "./helpers.js";

interface VerificationFixture {
  request: { query: Record<string, string> };
  configured_verify_token: string;
  expected_response: { status: number; content_type: string; body: string };
  mismatch_case: { query: Record<string, string>; expected_status: number };
}
const verification = fixtureJson<VerificationFixture>("webhooks/verification.get.json");

function refusal(run: () => unknown): WebhookVerificationError {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error;
    throw error;
  }
  throw new Error("expected a WebhookVerificationError");
}

describe("verifySubscription", () => {
  it("echoes the fixture's challenge verbatim from URLSearchParams, a URL and a plain record", () => {
    const params = new URLSearchParams(verification.request.query);
    const url = new URL(`https://example.test/webhooks/whatsapp?${params}`);
    expect(verifySubscription(params, verification.configured_verify_token)).toBe(verification.expected_response.body);
    expect(verifySubscription(url, verification.configured_verify_token)).toBe("1158201444");
    expect(verifySubscription(verification.request.query, verification.configured_verify_token)).toBe("1158201444");
  });

  it("echoes a non-numeric challenge unchanged", () => {
    const query = { ...verification.request.query, "hub.challenge": "a b+c/=é" };
    expect(verifySubscription(new URLSearchParams(query), "my-verify-token")).toBe("a b+c/=é");
  });

  it("takes the first value of a repeated parameter in a record (Express's req.query)", () => {
    const query = { ...verification.request.query, "hub.challenge": ["first", "second"] };
    expect(verifySubscription(query, "my-verify-token")).toBe("first");
  });

  it("refuses the fixture's wrong token with 403, without naming either token", () => {
    const error = refusal(() =>
      verifySubscription(new URLSearchParams(verification.mismatch_case.query), verification.configured_verify_token),
    );
    expect(error.status).toBe(verification.mismatch_case.expected_status);
    expect(error).toBeInstanceOf(WhatsAppError);
    expect(error.name).toBe("WebhookVerificationError");
    expect(error.message).toBe("hub.verify_token does not match the configured verify token");
    expect(error.message).not.toContain("wrong-token");
    expect(error.message).not.toContain("my-verify-token");
  });

  it("refuses a token that only shares a prefix, or differs in case", () => {
    for (const token of ["my-verify-token-", "my-verify-toke", "MY-VERIFY-TOKEN", " my-verify-token"]) {
      const query = { ...verification.request.query, "hub.verify_token": token };
      expect(refusal(() => verifySubscription(query, "my-verify-token")).status).toBe(403);
    }
  });

  it.each([
    ["hub.mode", "Subscription request is missing hub.mode"],
    ["hub.challenge", "Subscription request is missing hub.challenge"],
    ["hub.verify_token", "Subscription request is missing hub.verify_token"],
  ])("refuses a request without %s with 400", (name, message) => {
    const query: Record<string, string> = { ...verification.request.query };
    delete query[name];
    const error = refusal(() => verifySubscription(query, "my-verify-token"));
    expect(error.status).toBe(400);
    expect(error.message).toBe(message);
  });

  it("names every missing parameter, and treats an empty value as missing", () => {
    const error = refusal(() => verifySubscription(new URLSearchParams("hub.mode=subscribe&hub.challenge="), "t"));
    expect([error.status, error.message]).toEqual([400, "Subscription request is missing hub.challenge, hub.verify_token"]);
  });

  it("refuses a mode other than subscribe with 400, even with the right token", () => {
    const query = { ...verification.request.query, "hub.mode": "unsubscribe" };
    const error = refusal(() => verifySubscription(query, "my-verify-token"));
    expect([error.status, error.message]).toEqual([400, 'Subscription request has a hub.mode other than "subscribe"']);
  });

  it("throws a WhatsAppValidationError when no verify token is configured", () => {
    expect(() => verifySubscription(verification.request.query, "")).toThrow(new WhatsAppValidationError("verifyToken must be a non-empty string", { path: "verifyToken" }));
  });
});
