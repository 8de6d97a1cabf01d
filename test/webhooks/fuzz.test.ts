// Property-based fuzzing of the webhook entry points. FUZZ_RUNS sets the runs per property (default 10,000, what
// CI runs); `npm run fuzz` runs 200,000.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exactIntegers, isInexactInteger } from "../../src/json.js";
import { signWebhookPayload } from "../../src/testing/index.js";
import {
  createWebhookHandler,
  parseWebhook,
  verifySignature,
  WEBHOOK_EVENT_TYPES,
  WebhookPayloadError,
  type WebhookEvent,
} from "../../src/webhooks/index.js";
import { deliveryFixtures, fixtureAppSecret, fixtureBytes, fixtureJson, signatureCases } from "./helpers.js";

const numRuns = Number(process.env["FUZZ_RUNS"] ?? 10_000);
// About 1.5 ms per run is the slowest property here (two WebCrypto signatures); the budget leaves room for
// slower machines when FUZZ_RUNS is raised.
const timeout = Math.max(30_000, numRuns * 10);

const EVENT_TYPES = new Set<string>(WEBHOOK_EVENT_TYPES);

type Outcome = { events: WebhookEvent[] } | { error: WebhookPayloadError };

/** Runs parseWebhook; anything other than events or a WebhookPayloadError fails the property. */
function parseOutcome(body: unknown): Outcome {
  try {
    const events = parseWebhook(body);
    for (const event of events) {
      if (!EVENT_TYPES.has(event.type) || typeof event.wabaId !== "string") throw new Error(`malformed event ${event.type}`);
    }
    return { events };
  } catch (error) {
    if (error instanceof WebhookPayloadError) return { error };
    throw error;
  }
}

/** The place a schema error names must be reachable: its parent exists in the payload (the last key may be the missing one). */
function expectPathInPayload(error: WebhookPayloadError, payload: unknown) {
  expect(error.message).not.toMatch(/v=0|a=ice|a=fingerprint/);
  if (error.pointer === "") return;
  const segments = error.pointer.slice(1).split("/");
  let node: unknown = payload;
  for (const segment of segments.slice(0, -1)) {
    if (segment === "*") return; // a map key from the payload, hidden on purpose
    expect(typeof node === "object" && node !== null && Object.hasOwn(node, segment)).toBe(true);
    node = (node as Record<string, unknown>)[segment];
  }
  expect(typeof node).toBe("object");
}

const anyJson = fc.jsonValue({ maxDepth: 3 });
const maybe = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: anyJson });
const digits = fc.oneof(fc.stringMatching(/^[0-9]{1,12}$/), fc.nat());

/** Objects shaped like deliveries, with the schema's keys and, now and then, a value of any type in any place. */
const envelope = (() => {
  const contact = fc.record(
    { wa_id: maybe(fc.string()), user_id: maybe(fc.constantFrom("US.13491208655302741918", "US.ENT.1", "bad")), profile: maybe(fc.record({ name: maybe(fc.string()) })) },
    { requiredKeys: [] },
  );
  const session = fc.record({ sdp_type: maybe(fc.constantFrom("offer", "answer", "pranswer")), sdp: maybe(fc.string()) }, { requiredKeys: [] });
  const call = fc.record(
    {
      id: maybe(fc.string()),
      event: maybe(fc.constantFrom("connect", "terminate", "transfer")),
      timestamp: maybe(digits),
      from: maybe(fc.string()),
      to: maybe(fc.string()),
      direction: maybe(fc.constantFrom("USER_INITIATED", "BUSINESS_INITIATED")),
      session: maybe(session),
      status: maybe(fc.constantFrom("COMPLETED", "FAILED", "REJECTED")),
      duration: maybe(digits),
    },
    { requiredKeys: [] },
  );
  const status = fc.record(
    { id: maybe(fc.string()), timestamp: maybe(digits), status: maybe(fc.constantFrom("RINGING", "ACCEPTED", "REJECTED")), recipient_id: maybe(fc.string()) },
    { requiredKeys: [] },
  );
  const message = fc.record(
    {
      id: maybe(fc.string()),
      type: maybe(fc.constantFrom("interactive", "text")),
      from: maybe(fc.string()),
      interactive: maybe(
        fc.record(
          {
            type: maybe(fc.constantFrom("call_permission_reply", "button_reply")),
            call_permission_reply: maybe(fc.record({ response: maybe(fc.constantFrom("accept", "reject")), is_permanent: maybe(fc.boolean()) }, { requiredKeys: [] })),
          },
          { requiredKeys: [] },
        ),
      ),
    },
    { requiredKeys: [] },
  );
  const value = fc.record(
    {
      messaging_product: maybe(fc.constant("whatsapp")),
      metadata: maybe(fc.record({ phone_number_id: maybe(fc.string()), display_phone_number: maybe(fc.string()) }, { requiredKeys: [] })),
      contacts: maybe(fc.array(maybe(contact), { maxLength: 3 })),
      calls: maybe(fc.array(maybe(call), { maxLength: 3 })),
      statuses: maybe(fc.array(maybe(status), { maxLength: 3 })),
      messages: maybe(fc.array(maybe(message), { maxLength: 3 })),
      errors: maybe(fc.array(maybe(fc.record({ code: maybe(fc.integer()), message: maybe(fc.string()) }, { requiredKeys: [] })), { maxLength: 2 })),
      type: maybe(fc.string()),
      event: maybe(fc.string()),
    },
    { requiredKeys: [] },
  );
  const change = fc.record(
    { field: maybe(fc.constantFrom("calls", "messages", "account_settings_update", "account_update", "flows")), value: maybe(value) },
    { requiredKeys: [] },
  );
  const entry = fc.record({ id: maybe(fc.string()), time: maybe(digits), changes: maybe(fc.array(maybe(change), { maxLength: 4 })) }, { requiredKeys: [] });
  return fc.record({ object: maybe(fc.constant("whatsapp_business_account")), entry: maybe(fc.array(maybe(entry), { maxLength: 3 })) }, { requiredKeys: [] });
})();

type Path = (string | number)[];

function pathsOf(node: unknown, prefix: Path = []): Path[] {
  if (typeof node !== "object" || node === null) return [];
  const keys: (string | number)[] = Array.isArray(node) ? node.map((_, index) => index) : Object.keys(node);
  return keys.flatMap((key) => [[...prefix, key], ...pathsOf((node as Record<string | number, unknown>)[key], [...prefix, key])]);
}

function retyped(value: unknown): unknown {
  if (typeof value === "string") return value.length;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "true" : 0;
  if (value === null) return {};
  if (Array.isArray(value)) return { ...value };
  return Object.values(value as object);
}

const mutation = fc.record({ at: fc.nat(), kind: fc.constantFrom("delete", "replace", "retype"), replacement: anyJson });

/** Deletes, replaces or retypes the value at a randomly chosen place below `entry[i]` (the envelope and the entry list are left alone). */
function mutateBelowEntry(payload: unknown, change: { at: number; kind: string; replacement: unknown }) {
  const paths = pathsOf(payload).filter((path) => path[0] === "entry" && path.length >= 3);
  if (paths.length === 0) return;
  const path = paths[change.at % paths.length]!;
  const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], payload);
  const key = path.at(-1)!;
  if (change.kind === "delete") {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else {
    parent[key] = change.kind === "replace" ? change.replacement : retyped(parent[key]);
  }
}

/**
 * Whether the parser surely reads an id of the delivery that JSON.parse could not keep exact: an entry's id, or
 * the metadata's phone_number_id of a change it walks (of a field other than the two account fields, which do
 * not have one there). Other such numbers may or may not be read as ids.
 */
function lostAnId(payload: unknown): boolean {
  const inexact = isInexactInteger;
  const record = (value: unknown): value is Record<string, any> => value !== null && typeof value === "object" && !Array.isArray(value);
  const entries = record(payload) ? payload["entry"] : undefined;
  return (Array.isArray(entries) ? entries : []).some((entry) => {
    if (!record(entry)) return false;
    if (inexact(entry["id"])) return true;
    const walked = typeof entry["id"] === "string" || Number.isSafeInteger(entry["id"]);
    const changes = entry["changes"];
    return (
      walked &&
      Array.isArray(changes) &&
      changes.some(
        (change) =>
          record(change) &&
          typeof change["field"] === "string" &&
          !["account_settings_update", "account_update"].includes(change["field"]) &&
          record(change["value"]) &&
          record(change["value"]["metadata"]) &&
          inexact(change["value"]["metadata"]["phone_number_id"]),
      )
    );
  });
}

describe(`fuzzing (${numRuns} runs per property)`, () => {
  it("parseWebhook on any JSON value returns events or throws WebhookPayloadError", () => {
    fc.assert(
      // A string is read as raw JSON text (the next property covers text), so its error paths point into the text's
      // parsed value, not into the string: parsed values only here.
      fc.property(fc.jsonValue().filter((value) => typeof value !== "string"), (value) => {
        const outcome = parseOutcome(value);
        if ("error" in outcome) expectPathInPayload(outcome.error, value);
      }),
      { numRuns },
    );
  }, timeout);

  it("parseWebhook on any JSON text, any text and any bytes returns events or throws WebhookPayloadError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string({ unit: "binary" }), fc.uint8Array({ maxLength: 64 })), (body) => {
        parseOutcome(body);
      }),
      { numRuns },
    );
  }, timeout);

  it("parseWebhook on objects shaped like deliveries refuses only a missing entry array, and gives one event or more per change", () => {
    let accepted = 0;
    fc.assert(
      fc.property(envelope, (payload) => {
        const outcome = parseOutcome(payload);
        if ("error" in outcome) {
          // The one shape refused: no entry array.
          expect(Array.isArray(payload.entry)).toBe(false);
          return expectPathInPayload(outcome.error, payload);
        }
        accepted++;
        const entries = (payload.entry as unknown[]).filter(
          (entry): entry is { id: string; changes: unknown[] } =>
            typeof entry === "object" && entry !== null && typeof (entry as { id?: unknown }).id === "string" && Array.isArray((entry as { changes?: unknown }).changes),
        );
        expect(outcome.events.length).toBeGreaterThanOrEqual(entries.reduce((sum, entry) => sum + entry.changes.length, 0));
        // An id sent as a safe integer is read as its digits (WebhookId).
        const ids = new Set(["", ...(payload.entry as { id?: unknown }[]).map((entry) => (Number.isSafeInteger(entry?.id) ? String(entry?.id) : entry?.id))]);
        for (const event of outcome.events) expect(ids.has(event.wabaId)).toBe(true);
      }),
      { numRuns },
    );
    // The generator must reach deliveries with an entry array most of the time, or the property proves little.
    expect(accepted).toBeGreaterThan(numRuns / 2);
  }, timeout);

  it.each(deliveryFixtures)(
    "parseWebhook on random mutations below the entry level of %s never throws, and gives the same events from text",
    (file) => {
      const original = fixtureJson(file);
      const kinds = { valid: 0, invalid: 0 };
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
          const payload = structuredClone(original);
          for (const change of mutations) mutateBelowEntry(payload, change);
          const outcome = parseOutcome(payload);
          if ("error" in outcome) throw new Error(`refused: ${outcome.error.message}`);
          for (const event of outcome.events) kinds[event.type === "invalid" ? "invalid" : "valid"]++;
          const text = JSON.stringify(payload);
          const fromText = parseOutcome(text);
          // Compared through JSON: a -0 from the generator reads back as 0.
          const asParsed = JSON.parse(JSON.stringify(outcome));
          if (exactIntegers(text) === text) expect(fromText).toEqual(asParsed);
          // An id past 2^53 sent as a number is exact only in the text: read from it, a delivery whose entry or
          // phone number id is such a number gives the events of its exact reading; one with such numbers
          // elsewhere may give either.
          else {
            const exactly = JSON.parse(JSON.stringify(parseOutcome(JSON.parse(exactIntegers(text)))));
            if (lostAnId(payload)) expect(fromText).toEqual(exactly);
            else expect([asParsed, exactly]).toContainEqual(fromText);
          }
        }),
        { numRuns },
      );
      // Mutations must lead both to events and to invalid items, or they test one side only.
      expect(Math.min(kinds.valid, kinds.invalid)).toBeGreaterThan(numRuns / 20);
    },
    timeout,
  );

  it(
    "createWebhookHandler answers any signed mutation below the entry level with 200, or 500 when a handler throws; never 400",
    async () => {
      const runs = Math.max(200, Math.floor(numRuns / 10));
      const originals = deliveryFixtures.map((file) => fixtureJson(file));
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(
          fc.nat(originals.length - 1),
          fc.array(mutation, { minLength: 1, maxLength: 3 }),
          fc.constantFrom(undefined, ...WEBHOOK_EVENT_TYPES),
          async (which, mutations, throwingType) => {
            const payload = structuredClone(originals[which]);
            for (const change of mutations) mutateBelowEntry(payload, change);
            let threw = false;
            const reported: unknown[] = [];
            const handler = createWebhookHandler({
              appSecret: fixtureAppSecret,
              verifyToken: "token",
              onEvent: (event) => {
                if (event.type === throwingType) {
                  threw = true;
                  throw new Error("handler failed");
                }
              },
              onError: (error) => void reported.push(error),
            });
            const body = JSON.stringify(payload);
            const response = await handler(
              new Request("http://127.0.0.1/webhooks", { method: "POST", headers: { "x-hub-signature-256": await signWebhookPayload(body, fixtureAppSecret) }, body }),
            );
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            expect(response.status).toBe(threw ? 500 : 200);
            // Every failure is the one thrown above, and reaches onError.
            expect([reported.length > 0, reported.every((error) => error instanceof Error && error.message === "handler failed")]).toEqual([threw, true]);
          },
        ),
        { numRuns: runs },
      );
      expect(statuses.get(200)).toBeGreaterThan(runs / 10);
      expect(statuses.get(500)).toBeGreaterThan(runs / 20);
    },
    timeout,
  );

  const signedCase = signatureCases.cases[0]!;
  const signedBody = fixtureBytes(signedCase.body_file);
  const signature = signedCase.x_hub_signature_256;

  it(
    "verifySignature refuses every mutated body: changed, inserted or removed bytes",
    async () => {
      expect(await verifySignature(signedBody, signature, fixtureAppSecret)).toBe(true);
      const bodyMutation = fc.oneof(
        fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
        fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
        fc.record({ kind: fc.constant("remove" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
      );
      await fc.assert(
        fc.asyncProperty(bodyMutation, async (change) => {
          const at = change.at % signedBody.length;
          let body: Uint8Array;
          if (change.kind === "flip") {
            body = new Uint8Array(signedBody);
            body[at] = body[at]! ^ change.xor;
          } else if (change.kind === "insert") {
            body = new Uint8Array([...signedBody.subarray(0, at), ...change.bytes, ...signedBody.subarray(at)]);
          } else {
            body = new Uint8Array([...signedBody.subarray(0, at), ...signedBody.subarray(at + change.count)]);
          }
          expect(await verifySignature(body, signature, fixtureAppSecret)).toBe(false);
        }),
        { numRuns },
      );
    },
    timeout,
  );

  it(
    "verifySignature refuses every mutated header and any string as a header, without throwing",
    async () => {
      const headerMutation = fc.oneof(
        fc.record({ at: fc.nat(), replacement: fc.string({ minLength: 1, maxLength: 1, unit: "binary" }) }).map(({ at, replacement }) => {
          const index = at % signature.length;
          return signature.slice(0, index) + replacement + signature.slice(index + 1);
        }),
        fc.nat().map((at) => signature.slice(0, at % signature.length)),
        fc.string({ unit: "binary" }).map((extra) => signature + extra),
        fc.string({ unit: "binary", maxLength: 80 }),
        fc.stringMatching(/^sha256=[0-9a-f]{64}$/),
      );
      await fc.assert(
        fc.asyncProperty(headerMutation, async (header) => {
          fc.pre(header !== signature);
          expect(await verifySignature(signedBody, header, fixtureAppSecret)).toBe(false);
        }),
        { numRuns },
      );
    },
    timeout,
  );

  it(
    "a body signed by signWebhookPayload verifies, and not with another secret",
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.json(), fc.string({ unit: "binary" })), fc.string({ minLength: 1 }), async (body, secret) => {
          const header = await signWebhookPayload(body, secret);
          expect(await verifySignature(body, header, [secret])).toBe(true);
          expect(await verifySignature(body, header, `${secret}x`)).toBe(false);
        }),
        { numRuns },
      );
    },
    timeout,
  );
});
