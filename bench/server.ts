// The bench's other process (forked by bench/run.ts), so that the client side and the server side of a figure
// never share an event loop or a CPU clock. It serves on 127.0.0.1:
// - graph: a Graph API stand-in that reads the request and answers `{"success":true}` (the terminate figures);
// - floor / whatsapp-calling / whatsapp-api-js: the same signed webhook delivery received three ways (the
//   node:http CPU figure), each answering 200.
// Over IPC it answers "cpu" with process.cpuUsage() (user + system, µs) and "reset" by making a fresh handler
// (an empty default dedupe store), so that the deliveries of a round are all new; "profile-start" and
// "profile-stop" are for bench/profile.ts.
import { createHmac, timingSafeEqual } from "node:crypto";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { APP_SECRET, SIGNATURE_HEADER, VERIFY_TOKEN } from "./fixtures.js";
import { importFromPackage } from "./package.js";

type Webhooks = typeof import("../src/webhooks/index.js");
type NodeEntry = typeof import("../src/node.js");
const webhooks = await importFromPackage<Webhooks>("whatsapp-calling/webhooks");
const { toNodeListener } = await importFromPackage<NodeEntry>("whatsapp-calling/node");
const { WhatsAppAPI: WhatsAppApiNode } = await importFromPackage("whatsapp-api-js/middleware/node-http");

const answer = '{"success":true}';
const graph: RequestListener = (req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(200, { "content-type": "application/json", "content-length": answer.length }).end(answer));
};

/** The floor: what any node:http endpoint must do: read the body, HMAC it with node:crypto, compare, parse. */
const floor: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const header = req.headers[SIGNATURE_HEADER];
    const expected = createHmac("sha256", APP_SECRET).update(body).digest();
    const received = typeof header === "string" ? Buffer.from(header.slice(7), "hex") : Buffer.alloc(0);
    if (received.length !== expected.length || !timingSafeEqual(received, expected)) return void res.writeHead(401).end();
    JSON.parse(body.toString("utf8"));
    res.writeHead(200).end();
  });
};

// "reset" also collects garbage, so that a contender's batch does not pay for the previous one's (bench/rounds.ts).
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

let ours: RequestListener = () => {};
const reset = () => {
  collectGarbage();
  ours = toNodeListener(webhooks.createWebhookHandler({ appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN, on: { "call.connect": () => {} } }));
};
reset();

const waapi = new WhatsAppApiNode({ token: "bench-token", appSecret: APP_SECRET, webhookVerifyToken: VERIFY_TOKEN, v: "v23.0" });
waapi.on.call.connect = () => {};
const peer: RequestListener = (req, res) => {
  waapi.handle_post(req).then((status: number) => res.writeHead(status).end());
};

async function listen(listener: RequestListener): Promise<number> {
  const server = createServer((req, res) => listener(req, res));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

const ports = {
  graph: await listen(graph),
  floor: await listen(floor),
  "whatsapp-calling": await listen((req, res) => ours(req, res)),
  "whatsapp-api-js": await listen(peer),
};

// bench/profile.ts: the V8 CPU profiler (as `node --cpu-prof` runs it) around the deliveries only.
const profileFile = process.argv[2];
const session = new Session();
process.on("message", async (message: { id: number; type: "cpu" | "reset" | "profile-start" | "profile-stop" }) => {
  if (message.type === "reset") reset();
  if (message.type === "profile-start") {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 1000 });
    await session.post("Profiler.start");
  }
  if (message.type === "profile-stop") {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(profileFile!, JSON.stringify(profile));
    session.disconnect();
  }
  const usage = process.cpuUsage();
  process.send!({ id: message.id, cpu: usage.user + usage.system });
});
process.on("disconnect", () => process.exit(0));
process.send!({ ready: ports });
