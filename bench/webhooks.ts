// The ingest figures. Floors:
// - verify + parse: WebCrypto HMAC-SHA256 verify with the key imported once, then JSON.parse of the decoded
//   bytes: the least any web-standard receiver must do with a signed delivery;
// - handler: the same, plus reading the body from the Request and making a Response;
// - node:http CPU: a plain node:http server doing createHmac + timingSafeEqual + JSON.parse (bench/server.ts).
// Peers, each with its nearest equivalent:
// - whatsapp-api-js: `post(JSON.parse(text), text, signature)` (verifies, then dispatches to on.call.connect; it
//   looks at the first change of a delivery only), its web-standard middleware `handle_post(request)` (a status
//   code, wrapped here in a Response) and its node-http middleware;
// - Kapso: `verifySignature({ appSecret, rawBody, signatureHeader })` (node:crypto) + `normalizeWebhook(JSON.parse(text))`;
//   it has no request handler.
import { COLUMNS, microsecondsFigure, plan, ratioFigure, type Figure, type Settings } from "./figure.js";
import { APP_SECRET, batchPool, connectPool, hexToBytes, SIGNATURE_HEADER, VERIFY_TOKEN, type Delivery } from "./fixtures.js";
import { importFromPackage } from "./package.js";
import type { CpuServer } from "./remote.js";
import { loopCpu, runRounds, sequential, type Contender } from "./rounds.js";

type Webhooks = typeof import("../src/webhooks/index.js");
type Operation = (delivery: Delivery) => Promise<unknown> | unknown;

const decoder = new TextDecoder();
const WEBHOOK_URL = "http://127.0.0.1/webhooks/whatsapp";

export async function verifiers(webhooks: Webhooks): Promise<Record<string, Operation>> {
  const { WhatsAppAPI } = await importFromPackage("whatsapp-api-js");
  const kapso = await importFromPackage("@kapso/whatsapp-cloud-api/server");
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(APP_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const waapi = new WhatsAppAPI({ token: "bench-token", appSecret: APP_SECRET, v: "v23.0" });
  waapi.on.call.connect = () => {};
  return {
    floor: async ({ bytes, signature }) => {
      if (!(await crypto.subtle.verify("HMAC", key, hexToBytes(signature.slice(7)), bytes))) throw new Error("floor: bad signature");
      return JSON.parse(decoder.decode(bytes));
    },
    "whatsapp-calling": async ({ bytes, signature }) => {
      if (!(await webhooks.verifySignature(bytes, signature, APP_SECRET))) throw new Error("whatsapp-calling: bad signature");
      return webhooks.parseWebhook(bytes);
    },
    "whatsapp-api-js": async ({ bytes, signature }) => {
      const text = decoder.decode(bytes);
      return waapi.post(JSON.parse(text), text, signature);
    },
    kapso: ({ bytes, signature }) => {
      if (!kapso.verifySignature({ appSecret: APP_SECRET, rawBody: bytes, signatureHeader: signature })) throw new Error("kapso: bad signature");
      return kapso.normalizeWebhook(JSON.parse(decoder.decode(bytes)));
    },
  };
}

/** Each contender gets a fresh handler per batch: an empty default dedupe store that every delivery is new to. */
export async function handlers(webhooks: Webhooks): Promise<Record<string, () => (request: Request) => Promise<Response>>> {
  const { WhatsAppAPI } = await importFromPackage("whatsapp-api-js/middleware/web-standard");
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(APP_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const waapi = new WhatsAppAPI({ token: "bench-token", appSecret: APP_SECRET, webhookVerifyToken: VERIFY_TOKEN, v: "v23.0" });
  waapi.on.call.connect = () => {};
  return {
    floor: () => async (request) => {
      const bytes = new Uint8Array(await request.arrayBuffer());
      const signature = request.headers.get(SIGNATURE_HEADER) ?? "";
      if (!(await crypto.subtle.verify("HMAC", key, hexToBytes(signature.slice(7)), bytes))) return new Response(null, { status: 401 });
      JSON.parse(decoder.decode(bytes));
      return new Response(null, { status: 200 });
    },
    "whatsapp-calling": () =>
      webhooks.createWebhookHandler({ appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN, on: { "call.connect": () => {} } }),
    "whatsapp-api-js": () => async (request) => new Response(null, { status: await waapi.handle_post(request) }),
  };
}

/** The default store of 0.1.0 (has, add) or of the claim-based design (claim, markDone, release); both in memory, synchronous. */
export type StoreOfAnyVersion = { has?: (key: string) => boolean; add?: (key: string) => unknown; claim?: (key: string, ttlMs: number) => string; markDone?: (key: string) => unknown };

/** What the handler does with the store for one event that is new to it. */
export function eventHandled(store: StoreOfAnyVersion): (key: string) => void {
  if (store.claim && store.markDone) {
    const { claim, markDone } = store as Required<StoreOfAnyVersion>;
    return (key) => {
      if (claim.call(store, key, 60_000) === "claimed") markDone.call(store, key);
    };
  }
  const { has, add } = store as Required<StoreOfAnyVersion>;
  return (key) => {
    if (!has.call(store, key)) add.call(store, key);
  };
}

export function toRequest({ bytes, signature }: Delivery): Request {
  return new Request(WEBHOOK_URL, {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": String(bytes.byteLength), [SIGNATURE_HEADER]: signature },
    body: bytes,
  });
}

export async function webhookFigures(server: CpuServer, settings: Settings, log: (line: string) => void): Promise<Figure[]> {
  const webhooks = await importFromPackage<Webhooks>("whatsapp-calling/webhooks");
  // Pools at least as large as a round: a handler with dedupe on must see every delivery of a round as new.
  const connects = connectPool(settings.quick ? 50 : 1_000);
  const batches = batchPool(settings.quick ? 3 : 30);
  const figures: Figure[] = [];

  const verify = await verifiers(webhooks);
  for (const [id, title, pool, target] of [
    ["verify-parse-connect", `verify + parse of a ${(connects[0]!.bytes.byteLength / 1000).toFixed(1)} KB connect delivery / WebCrypto HMAC (key imported once) + JSON.parse`, connects, 1.3],
    ["verify-parse-batch", `the same on a 100-call batch (${Math.round(batches[0]!.bytes.byteLength / 1000)} KB)`, batches, 1.2],
  ] as const) {
    log(title);
    for (const operation of Object.values(verify)) await operation(pool[0]!); // each one accepts the delivery
    const contenders: Contender[] = Object.entries(verify).map(([name, operation]) => ({
      name,
      measure: (count) => sequential(count, async (index) => operation(pool[index % pool.length]!)),
    }));
    figures.push(ratioFigure(id, title, await runRounds(contenders, plan(settings, 2 * pool.length, pool.length)), target));
  }

  const handlerMakers = await handlers(webhooks);
  for (const [id, title, pool] of [
    ["handler-connect", "createWebhookHandler, Request in → Response out, default dedupe on: connect / floor + reading the Request", connects],
    ["handler-batch", "the same, 100-call batch", batches],
  ] as const) {
    log(title);
    const contenders: Contender[] = Object.entries(handlerMakers).map(([name, make]) => ({
      name,
      measure: async (count) => {
        const handle = make();
        const requests = pool.slice(0, count).map(toRequest); // made before the clock starts
        return sequential(requests.length, async (index) => {
          const response = await handle(requests[index]!);
          if (response.status !== 200) throw new Error(`${name}: HTTP ${response.status}`);
        });
      },
    }));
    figures.push(ratioFigure(id, title, await runRounds(contenders, plan(settings, pool.length, pool.length)), 1.15));
  }

  log("node:http server CPU per connect delivery");
  const cpuContenders: Contender[] = ["floor", "whatsapp-calling", "whatsapp-api-js"].map((name) => ({
    name,
    measure: async (count) => {
      const url = `http://127.0.0.1:${server.ports[name]}/webhooks/whatsapp`;
      await server.ask("reset");
      const before = await server.ask("cpu");
      for (const { bytes, signature } of connects.slice(0, count)) {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signature },
          body: bytes,
        });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`${name} server: HTTP ${response.status}`);
      }
      return ((await server.ask("cpu")) - before) / count;
    },
  }));
  figures.push(
    ratioFigure(
      "node-server",
      "node:http server CPU per delivery (toNodeListener) / a node:crypto floor, connect",
      await runRounds(cpuContenders, plan(settings, 400, 30)),
      1.3,
      "process.cpuUsage() (user + system) of the server process over the deliveries of a round",
    ),
  );

  log("default dedupe store, full");
  const maxKeys = webhooks.DEFAULT_DEDUPE_MAX_KEYS;
  let serial = 0;
  const dedupe: Contender = {
    name: "whatsapp-calling",
    measure: async (count) => {
      const store = webhooks.createMemoryDedupeStore() as StoreOfAnyVersion;
      const handled = eventHandled(store);
      for (let index = 0; index < maxKeys; index += 1) handled(`wacid.fill-${index}:connect`);
      const keys = Array.from({ length: count }, () => `wacid.bench-${serial++}:connect`);
      return loopCpu(count, (index) => handled(keys[index]!));
    },
  };
  figures.push(
    microsecondsFigure(
      "dedupe-full",
      `default dedupe store, full (${maxKeys.toLocaleString("en-US")} keys), CPU per new event`,
      await runRounds([dedupe], plan(settings, 50_000, 2_000)),
      1,
      "what the handler asks of the store for one new event: has + add (0.1.0), claim + markDone (claim-based stores)",
    ),
  );
  for (const figure of figures) for (const column of COLUMNS) if (figure.values[column]?.median === undefined) delete figure.values[column];
  return figures;
}
