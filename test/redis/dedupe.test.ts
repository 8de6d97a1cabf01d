// The Redis dedupe store against a real redis-server (never a mock), with both clients people use.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisDedupeStore, type RedisLikeClient } from "../../src/redis/index.js";
import { signWebhookPayload } from "../../src/testing/index.js";
import { createWebhookHandler, WebhookDedupeStoreError, type WebhookEvent } from "../../src/webhooks/index.js";
import { fixtureJson } from "../webhooks/helpers.js";
import { redisForTests, startRedisServer, type RedisServer } from "./redis-server.js";

const APP_SECRET = "redis-test-app-secret";
let redis: RedisServer;
beforeAll(async () => {
  redis = await redisForTests();
});
afterAll(() => redis?.close());

let prefixes = 0;
/** A prefix of its own per test, so that tests sharing a REDIS_URL do not see each other's keys. */
const freshPrefix = () => `test:${process.pid}:${Date.now()}:${prefixes++}:`;

/** A connect delivery for a call id of its own. */
function connectDelivery(callId: string): string {
  const payload = fixtureJson("webhooks/calls.connect.user-initiated.json");
  payload.entry[0].changes[0].value.calls[0].id = callId;
  return JSON.stringify(payload);
}

async function post(url: string, body: string) {
  const response = await fetch(url, { method: "POST", headers: { "x-hub-signature-256": await signWebhookPayload(body, APP_SECRET) }, body });
  await response.text();
  return response.status;
}

const clients: [string, (url: string) => Promise<RedisLikeClient & { close: () => Promise<unknown> }>][] = [
  [
    "node-redis 5",
    async (url) => {
      const client = createClient({ url, socket: { reconnectStrategy: false } });
      client.on("error", () => {});
      await client.connect();
      return Object.assign(client, { close: () => (client.isOpen ? client.quit() : Promise.resolve()) });
    },
  ],
  [
    "ioredis",
    async (url) => {
      const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true });
      client.on("error", () => {});
      await client.connect();
      return Object.assign(client, { close: () => (client.status === "end" ? Promise.resolve() : client.quit()) });
    },
  ],
];

describe.each(clients)("createRedisDedupeStore with %s", (_name, connect) => {
  it("claims atomically: one of 50 concurrent claims wins; done after markDone, free after release", async () => {
    const client = await connect(redis.url);
    try {
      const store = createRedisDedupeStore(client, { prefix: freshPrefix(), ttlMs: 60_000 });
      const claims = await Promise.all(Array.from({ length: 50 }, () => store.claim("call.connect:wacid.1", 10_000)));
      expect(claims.filter((claim) => claim === "claimed")).toHaveLength(1);
      expect(claims.filter((claim) => claim === "busy")).toHaveLength(49);
      await store.release("call.connect:wacid.1");
      expect(await store.claim("call.connect:wacid.1", 10_000)).toBe("claimed");
      await store.markDone("call.connect:wacid.1");
      expect(await store.claim("call.connect:wacid.1", 10_000)).toBe("done");
    } finally {
      await client.close();
    }
  });

  it("writes SET NX-like claims with an expiry, and done keys with the ttl, under the prefix", async () => {
    const client = await connect(redis.url);
    const inspect = await connect(redis.url);
    try {
      const prefix = freshPrefix();
      const store = createRedisDedupeStore(client, { prefix, ttlMs: 90_000 });
      const send = (args: string[]) => ("call" in inspect && typeof inspect.call === "function" ? inspect.call(args[0]!, ...args.slice(1)) : (inspect as { sendCommand: (a: string[]) => Promise<unknown> }).sendCommand(args));
      expect(await store.claim("k", 5_000)).toBe("claimed");
      const claimTtl = Number(await send(["PTTL", `${prefix}k`]));
      expect(claimTtl).toBeGreaterThan(0);
      expect(claimTtl).toBeLessThanOrEqual(5_000);
      await store.markDone("k");
      expect(await send(["GET", `${prefix}k`])).toBe("done");
      expect(Number(await send(["PTTL", `${prefix}k`]))).toBeGreaterThan(5_000);
      // A claim that lapsed and was taken by another attempt is not released by the first.
      const other = createRedisDedupeStore(inspect, { prefix });
      expect(await store.claim("lapsing", 1)).toBe("claimed");
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await other.claim("lapsing", 10_000)).toBe("claimed");
      await store.release("lapsing");
      expect(await other.claim("lapsing", 10_000)).toBe("busy");
    } finally {
      await client.close();
      await inspect.close();
    }
  });

  it("a claim that timed out but that Redis ran later is given up when it lands: the re-delivery is handled, not refused 409", async () => {
    // A server of its own: CLIENT PAUSE holds every client of the server.
    const own = await startRedisServer();
    const client = await connect(own.url);
    const admin = await connect(own.url);
    try {
      const prefix = freshPrefix();
      const send = (args: string[]) => ("call" in admin && typeof admin.call === "function" ? admin.call(args[0]!, ...args.slice(1)) : (admin as { sendCommand: (a: string[]) => Promise<unknown> }).sendCommand(args));
      const handled: string[] = [];
      const errors: unknown[] = [];
      const handler = createWebhookHandler({
        appSecret: APP_SECRET,
        verifyToken: "t",
        dedupe: createRedisDedupeStore(client, { prefix, commandTimeoutMs: 200 }),
        onEvent: (event: WebhookEvent) => void handled.push(event.type),
        onError: (error) => void errors.push(error),
      });
      const body = connectDelivery("wacid.late-claim");
      const deliver = async () => (await handler(new Request("http://127.0.0.1/", { method: "POST", headers: { "x-hub-signature-256": await signWebhookPayload(body, APP_SECRET) }, body }))).status;
      // Redis holds every client's commands for 800 ms: the claim times out after 200 ms, and runs at 800.
      expect(await send(["CLIENT", "PAUSE", "800", "ALL"])).toBe("OK");
      expect(await deliver()).toBe(500);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ name: "WebhookDedupeStoreError", operation: "claim" });
      expect(handled).toEqual([]);
      expect(await send(["PING"])).toBe("PONG"); // answered once the pause is over
      // The claim ran after the pause; it is released as soon as its answer arrives. Until then a re-delivery is
      // 409 (busy); without the release it would be 409 for claimTtlMs, 60 s.
      const statuses = [await deliver()];
      while (statuses.at(-1) === 409 && statuses.length < 40) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        statuses.push(await deliver());
      }
      expect(statuses.at(-1)).toBe(200);
      expect(statuses.slice(0, -1).every((status) => status === 409)).toBe(true);
      expect(handled).toEqual(["call.connect"]);
      expect(await send(["GET", `${prefix}call.connect:wacid.late-claim`])).toBe("done");
    } finally {
      await client.close();
      await admin.close();
      await own.close();
    }
  });

  it("Redis going away mid-run: a typed WebhookDedupeStoreError and a 500, never a silent 200", async () => {
    const own = await startRedisServer();
    const client = await connect(own.url);
    try {
      const errors: unknown[] = [];
      const handled: string[] = [];
      const handler = createWebhookHandler({
        appSecret: APP_SECRET,
        verifyToken: "t",
        dedupe: createRedisDedupeStore(client, { prefix: freshPrefix(), commandTimeoutMs: 500 }),
        onEvent: (event: WebhookEvent) => void handled.push(event.type),
        onError: (error) => void errors.push(error),
      });
      const deliver = async (body: string) =>
        (await handler(new Request("http://127.0.0.1/", { method: "POST", headers: { "x-hub-signature-256": await signWebhookPayload(body, APP_SECRET) }, body }))).status;
      expect(await deliver(connectDelivery("wacid.before"))).toBe(200);
      await own.kill();
      expect(await deliver(connectDelivery("wacid.after"))).toBe(500);
      expect(handled).toEqual(["call.connect"]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(WebhookDedupeStoreError);
      expect(errors[0]).toMatchObject({ name: "WebhookDedupeStoreError", operation: "claim", message: "The webhook dedupe store failed to claim an event" });
    } finally {
      await client.close().catch(() => {});
      await own.close();
    }
  });
});

describe("two handler processes sharing one Redis", () => {
  const workers: { child: ChildProcess; url: string; messages: Record<string, string>[] }[] = [];
  const prefix = freshPrefix();

  async function startWorker(name: string, env: Record<string, string> = {}) {
    const child = fork(fileURLToPath(new URL("./worker.ts", import.meta.url)), {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, WORKER_NAME: name, REDIS_URL: redis.url, APP_SECRET, PREFIX: prefix, ...env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const messages: Record<string, string>[] = [];
    const port = await new Promise<number>((resolve, reject) => {
      child.on("message", (message: Record<string, string | number>) => {
        if (typeof message["port"] === "number") resolve(message["port"]);
        else messages.push(message as Record<string, string>);
      });
      child.once("exit", (code) => reject(new Error(`worker ${name} exited with ${code}`)));
    });
    const worker = { child, url: `http://127.0.0.1:${port}/`, messages };
    workers.push(worker);
    return worker;
  }

  afterAll(async () => {
    await Promise.all(
      workers.map(({ child }) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once("exit", () => resolve()), child.send("stop"))))),
    );
  });

  it("the same delivery sent to both at once, 50 times: each event dispatched exactly once, none acknowledged unhandled", { timeout: 60_000 }, async () => {
    const a = await startWorker("a", { FAIL_ONCE: "wacid.fails-in-a" });
    const b = await startWorker("b");
    const callIds = Array.from({ length: 50 }, (_, index) => `wacid.shared-${index}`);
    const answers: number[][] = [];
    for (const callId of callIds) {
      const body = connectDelivery(callId);
      answers.push(await Promise.all([post(a.url, body), post(b.url, body)]));
    }
    // Both processes received each delivery while the other was handling it: one answered 409 (or 200 once the
    // other had finished), never a second dispatch.
    expect(answers.filter((pair) => pair.includes(409)).length).toBeGreaterThan(0);
    expect(answers.every((pair) => pair.includes(200))).toBe(true);
    // A 409 makes Meta deliver again: do so, to both.
    for (const [index, callId] of callIds.entries()) {
      if (answers[index]!.includes(409)) answers[index] = await Promise.all([post(a.url, connectDelivery(callId)), post(b.url, connectDelivery(callId))]);
    }
    const handled = [...a.messages, ...b.messages].map((message) => message["handled"]).filter(Boolean).sort();
    expect(handled).toEqual(callIds.map((callId) => `call.connect ${callId}`).sort());
    // Every answer is 200 in the end, and both processes took part.
    expect(answers.flat().every((status) => status === 200)).toBe(true);
    expect(a.messages.some((message) => message["handled"])).toBe(true);
    expect(b.messages.some((message) => message["handled"])).toBe(true);

    // A handler that fails releases the claim: Meta's re-delivery, to the other process, is handled there.
    expect(await post(a.url, connectDelivery("wacid.fails-in-a"))).toBe(500);
    expect(await post(b.url, connectDelivery("wacid.fails-in-a"))).toBe(200);
    expect(await post(a.url, connectDelivery("wacid.fails-in-a"))).toBe(200);
    expect(a.messages.filter((message) => message["failed"])).toEqual([{ failed: "wacid.fails-in-a", by: "a" }]);
    const retried = [...a.messages, ...b.messages].filter((message) => message["handled"] === "call.connect wacid.fails-in-a");
    expect(retried).toEqual([{ handled: "call.connect wacid.fails-in-a", by: "b" }]);
  });
});
