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
  it("keys each event by its kind and identity, and leaves the rest unkeyed", () => {
    expect(parseWebhook(JSON.stringify(batchDelivery())).map(webhookDedupeKey)).toEqual([
      `call.connect:${USER_CALL_ID}`,
      `call.status:RINGING:${BUSINESS_CALL_ID}`,
      `call.status:ACCEPTED:${BUSINESS_CALL_ID}`,
      `call.terminate:${USER_CALL_ID}`,
      `call.terminate:${FAILED_CALL_ID}`,
      undefined,
      undefined,
      "call_permission.reply:wamid.GAsxNTU1MDEyMzQ1NhUCABEYEjIyOTg4NTJGN0NBM0UzMTE4OQA=",
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("never gives two events of different kinds, or different statuses, the same key", () => {
    const context = { wabaId: "1" } as const;
    const reply = (id: string) =>
      webhookDedupeKey({ ...context, type: "call_permission.reply", data: { id, interactive: { type: "call_permission_reply", call_permission_reply: { response: "accept" } } } });
    const connect = (callId: string) => webhookDedupeKey({ ...context, type: "call.connect", callId, data: { id: callId, event: "connect" } });
    const status = (callId: string, value: string) =>
      webhookDedupeKey({ ...context, type: "call.status", callId, data: { id: callId, status: value } });
    // 0.1.0 keyed a connect `<call id>:connect` and a reply by its bare id: a reply id "X:connect" collided.
    expect(reply("wacid.X:connect")).not.toBe(connect("wacid.X"));
    expect(connect("call_permission.reply:x")).not.toBe(reply("x"));
    expect(status("a:b", "C")).not.toBe(status("a", "b:C"));
    expect(status("wacid.1", "A%3AB")).not.toBe(status("wacid.1", "A:B"));
  });
});

describe("createMemoryDedupeStore: claims", () => {
  it("gives a claim to one caller only, until it is marked done or released", () => {
    const store = createMemoryDedupeStore();
    expect(store.claim("k", 60_000)).toBe("claimed");
    expect(store.claim("k", 60_000)).toBe("busy");
    store.release("k");
    expect(store.claim("k", 60_000)).toBe("claimed");
    store.markDone("k");
    expect(store.claim("k", 60_000)).toBe("done");
    expect(store.has("k")).toBe(true);
  });

  it("lets a claim lapse after its ttl (a process that died mid-way)", () => {
    let now = 0;
    const store = createMemoryDedupeStore({ now: () => now });
    expect(store.claim("k", 100)).toBe("claimed");
    now = 99;
    expect(store.claim("k", 100)).toBe("busy");
    now = 100;
    expect(store.claim("k", 100)).toBe("claimed");
  });

  // Row 12 of issue 11: 0.1.0's add walked the Map from its start once full (134 µs at 200,000 keys). Bounded by
  // the test timeout, not timed: 200,000 adds to a full store of 200,000 keys took about 19 s that way (10,000
  // took 0.95 s on this machine).
  it("evicts in constant time: 200,000 adds to a full store of 200,000 keys, oldest forgotten first", { timeout: 10_000 }, () => {
    const store = createMemoryDedupeStore({ maxKeys: 200_000 });
    for (let index = 0; index < 400_000; index++) store.markDone(`key-${index}`);
    expect(store.size).toBe(200_000);
    expect([store.has("key-199999"), store.has("key-200000"), store.has("key-399999")]).toEqual([false, true, true]);
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
