import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { toNodeListener, WebhookBodyParsedError } from "../../src/node.js";
import { signWebhookPayload } from "../../src/testing/index.js";
import { createWebhookHandler, type WebhookEvent } from "../../src/webhooks/index.js";
import { batchDelivery, describeEvent, expectedBatchOrder, expectedFixtureEvents } from "./expected-events.js";
import { deliveryFixtures, fixtureAppSecret, fixtureBytes, listen } from "./helpers.js";

const VERIFY_TOKEN = "my-verify-token";
const TEXT = "text/plain; charset=utf-8";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** An Express 5 app on 127.0.0.1; `setup` mounts the webhook listener (and whatever else) on it. */
async function startApp(setup: (app: express.Express, listener: ReturnType<typeof toNodeListener>) => void) {
  const events: WebhookEvent[] = [];
  const listenerErrors: Error[] = [];
  const listener = toNodeListener(
    createWebhookHandler({ appSecret: fixtureAppSecret, verifyToken: VERIFY_TOKEN, onEvent: (event) => void events.push(event) }),
    { onError: (error) => void listenerErrors.push(error) },
  );
  const app = express();
  setup(app, listener);
  const server = await listen(app);
  cleanups.push(server.close);
  return { url: server.url, events, listenerErrors };
}

async function post(url: string, body: Uint8Array<ArrayBuffer> | string, signature?: string) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-hub-signature-256": signature ?? (await signWebhookPayload(body, fixtureAppSecret)),
    },
    body,
  });
  return { status: response.status, contentType: response.headers.get("content-type"), body: await response.text() };
}

describe("toNodeListener in an Express 5 app", () => {
  it("works mounted under a path beside other routes: handshake, every fixture, a batch", async () => {
    const { url, events } = await startApp((app, listener) => {
      app.get("/health", (_req, res) => void res.send("up"));
      app.use("/webhooks/whatsapp", listener);
    });
    const handshake = await fetch(`${url}/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${VERIFY_TOKEN}`);
    expect([handshake.status, handshake.headers.get("content-type"), await handshake.text()]).toEqual([200, TEXT, "1158201444"]);
    const refused = await fetch(`${url}/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope`);
    expect(refused.status).toBe(403);

    for (const file of deliveryFixtures) {
      events.length = 0;
      expect(await post(`${url}/webhooks/whatsapp`, fixtureBytes(file))).toEqual({ status: 200, contentType: null, body: "" });
      expect(events).toEqual(expectedFixtureEvents[file]);
    }
    events.length = 0;
    expect((await post(`${url}/webhooks/whatsapp`, JSON.stringify(batchDelivery()))).status).toBe(200);
    // The calls and the permission reply of the fixtures were handled above: their re-delivery is dropped.
    const alreadyHandled = new Set(deliveryFixtures.flatMap((file) => expectedFixtureEvents[file].map((event) => describeEvent(event).join(" "))));
    expect(events.map(describeEvent)).toEqual(expectedBatchOrder.filter((item) => !alreadyHandled.has(item.join(" "))));
    expect(events).toHaveLength(8);

    const wrong = await post(`${url}/webhooks/whatsapp`, fixtureBytes(deliveryFixtures[0]), "sha256=" + "0".repeat(64));
    expect(wrong).toEqual({ status: 401, contentType: TEXT, body: "Invalid X-Hub-Signature-256 signature" });
    expect(await (await fetch(`${url}/health`)).text()).toBe("up");
  });

  it.each([
    ["express.json()", () => express.json()],
    ["express.text() (text that may not re-encode to the signed bytes)", () => express.text({ type: "*/*" })],
  ])("answers 500 with an explanation when %s already parsed the body without keeping the bytes, and tells onError", async (_name, parser) => {
    const { url, events, listenerErrors } = await startApp((app, listener) => {
      app.use(parser());
      app.post("/webhooks/whatsapp", listener);
    });
    const response = await post(`${url}/webhooks/whatsapp`, fixtureBytes(deliveryFixtures[0]));
    expect(response).toEqual({
      status: 500,
      contentType: TEXT,
      body:
        "The request body was already read and parsed (for example by express.json() or express.text()) and its raw " +
        "bytes are not available, so the X-Hub-Signature-256 signature cannot be checked. Mount the webhook listener " +
        "before the body parsers, keep the raw bytes in req.rawBody, or use express.raw().",
    });
    expect(events).toEqual([]);
    expect(listenerErrors.map((error) => [error.name, error.message, error instanceof WebhookBodyParsedError, (error as WebhookBodyParsedError).status])).toEqual([["WebhookBodyParsedError", response.body, true, 500]]);
  });

  it("without onError, prints the misconfiguration once to stderr", async () => {
    const printed: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void printed.push(args);
    try {
      const listener = toNodeListener(createWebhookHandler({ appSecret: fixtureAppSecret, verifyToken: VERIFY_TOKEN }));
      const app = express();
      app.use(express.json());
      app.post("/webhooks/whatsapp", listener);
      const server = await listen(app);
      cleanups.push(server.close);
      expect((await post(`${server.url}/webhooks/whatsapp`, fixtureBytes(deliveryFixtures[0]))).status).toBe(500);
      expect((await post(`${server.url}/webhooks/whatsapp`, fixtureBytes(deliveryFixtures[0]))).status).toBe(500);
    } finally {
      console.error = original;
    }
    expect(printed).toHaveLength(1);
    expect(String(printed[0]![0])).toMatch(/^whatsapp-calling: The request body was already read and parsed/);
  });

  it("uses req.rawBody kept by express.json({ verify }), and a Buffer body from express.raw()", async () => {
    const { url, events } = await startApp((app, listener) => {
      app.post(
        "/json",
        express.json({
          verify: (req, _res, buffer) => {
            (req as typeof req & { rawBody?: Buffer }).rawBody = buffer;
          },
        }),
        listener,
      );
      app.post("/raw", express.raw({ type: "*/*" }), listener);
    });
    const body = fixtureBytes("webhooks/calls.status.ringing.json");
    expect((await post(`${url}/json`, body)).status).toBe(200);
    expect((await post(`${url}/json`, body, "sha256=" + "1".repeat(64))).status).toBe(401);
    const terminate = fixtureBytes("webhooks/calls.terminate.completed.user-initiated.json");
    expect((await post(`${url}/raw`, terminate)).status).toBe(200);
    const tampered = new Uint8Array(terminate);
    tampered[100] = tampered[100]! ^ 1;
    expect((await post(`${url}/raw`, tampered, await signWebhookPayload(terminate, fixtureAppSecret))).status).toBe(401);
    expect(events.map((event) => event.type)).toEqual(["call.status", "call.terminate"]);
  });
});
