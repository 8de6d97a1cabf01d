import { WhatsAppValidationError } from "../../src/index.js";
import { Agent, request as httpRequest } from "node:http";
import { afterEach, describe, expect, it, vi } from "vitest";
import { toNodeListener } from "../../src/node.js";
import { signWebhookPayload } from "../../src/testing/index.js";
import {
  createWebhookHandler,
  DEFAULT_MAX_BODY_BYTES,
  WEBHOOK_EVENT_TYPES,
  type WebhookEvent,
  type WebhookHandlerOptions,
} from "../../src/webhooks/index.js";
import { batchDelivery, describeEvent, expectedBatchOrder, expectedFixtureEvents } from "./expected-events.js";
import {
  BUSINESS_CALL_ID,
  deliveryFixtures,
  encode,
  fixtureAppSecret,
  fixtureBytes,
  fixtureJson,
  listen,
  signatureCases,
  USER_CALL_ID,
} from "./helpers.js";

const VERIFY_TOKEN = "my-verify-token";
const PATH = "/webhooks/whatsapp";
const TEXT = "text/plain; charset=utf-8";
const connectBody = fixtureBytes("webhooks/calls.connect.user-initiated.json");
const connectSignature = signatureCases.cases[0]!.x_hub_signature_256;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** A real endpoint on 127.0.0.1: node:http, `toNodeListener`, `createWebhookHandler`, recording every event. */
/** For a handler that stops inside: `entered()` settles `inHandler`, and it goes on once the test calls `release()`. */
function gate() {
  let release!: () => void;
  let entered!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const inHandler = new Promise<void>((resolve) => (entered = resolve));
  return { release: () => release(), released, entered: () => entered(), inHandler };
}

async function startEndpoint(options: Partial<WebhookHandlerOptions> = {}) {
  const events: WebhookEvent[] = [];
  const handler = createWebhookHandler({
    appSecret: fixtureAppSecret,
    verifyToken: VERIFY_TOKEN,
    onEvent: (event) => {
      events.push(event);
    },
    ...options,
  });
  const server = await listen(toNodeListener(handler));
  cleanups.push(server.close);
  return { url: `${server.url}${PATH}`, events };
}

async function deliver(url: string, body: Uint8Array<ArrayBuffer> | string, signature?: string | null, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(signature === null ? {} : { "x-hub-signature-256": signature ?? (await signWebhookPayload(body, fixtureAppSecret)) }),
      ...headers,
    },
    body,
  });
  return { status: response.status, contentType: response.headers.get("content-type"), body: await response.text() };
}

/** node:http directly, for what fetch does not do: a chunked body, a Content-Length without the body. */
function rawRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string | number>; chunks?: Uint8Array[]; endBody?: boolean },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: init.method ?? "POST", headers: init.headers }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
        request.destroy();
      });
    });
    // The server may close the connection while the client still writes an oversized body.
    request.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" || error.code === "EPIPE" ? undefined : reject(error)));
    for (const chunk of init.chunks ?? []) request.write(chunk);
    if (init.endBody !== false) request.end();
    else request.flushHeaders();
  });
}

describe("createWebhookHandler over HTTP (node:http through toNodeListener)", () => {
  describe("GET: the subscription handshake", () => {
    const query = new URLSearchParams(fixtureJson("webhooks/verification.get.json").request.query);

    it("answers 200 with the challenge as text/plain", async () => {
      const { url } = await startEndpoint();
      const response = await fetch(`${url}?${query}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe(TEXT);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await response.text()).toBe("1158201444");
    });

    it("answers 403 to a wrong verify token and 400 to a missing parameter or another mode", async () => {
      const { url } = await startEndpoint();
      const wrongToken = new URLSearchParams(fixtureJson("webhooks/verification.get.json").mismatch_case.query);
      const noChallenge = new URLSearchParams(query);
      noChallenge.delete("hub.challenge");
      const otherMode = new URLSearchParams(query);
      otherMode.set("hub.mode", "unsubscribe");
      const answers = await Promise.all(
        [wrongToken, noChallenge, otherMode, new URLSearchParams()].map(async (params) => {
          const response = await fetch(`${url}?${params}`);
          return [response.status, response.headers.get("content-type"), await response.text()];
        }),
      );
      expect(answers).toEqual([
        [403, TEXT, "hub.verify_token does not match the configured verify token"],
        [400, TEXT, "Subscription request is missing hub.challenge"],
        [400, TEXT, 'Subscription request has a hub.mode other than "subscribe"'],
        [400, TEXT, "Subscription request is missing hub.mode, hub.challenge, hub.verify_token"],
      ]);
    });
  });

  describe("POST: deliveries", () => {
    it.each(deliveryFixtures)("dispatches the expected events of %s, signed", async (file) => {
      const { url, events } = await startEndpoint();
      expect(await deliver(url, fixtureBytes(file))).toEqual({ status: 200, contentType: null, body: "" });
      expect(events).toEqual(expectedFixtureEvents[file]);
    });

    it("accepts the fixture's own X-Hub-Signature-256 headers", async () => {
      const { url, events } = await startEndpoint();
      for (const testCase of signatureCases.cases) {
        const file = fixtureBytes(testCase.body_file);
        const body = testCase.body_transform ? new Uint8Array([...file, 0x20]) : file;
        expect((await deliver(url, body, testCase.x_hub_signature_256)).status).toBe(testCase.expected_valid ? 200 : 401);
      }
      expect(events.map((event) => event.type)).toEqual(["call.connect", "call.terminate"]);
    });

    it("dispatches every entry, change, call and status of one delivery, in order", async () => {
      const { url, events } = await startEndpoint();
      expect((await deliver(url, JSON.stringify(batchDelivery()))).status).toBe(200);
      expect(events.map(describeEvent)).toEqual(expectedBatchOrder);
    });

    it("awaits each handler before the next one, in delivery order", async () => {
      const trace: string[] = [];
      const { url } = await startEndpoint({
        onEvent: async (event) => {
          const [type, id] = describeEvent(event);
          trace.push(`start ${type} ${id}`);
          await new Promise((resolve) => setTimeout(resolve, 5));
          trace.push(`end ${type} ${id}`);
        },
        on: {
          "call.status": async (event) => {
            trace.push(`on call.status ${event.data.status}`);
          },
        },
      });
      expect((await deliver(url, JSON.stringify(batchDelivery()))).status).toBe(200);
      expect(trace.slice(0, 7)).toEqual([
        `start call.connect ${USER_CALL_ID}`,
        `end call.connect ${USER_CALL_ID}`,
        `start call.status ${BUSINESS_CALL_ID}:RINGING`,
        `end call.status ${BUSINESS_CALL_ID}:RINGING`,
        "on call.status RINGING",
        `start call.status ${BUSINESS_CALL_ID}:ACCEPTED`,
        `end call.status ${BUSINESS_CALL_ID}:ACCEPTED`,
      ]);
      expect(trace).toHaveLength(expectedBatchOrder.length * 2 + 2);
    });

    it("calls the handler of each event's type with that event", async () => {
      const seen: string[] = [];
      const { url } = await startEndpoint({
        on: {
          "call.connect": (event) => void seen.push(`connect ${event.data.session?.sdp_type} ${event.contact?.wa_id}`),
          "call.terminate": (event) => void seen.push(`terminate ${event.data.status} ${event.errors?.[0]?.code}`),
          "call.status": (event) => void seen.push(`status ${event.data.status}`),
          "call_permission.reply": (event) => void seen.push(`permission ${event.data.interactive.call_permission_reply.response}`),
          "account_settings.update": (event) => void seen.push(`settings ${event.data.phone_number_settings?.calling?.status}`),
          "account.update": (event) => void seen.push(`account ${event.data.event}`),
          unknown: (event) => void seen.push(`unknown ${event.field}`),
        },
      });
      expect((await deliver(url, JSON.stringify(batchDelivery()))).status).toBe(200);
      expect(seen).toEqual([
        "connect offer 15550123456",
        "status RINGING",
        "status ACCEPTED",
        "terminate COMPLETED 138021",
        "terminate FAILED 138021",
        "unknown calls",
        "unknown messages",
        "permission accept",
        "unknown messages",
        "settings ENABLED",
        "account ACCOUNT_VIOLATION",
        "unknown flows",
        "unknown calls",
      ]);
    });

    it("verifies Meta's \\u00e9-escaped non-ASCII body, and refuses the same JSON re-serialised", async () => {
      const { url, events } = await startEndpoint();
      const escaped = new TextDecoder()
        .decode(connectBody)
        .replace('"name": "Dana Okafor"', '"name": "Ren\\u00e9e \\u00c5str\\u00f6m \\ud83d\\udcde"');
      expect(escaped).toContain("Ren\\u00e9e");
      const signature = await signWebhookPayload(escaped, fixtureAppSecret);
      expect(await deliver(url, escaped, signature)).toEqual({ status: 200, contentType: null, body: "" });
      expect(events[0]?.type === "call.connect" && events[0].contact?.profile?.name).toBe("Renée Åström 📞");

      const reserialised = JSON.stringify(JSON.parse(escaped));
      expect(reserialised).toContain("Renée Åström 📞");
      expect(await deliver(url, reserialised, signature)).toEqual({ status: 401, contentType: TEXT, body: "Invalid X-Hub-Signature-256 signature" });
      expect(events).toHaveLength(1);
    });

    it("refuses with 401 a signed body with any single byte changed (sampled positions)", async () => {
      const { url, events } = await startEndpoint();
      const positions = [0, 1, ...Array.from({ length: 30 }, (_, index) => Math.floor(((index + 1) * connectBody.length) / 31)), connectBody.length - 1];
      const statuses = await Promise.all(
        positions.map(async (position) => {
          const changed = new Uint8Array(connectBody);
          changed[position] = changed[position]! ^ 0x20;
          return (await deliver(url, changed, connectSignature)).status;
        }),
      );
      expect(statuses).toEqual(positions.map(() => 401));
      expect(events).toEqual([]);
      expect((await deliver(url, connectBody, connectSignature)).status).toBe(200);
    });

    it.each([
      ["missing", null, "Missing X-Hub-Signature-256 header"],
      ["empty", "", "Missing X-Hub-Signature-256 header"],
      ["without sha256=", connectSignature.slice(7), "Invalid X-Hub-Signature-256 signature"],
      ["of the wrong length", connectSignature.slice(0, -2), "Invalid X-Hub-Signature-256 signature"],
      ["not hex", `sha256=${"g".repeat(64)}`, "Invalid X-Hub-Signature-256 signature"],
      ["made with another secret", "other", "Invalid X-Hub-Signature-256 signature"],
    ])("answers 401 to a signature %s, before parsing", async (_label, header, message) => {
      const { url, events } = await startEndpoint();
      const signature = header === "other" ? await signWebhookPayload(connectBody, "another-secret") : header;
      expect(await deliver(url, connectBody, signature)).toEqual({ status: 401, contentType: TEXT, body: message });
      // Not even bad JSON is looked at without a valid signature.
      expect((await deliver(url, "{not json", signature)).status).toBe(401);
      expect(events).toEqual([]);
    });

    it("accepts a delivery signed with any of the rotated secrets", async () => {
      const { url, events } = await startEndpoint({ appSecret: ["next-secret", fixtureAppSecret] });
      expect((await deliver(url, connectBody, connectSignature)).status).toBe(200);
      const terminate = fixtureBytes("webhooks/calls.terminate.completed.user-initiated.json");
      expect((await deliver(url, terminate, await signWebhookPayload(terminate, "next-secret"))).status).toBe(200);
      expect(events.map((event) => event.type)).toEqual(["call.connect", "call.terminate"]);
    });

    const withoutMetadata = () => {
      const payload = fixtureJson("webhooks/calls.connect.user-initiated.json");
      delete payload.entry[0].changes[0].value.metadata;
      return JSON.stringify(payload);
    };
    const withWrongTypes = () => {
      const payload = fixtureJson("webhooks/calls.status.ringing.json");
      payload.entry[0].changes[0].value.statuses[0].status = 3;
      return JSON.stringify(payload);
    };
    it.each([
      ["bad JSON", '{"object":"whatsapp_business_account",', "Webhook body is not valid JSON"],
      ["an empty body", "", "Webhook body is empty"],
      ["a JSON array without deliveries", "[]", "Webhook payload has no entry array"],
      ["JSON null", "null", "Webhook payload does not match the schema at the top level: must be of type object"],
      ["an object without entry", '{"object":"whatsapp_business_account"}', "Webhook payload does not match the schema at entry: required property is missing"],
    ])("answers 400 naming the path to a signed body with %s (the only shapes refused)", async (_label, body, message) => {
      const { url, events } = await startEndpoint();
      expect(await deliver(url, body)).toEqual({ status: 400, contentType: TEXT, body: message });
      expect(events).toEqual([]);
    });

    it("answers 200 to a signed delivery that breaks the schemas: the event without metadata, the broken item as invalid, logged at warn by path", async () => {
      const warnings: [string, unknown][] = [];
      const invalid: unknown[] = [];
      const { url, events } = await startEndpoint({
        logger: { warn: (message, details) => void warnings.push([message, details]) },
        on: { invalid: (event) => void invalid.push([event.expected, event.path, event.data]) },
      });
      expect(await deliver(url, withoutMetadata())).toEqual({ status: 200, contentType: null, body: "" });
      expect(events.map((event) => [event.type, event.phoneNumberId])).toEqual([["call.connect", undefined]]);
      expect(await deliver(url, withWrongTypes())).toEqual({ status: 200, contentType: null, body: "" });
      const broken = fixtureJson("webhooks/calls.status.ringing.json").entry[0].changes[0].value.statuses[0];
      expect(invalid).toEqual([["call.status", "entry[0].changes[0].value.statuses[0].status", { ...broken, status: 3 }]]);
      expect(warnings).toEqual([
        [
          "webhook item does not match its schema; delivered as an invalid event",
          { expected: "call.status", field: "calls", path: "entry[0].changes[0].value.statuses[0].status" },
        ],
      ]);
    });

    it("warns when a handler ran longer than claimTtlMs (its claim lapsed meanwhile), and not otherwise", async () => {
      const warnings: [string, unknown][] = [];
      const logger = { warn: (message: string, details?: unknown) => void warnings.push([message, details]) };
      const slow = await startEndpoint({ claimTtlMs: 20, logger, on: { "call.connect": () => new Promise((resolve) => setTimeout(resolve, 80)) } });
      expect(await deliver(slow.url, connectBody, connectSignature)).toEqual({ status: 200, contentType: null, body: "" });
      expect(warnings).toEqual([
        [
          "webhook handler outlived its claim (claimTtlMs): another process may have handled the event too",
          { type: "call.connect", key: `call.connect:${(slow.events[0] as { callId: string }).callId}`, claimTtlMs: 20, durationMs: expect.any(Number) },
        ],
      ]);
      expect((warnings[0]![1] as { durationMs: number }).durationMs).toBeGreaterThan(20);
      warnings.length = 0;
      const fast = await startEndpoint({ logger });
      expect(await deliver(fast.url, connectBody, connectSignature)).toEqual({ status: 200, contentType: null, body: "" });
      expect(warnings).toEqual([]);
    });

    it("answers 500 when a handler throws, passes the error to onError, and handles the event again on re-delivery", async () => {
      const failure = new Error("database down");
      const errors: [unknown, WebhookEvent | undefined][] = [];
      const handled: string[] = [];
      let failing = true;
      const { url } = await startEndpoint({
        onEvent: undefined,
        on: {
          "call.connect": (event) => void handled.push(`connect ${event.callId}`),
          "call.status": (event) => {
            if (failing) throw failure;
            handled.push(`status ${event.data.status}`);
          },
        },
        onError: (error, { event }) => void errors.push([error, event]),
      });
      const body = JSON.stringify(batchDelivery());
      expect(await deliver(url, body)).toEqual({ status: 500, contentType: TEXT, body: "Webhook handler failed" });
      expect(errors).toHaveLength(1);
      expect(errors[0]![0]).toBe(failure);
      expect(errors[0]![1]).toMatchObject({ type: "call.status", callId: BUSINESS_CALL_ID, data: { status: "RINGING" } });
      expect(handled).toEqual([`connect ${USER_CALL_ID}`]);

      failing = false;
      expect(await deliver(url, body)).toEqual({ status: 200, contentType: null, body: "" });
      // The connect succeeded the first time and is not handled again; the failed status is.
      expect(handled).toEqual([`connect ${USER_CALL_ID}`, "status RINGING", "status ACCEPTED"]);
    });

    it("after a failure, the later events of that call wait for the re-delivery; other calls are handled at once", async () => {
      const seen: string[] = [];
      let failing = true;
      const { url } = await startEndpoint({
        onEvent: (event) => {
          const [type, id] = describeEvent(event);
          if (failing && type === "call.connect") throw new Error("no media server free");
          seen.push(`${type} ${id}`);
        },
      });
      const body = JSON.stringify(batchDelivery());
      expect((await deliver(url, body)).status).toBe(500);
      const all = expectedBatchOrder.map(([type, id]) => `${type} ${id}`);
      // Everything but the failed connect and the later terminate of the same call, in delivery order.
      expect(seen).toEqual(all.filter((item) => !item.endsWith(USER_CALL_ID)));

      seen.length = 0;
      failing = false;
      expect((await deliver(url, body)).status).toBe(200);
      // The re-delivery handles the failed call's events, in order; the rest were handled the first time
      // (account updates and unknown events have no dedupe key, so they come again).
      expect(seen.filter((item) => item.startsWith("call"))).toEqual([`call.connect ${USER_CALL_ID}`, `call.terminate ${USER_CALL_ID}`]);
    });

    it("answers 500 even when onError itself throws", async () => {
      const { url } = await startEndpoint({
        onEvent: () => {
          throw new Error("handler");
        },
        onError: () => {
          throw new Error("hook");
        },
      });
      expect((await deliver(url, connectBody)).status).toBe(500);
    });

    it("prints a handler's error with console.error when there is no onError, so that it is not seen only as Meta's re-deliveries", async () => {
      const printed = vi.spyOn(console, "error").mockImplementation(() => {});
      try {
        const failure = new TypeError("Cannot read properties of undefined (reading 'crash')");
        const { url } = await startEndpoint({
          on: {
            "call.connect": () => {
              throw failure;
            },
          },
        });
        expect((await deliver(url, connectBody)).status).toBe(500);
        expect(printed.mock.calls).toEqual([
          ["whatsapp-calling: handling a call.connect event failed; answered 500 so that Meta delivers it again (pass onError to handle this yourself)", failure],
        ]);
        // With an onError, the error is the hook's alone.
        const { url: hooked } = await startEndpoint({ onEvent: () => Promise.reject(failure), onError: () => {} });
        expect((await deliver(hooked, connectBody)).status).toBe(500);
        expect(printed).toHaveBeenCalledTimes(1);
        // A store that fails to mark a handled event done: the answer stays 200, and the line says so.
        const { url: unmarked } = await startEndpoint({
          dedupe: { claim: () => "claimed", markDone: () => Promise.reject(new Error("store down")), release: () => {} },
        });
        expect((await deliver(unmarked, connectBody)).status).toBe(200);
        expect(printed.mock.calls[1]).toEqual([
          "whatsapp-calling: a call.connect event was handled, but the dedupe store failed to mark it done (pass onError to handle this yourself)",
          expect.objectContaining({ name: "WebhookDedupeStoreError", operation: "markDone" }),
        ]);
      } finally {
        printed.mockRestore();
      }
    });

    it("does not dispatch an immediate re-delivery twice, nor a duplicate inside one delivery", async () => {
      const { url, events } = await startEndpoint();
      expect((await deliver(url, connectBody)).status).toBe(200);
      expect((await deliver(url, connectBody)).status).toBe(200);
      expect(events).toHaveLength(1);

      const payload = fixtureJson("webhooks/calls.status.ringing.json");
      payload.entry[0].changes.push(payload.entry[0].changes[0]);
      expect((await deliver(url, JSON.stringify(payload))).status).toBe(200);
      expect(events.map((event) => event.type)).toEqual(["call.connect", "call.status"]);
    });

    it.each([
      ["call hours written HH:MM", { call_hours: { status: "ENABLED", weekly_operating_hours: [{ day_of_week: "MONDAY", open_time: "04:00", close_time: "10:20" }] } }],
      ["a call icon visibility the enum does not list", { call_icon_visibility: "DISABLE ALL" }],
      ["calling null", null],
    ])("answers 200 to an account_settings_update with %s (0.1.0: 400) and delivers its value", async (_label, calling) => {
      const delivered: unknown[] = [];
      const { url } = await startEndpoint({
        onEvent: (event) => {
          if (event.type === "account_settings.update") delivered.push(event.data);
          if (event.type === "invalid" && event.expected === "account_settings.update") delivered.push(event.data);
        },
      });
      const value = { messaging_product: "whatsapp", timestamp: "1671644824", type: "phone_number_settings", phone_number_settings: { phone_number_id: "117823401562387", calling } };
      const body = JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: "104996122399160", changes: [{ field: "account_settings_update", value }] }] });
      expect(await deliver(url, body)).toEqual({ status: 200, contentType: null, body: "" });
      expect(delivered).toEqual([value]);
    });

    it("makes a re-delivery that arrives while the first attempt runs wait for it: a duplicate once it succeeded", async () => {
      const { release, released, entered, inHandler } = gate();
      let calls = 0;
      const { url } = await startEndpoint({
        onEvent: async () => {
          calls++;
          entered();
          await released;
        },
      });
      const first = deliver(url, connectBody);
      await inHandler;
      let secondAnswered = false;
      const second = deliver(url, connectBody).then((answer) => ((secondAnswered = true), answer));
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Not acknowledged while the first attempt has not succeeded.
      expect(secondAnswered).toBe(false);
      release();
      expect((await first).status).toBe(200);
      expect((await second).status).toBe(200);
      expect(calls).toBe(1);
    });

    it("handles the event in the waiting re-delivery when the first attempt fails", async () => {
      const { release, released, entered, inHandler } = gate();
      const attempts: string[] = [];
      const { url } = await startEndpoint({
        onEvent: async () => {
          attempts.push(attempts.length === 0 ? "first" : "again");
          if (attempts.length === 1) {
            entered();
            await released;
            throw new Error("first attempt failed");
          }
        },
      });
      const first = deliver(url, connectBody);
      await inHandler;
      const second = deliver(url, connectBody);
      await new Promise((resolve) => setTimeout(resolve, 50));
      release();
      expect((await first).status).toBe(500);
      expect((await second).status).toBe(200);
      expect(attempts).toEqual(["first", "again"]);
    });

    it("a 409 says how many of the delivery's events were handled: the others of it are, and are not handled again", async () => {
      const { release, released, entered, inHandler } = gate();
      const handled: string[] = [];
      const { url } = await startEndpoint({
        inFlightWaitMs: 30,
        onEvent: async (event) => {
          handled.push(event.type);
          if (event.type === "call.connect") {
            entered();
            await released;
          }
        },
      });
      const connect = fixtureJson("webhooks/calls.connect.user-initiated.json");
      const status = fixtureJson("webhooks/calls.status.ringing.json");
      expect(status.entry[0].changes[0].value.statuses[0].id).not.toBe(connect.entry[0].changes[0].value.calls[0].id);
      const both = JSON.stringify({ ...connect, entry: [{ ...connect.entry[0], changes: [...connect.entry[0].changes, ...status.entry[0].changes] }] });
      const first = deliver(url, connectBody);
      await inHandler;
      expect(await deliver(url, both)).toEqual({
        status: 409,
        contentType: TEXT,
        body: "1 of 2 events still being handled by an earlier delivery (1 handled now, 0 before); deliver again later",
      });
      release();
      expect((await first).status).toBe(200);
      expect(await deliver(url, both)).toMatchObject({ status: 200 });
      expect(handled).toEqual(["call.connect", "call.status"]);
    });

    it("answers 409 (Meta delivers again) when the first attempt is still running after inFlightWaitMs, and handles it later", async () => {
      const { release, released, entered, inHandler } = gate();
      let calls = 0;
      const { url } = await startEndpoint({
        inFlightWaitMs: 30,
        onEvent: async () => {
          calls++;
          entered();
          await released;
          throw new Error("failed after all");
        },
      });
      const first = deliver(url, connectBody);
      await inHandler;
      expect(await deliver(url, connectBody)).toEqual({
        status: 409,
        contentType: TEXT,
        body: "1 of 1 events still being handled by an earlier delivery (0 handled now, 0 before); deliver again later",
      });
      release();
      expect((await first).status).toBe(500);
      expect(calls).toBe(1);
      // Meta's next re-delivery finds the claim released and handles the event.
      expect((await deliver(url, connectBody)).status).toBe(500);
      expect(calls).toBe(2);
    });

    it("dispatches every delivery with dedupe: false, and uses a store given as dedupe (a 0.1.0 has/add store too)", async () => {
      const plain = await startEndpoint({ dedupe: false });
      await deliver(plain.url, connectBody);
      await deliver(plain.url, connectBody);
      expect(plain.events).toHaveLength(2);

      const seen = new Set<string>([`call.status:RINGING:${BUSINESS_CALL_ID}`]);
      const custom = await startEndpoint({ dedupe: seen });
      await deliver(custom.url, fixtureBytes("webhooks/calls.status.ringing.json"));
      await deliver(custom.url, connectBody);
      await deliver(custom.url, connectBody);
      expect(custom.events.map((event) => event.type)).toEqual(["call.connect"]);
      expect([...seen]).toEqual([`call.status:RINGING:${BUSINESS_CALL_ID}`, `call.connect:${USER_CALL_ID}`]);
    });

    it("bounds an onError that never settles (onErrorTimeoutMs): the delivery is still answered 500", async () => {
      const { url } = await startEndpoint({
        onErrorTimeoutMs: 50,
        onEvent: () => {
          throw new Error("handler failed");
        },
        onError: () => new Promise(() => {}),
      });
      expect(await deliver(url, connectBody)).toEqual({ status: 500, contentType: TEXT, body: "Webhook handler failed" });
    });

    it("answers 413 to a Content-Length above the cap without reading the body, and closes the connection", async () => {
      const { url, events } = await startEndpoint({ maxBodyBytes: 1024 });
      const tooLarge = new Uint8Array(1025).fill(0x20);
      const response = await deliver(url, tooLarge);
      expect(response).toEqual({ status: 413, contentType: TEXT, body: "Body larger than 1024 bytes" });

      const announced = await rawRequest(url, {
        headers: { "content-length": DEFAULT_MAX_BODY_BYTES + 1, "x-hub-signature-256": connectSignature },
        endBody: false,
      });
      expect(announced.status).toBe(413);
      expect(announced.body).toBe("Body larger than 1024 bytes");
      expect(announced.headers["connection"]).toBe("close");
      expect(events).toEqual([]);
    });

    it("answers 413 to a chunked body once it passes the cap while being read", async () => {
      const { url } = await startEndpoint({ maxBodyBytes: 1024 });
      const chunk = new Uint8Array(600).fill(0x20);
      const response = await rawRequest(url, {
        headers: { "transfer-encoding": "chunked", "x-hub-signature-256": connectSignature },
        chunks: [chunk, chunk],
      });
      expect([response.status, response.body, response.headers["connection"]]).toEqual([413, "Body larger than 1024 bytes", "close"]);
    });

    it("keeps the default cap at 4 MiB (a full batch of 1000 updates fits), announced or not", async () => {
      expect(DEFAULT_MAX_BODY_BYTES).toBe(4 * 1024 * 1024);
      const { url } = await startEndpoint();
      const announced = await rawRequest(url, {
        headers: { "content-length": DEFAULT_MAX_BODY_BYTES + 1, "x-hub-signature-256": connectSignature },
        endBody: false,
      });
      expect([announced.status, announced.body]).toEqual([413, `Body larger than ${DEFAULT_MAX_BODY_BYTES} bytes`]);
    });

    it("keeps a keep-alive connection usable after answering without reading the whole body", async () => {
      const { url, events } = await startEndpoint({ maxBodyBytes: 4096 });
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      cleanups.push(async () => agent.destroy());
      const sockets = new Set<unknown>();
      const send = (headers: Record<string, string | number>, body: Uint8Array) =>
        new Promise<number>((resolve, reject) => {
          const request = httpRequest(url, { method: "POST", agent, headers: { "content-length": body.byteLength, ...headers } }, (response) => {
            sockets.add(request.socket);
            response.resume();
            response.on("end", () => resolve(response.statusCode ?? 0));
          });
          request.on("error", reject);
          request.end(body);
        });
      expect(await send({ "x-hub-signature-256": "sha256=" + "0".repeat(64) }, connectBody)).toBe(401);
      expect(await send({ "x-hub-signature-256": connectSignature }, connectBody)).toBe(200);
      expect(sockets.size).toBe(1);
      // An unsigned body is not read at all, so its connection is closed rather than drained (see the next test).
      expect(await send({}, connectBody)).toBe(401);
      expect(await send({ "x-hub-signature-256": connectSignature }, connectBody)).toBe(200);
      expect(sockets.size).toBe(2);
      expect(events).toHaveLength(1);
    });

    it("answers an unsigned body with 401 and Connection: close, without draining it (a body of any size)", async () => {
      const { url, events } = await startEndpoint();
      // Headers and a first MiB of a chunked body that never ends: 0.1.0 drained such a body for keep-alive.
      const answer = await rawRequest(url, { headers: { "content-type": "application/json" }, chunks: [new Uint8Array(1024 * 1024).fill(0x20)], endBody: false });
      expect([answer.status, answer.headers["connection"], answer.body]).toEqual([401, "close", "Missing X-Hub-Signature-256 header"]);
      expect(events).toEqual([]);
    });

    it("answers 405 with an Allow header to other methods", async () => {
      const { url } = await startEndpoint();
      for (const method of ["PUT", "DELETE", "PATCH"]) {
        const response = await fetch(url, { method, body: method === "DELETE" ? null : "x" });
        expect([response.status, response.headers.get("allow"), await response.text()]).toEqual([405, "GET, POST", "Method not allowed"]);
      }
      const head = await fetch(url, { method: "HEAD" });
      expect([head.status, head.headers.get("allow")]).toEqual([405, "GET, POST"]);
      // TRACE reaches node:http but not the fetch API's Request; the adapter answers it itself.
      // Decision (issue 11): answered like any other method the endpoint does not serve, 405 with Allow (0.1.0: 400).
      const trace = await rawRequest(url, { method: "TRACE" });
      expect([trace.status, trace.headers["allow"], trace.body]).toEqual([405, "GET, POST", "Method not allowed"]);
    });
  });
});

describe("createWebhookHandler as a web-standard handler", () => {
  const handler = () =>
    createWebhookHandler({ appSecret: fixtureAppSecret, verifyToken: VERIFY_TOKEN, maxBodyBytes: 256 * 1024 });

  it("stops reading an endless body shortly after the cap instead of buffering it", async () => {
    let pulledBytes = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulledBytes += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
      cancel() {
        cancelled = true;
      },
    });
    const request = new Request("http://127.0.0.1/webhooks/whatsapp", {
      method: "POST",
      headers: { "x-hub-signature-256": connectSignature },
      body: endless,
      duplex: "half",
    } as RequestInit);
    const response = await handler()(request);
    expect(response.status).toBe(413);
    expect(response.headers.get("connection")).toBe("close");
    expect(pulledBytes).toBeLessThanOrEqual(256 * 1024 + 3 * 64 * 1024);
    expect(cancelled).toBe(true);
  });

  it("toNodeListener serves any other web handler through Request and Response (streamed body, headers, status)", async () => {
    const seen: string[] = [];
    const echo = async (request: Request) => {
      seen.push(`${request.method} ${new URL(request.url).pathname} ${request.headers.get("x-test")}`);
      return new Response(`got ${(await request.text()).length} bytes`, { status: 202, headers: { "x-echo": "yes" } });
    };
    const server = await listen(toNodeListener(echo));
    cleanups.push(server.close);
    const response = await fetch(`${server.url}/hook`, { method: "POST", headers: { "x-test": "1" }, body: "x".repeat(70_000) });
    expect([response.status, response.headers.get("x-echo"), await response.text()]).toEqual([202, "yes", "got 70000 bytes"]);
    expect(seen).toEqual(["POST /hook 1"]);
  });

  it("answers a web Request as it does over HTTP", async () => {
    const post = (body: Uint8Array<ArrayBuffer>, signature: string) =>
      handler()(new Request("http://127.0.0.1/", { method: "POST", headers: { "x-hub-signature-256": signature }, body }));
    const accepted = await post(connectBody, connectSignature);
    expect([accepted.status, await accepted.text()]).toEqual([200, ""]);
    const refused = await post(encode("{}"), connectSignature);
    expect([refused.status, await refused.text()]).toEqual([401, "Invalid X-Hub-Signature-256 signature"]);
  });

  it("refuses a configuration without app secret, verify token or a sane cap", () => {
    expect(() => createWebhookHandler({ appSecret: "", verifyToken: "t" })).toThrow(WhatsAppValidationError);
    expect(() => createWebhookHandler({ appSecret: [], verifyToken: "t" })).toThrow(WhatsAppValidationError);
    expect(() => createWebhookHandler({ appSecret: "s", verifyToken: "" })).toThrow(new WhatsAppValidationError("verifyToken must be a non-empty string", { path: "verifyToken" }));
    expect(() => createWebhookHandler({ appSecret: "s", verifyToken: "t", maxBodyBytes: 0 })).toThrow(WhatsAppValidationError);
  });

  it("refuses handlers that could never run, or would answer every delivery 500, when it is made", () => {
    const make = (options: Record<string, unknown>) => () => createWebhookHandler({ appSecret: "s", verifyToken: "t", ...options } as WebhookHandlerOptions);
    expect(make({ on: { "call.conect": () => {} } })).toThrow(
      new WhatsAppValidationError(
        'on: "call.conect" is not an event type (call.connect, call.terminate, call.status, call.recording_available, call.transcription_available, call.created, call.voicemail, call_permission.reply, account_settings.update, account.update, unknown, invalid)',
        { path: "on.call.conect" },
      ),
    );
    expect(make({ on: { "call.connect": "answer" } })).toThrow(new WhatsAppValidationError('on["call.connect"] must be a function', { path: "on.call.connect" }));
    expect(make({ on: [() => {}] })).toThrow(new WhatsAppValidationError("on must be an object of handlers by event type", { path: "on" }));
    expect(make({ on: null })).toThrow(new WhatsAppValidationError("on must be an object of handlers by event type", { path: "on" }));
    expect(make({ onEvent: {} })).toThrow(new WhatsAppValidationError("onEvent must be a function", { path: "onEvent" }));
    expect(make({ onError: "log" })).toThrow(new WhatsAppValidationError("onError must be a function", { path: "onError" }));
    // Every event type, and a handler left undefined, is taken.
    const all = Object.fromEntries(WEBHOOK_EVENT_TYPES.map((type) => [type, () => {}]));
    expect(make({ on: { ...all, "call.status": undefined }, onEvent: undefined, onError: undefined })).not.toThrow();
  });
});

describe("secrets stay out of answers, errors and logs", () => {
  it("never shows the app secret, the verify token, the signature header or SDP", async () => {
    const appSecret = "SENTINEL-APP-SECRET-5d1e";
    const previousSecret = "SENTINEL-OLD-SECRET-77aa";
    const verifyToken = "SENTINEL-VERIFY-TOKEN-9c2f";
    const logged: string[] = [];
    const record = (level: string) => (message: string, details?: Record<string, unknown>) =>
      void logged.push(`${level} ${message} ${JSON.stringify(details ?? {})}`);
    const hookErrors: string[] = [];
    const { url, events } = await startEndpoint({
      appSecret: [appSecret, previousSecret],
      verifyToken,
      logger: { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") },
      on: {
        "call.terminate": () => {
          throw new Error("terminate handler failed");
        },
      },
      onError: (error) => void hookErrors.push(String(error)),
    });
    const signature = await signWebhookPayload(connectBody, appSecret);
    const terminate = fixtureBytes("webhooks/calls.terminate.completed.user-initiated.json");
    const badPayload = JSON.stringify({ object: "x", entry: [{ id: "1", changes: [{ field: "calls", value: { messaging_product: "whatsapp", metadata: {}, calls: [{ id: "w", event: "connect", timestamp: "1", session: { sdp_type: "offer", sdp: 7 } }] } }] }] });
    const answers: string[] = [];
    const keep = async (response: Response) => {
      answers.push(`${response.status} ${JSON.stringify([...response.headers])} ${await response.text()}`);
    };
    const post = (body: Uint8Array<ArrayBuffer> | string, header: string) =>
      fetch(url, { method: "POST", headers: { "x-hub-signature-256": header }, body });
    await keep(await fetch(`${url}?hub.mode=subscribe&hub.challenge=42&hub.verify_token=${verifyToken}`));
    await keep(await fetch(`${url}?hub.mode=subscribe&hub.challenge=42&hub.verify_token=${verifyToken}x`));
    await keep(await fetch(`${url}?hub.mode=subscribe&hub.challenge=42`));
    await keep(await post(connectBody, signature));
    await keep(await post(connectBody, signature));
    await keep(await post(new Uint8Array([...connectBody, 0x20]), signature));
    await keep(await post(connectBody, "sha256=nothex"));
    await keep(await post(badPayload, await signWebhookPayload(badPayload, previousSecret)));
    await keep(await post("{", await signWebhookPayload("{", appSecret)));
    await keep(await post(terminate, await signWebhookPayload(terminate, appSecret)));
    await keep(await fetch(url, { method: "PUT", body: appSecret }));

    expect(answers.map((answer) => answer.split(" ")[0])).toEqual(["200", "403", "400", "200", "200", "401", "401", "200", "400", "500", "405"]);
    expect(events.map((event) => event.type)).toEqual(["call.connect", "invalid", "call.terminate"]);
    expect(logged.length).toBeGreaterThanOrEqual(10);
    expect(hookErrors).toEqual(["Error: terminate handler failed"]);
    // The terminate delivery's one event failed: nothing of it was handled.
    expect(logged).toContain(
      'warn webhook delivery not handled; answered 500 so that Meta delivers it again {"events":1,"handled":0,"failed":1,"busy":0,"deferred":0,"duplicates":0}',
    );
    const everything = [...answers, ...logged, ...hookErrors].join("\n");
    for (const secret of [appSecret, previousSecret, verifyToken, signature, signature.slice(7), "a=ice-pwd", "v=0"]) {
      expect(everything).not.toContain(secret);
    }
  });
});
