import { WhatsAppValidationError } from "../../src/index.js";
import { describe, expect, it } from "vitest";
import {
  createMemoryDedupeStore,
  DEFAULT_DEDUPE_MAX_KEYS,
  DEFAULT_DEDUPE_TTL_MS,
  parseWebhook,
  webhookDedupeKey,
} from "../../src/webhooks/index.js";
import { batchDelivery } from "./expected-events.js";
import { BUSINESS_CALL_ID, FAILED_CALL_ID, USER_CALL_ID } from "./helpers.js";

describe("webhookDedupeKey", () => {
  it("keys calls by call id and event or status, permission replies by wamid, and leaves the rest unkeyed", () => {
    expect(parseWebhook(JSON.stringify(batchDelivery())).map(webhookDedupeKey)).toEqual([
      `${USER_CALL_ID}:connect`,
      `${BUSINESS_CALL_ID}:status:RINGING`,
      `${BUSINESS_CALL_ID}:status:ACCEPTED`,
      `${USER_CALL_ID}:terminate`,
      `${FAILED_CALL_ID}:terminate`,
      undefined,
      undefined,
      "wamid.GAsxNTU1MDEyMzQ1NhUCABEYEjIyOTg4NTJGN0NBM0UzMTE4OQA=",
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe("createMemoryDedupeStore", () => {
  it("defaults to 10,000 keys kept for 7 days", () => {
    expect([DEFAULT_DEDUPE_MAX_KEYS, DEFAULT_DEDUPE_TTL_MS]).toEqual([10_000, 604_800_000]);
    const store = createMemoryDedupeStore();
    for (let index = 0; index < 10_050; index++) store.add(`key-${index}`);
    expect(store.size).toBe(10_000);
    expect([store.has("key-49"), store.has("key-50"), store.has("key-10049")]).toEqual([false, true, true]);
  });

  it("forgets the oldest key first, and counts a key added again as new", () => {
    const store = createMemoryDedupeStore({ maxKeys: 3 });
    store.add("a");
    store.add("b");
    store.add("c");
    store.add("a");
    store.add("d");
    expect(["a", "b", "c", "d"].map((key) => store.has(key))).toEqual([true, false, true, true]);
    expect(store.size).toBe(3);
  });

  it("forgets a key once its time to live has passed", () => {
    let now = 1_000;
    const store = createMemoryDedupeStore({ ttlMs: 100, now: () => now });
    store.add("a");
    now = 1_099;
    expect(store.has("a")).toBe(true);
    now = 1_100;
    expect(store.has("a")).toBe(false);
    expect(store.size).toBe(0);
  });

  it("refuses a size or time to live that cannot work", () => {
    expect(() => createMemoryDedupeStore({ maxKeys: 0 })).toThrow(new WhatsAppValidationError("maxKeys must be a positive integer", { path: "maxKeys" }));
    expect(() => createMemoryDedupeStore({ ttlMs: 0 })).toThrow(new WhatsAppValidationError("ttlMs must be a positive number", { path: "ttlMs" }));
  });
});
