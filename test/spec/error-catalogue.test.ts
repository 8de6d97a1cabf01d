// The error-code catalogue lives once, in openapi.yaml (x-error-catalogue); generated/error-catalogue.ts and
// WhatsAppApiError are read from it.
import { describe, expect, it } from "vitest";
import { ERROR_CATALOGUE, ERROR_HANDLING } from "../../generated/error-catalogue.js";
import { loadSpec } from "../../scripts/lib/spec.js";
import { lookupErrorCode, WhatsAppApiError } from "../../src/index.js";

const spec = loadSpec();
const REQUIRED = [0, 1, 2, 4, 10, 100, 102, 190, 200, 613, 80007, 130429, 131026, 131030, 131044, 131055, 131056];
for (let code = 138000; code <= 138023; code++) REQUIRED.push(code);

describe("error-code catalogue", () => {
  it("has every code the Graph and calling references name", () => {
    const missing = REQUIRED.filter((code) => !(code in ERROR_CATALOGUE));
    expect(missing).toEqual([]);
  });

  it("generated/error-catalogue.ts holds exactly the entries of openapi.yaml", () => {
    const fromSpec = Object.fromEntries(
      spec["x-error-catalogue"].codes.map((entry) => [
        entry.code,
        { title: entry.title, category: entry.category, retryable: entry.retryable, tokenRefresh: entry.token_refresh, description: entry.description },
      ]),
    );
    expect(ERROR_CATALOGUE).toEqual(fromSpec);
  });

  it("ERROR_HANDLING, what WhatsAppApiError reads, says of each code what ERROR_CATALOGUE says", () => {
    const fromRows = Object.fromEntries(ERROR_HANDLING.flatMap(([category, retryable, tokenRefresh, codes]) => codes.map((code) => [code, { category, retryable, tokenRefresh }])));
    const fromCatalogue = Object.fromEntries(Object.entries(ERROR_CATALOGUE).map(([code, { category, retryable, tokenRefresh }]) => [code, { category, retryable, tokenRefresh }]));
    expect(fromRows).toEqual(fromCatalogue);
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      const error = new WhatsAppApiError({ status: 400, body: { error: { message: "m", code: Number(code) } } });
      expect([code, error.category, error.retryable, error.requiresTokenRefresh()]).toEqual([code, entry.category, entry.retryable, entry.tokenRefresh]);
    }
  });

  it("a Graph error without Meta's text is named by its code (the title is ERROR_CATALOGUE's, for those who import it)", () => {
    expect(new WhatsAppApiError({ status: 401, body: { error: { code: 190 } }, action: "terminate" }).message).toBe("Graph API error 190 on terminate (HTTP 401)");
  });

  it("uses only the categories of the contract, and every entry says whether a retry can help", () => {
    const categories = new Set(["auth", "permission", "rate_limit", "invalid_request", "calling", "server", "unknown"]);
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(categories.has(entry.category), `${code}: ${entry.category}`).toBe(true);
      expect(typeof entry.retryable).toBe("boolean");
      expect(entry.description.length).toBeGreaterThan(10);
    }
  });

  it("only token codes ask for a token refresh", () => {
    const refresh = Object.entries(ERROR_CATALOGUE)
      .filter(([, entry]) => entry.tokenRefresh)
      .map(([code]) => Number(code));
    expect(refresh).toEqual([102, 104, 190]);
  });

  it("an unknown code gets the unknown category", () => {
    expect(lookupErrorCode(424242).category).toBe("unknown");
    expect(new WhatsAppApiError({ status: 400, body: { error: { message: "m", type: "t", code: 424242 } } }).category).toBe("unknown");
  });
});
