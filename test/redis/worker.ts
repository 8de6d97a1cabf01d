// One webhook endpoint process of the multi-process test: node:http, createWebhookHandler and the Redis dedupe
// store, sharing the Redis at REDIS_URL. Reports each dispatched event to the parent over IPC.
import { createClient } from "redis";
import { toNodeListener } from "../../src/node.js";
import { createRedisDedupeStore } from "../../src/redis/index.js";
import { createWebhookHandler } from "../../src/webhooks/index.js";
import { createServer } from "node:http";

const name = process.env["WORKER_NAME"]!;
const client = createClient({ url: process.env["REDIS_URL"]! });
client.on("error", () => {});
await client.connect();
// Events whose first attempt fails (anywhere): the claim is released, so a re-delivery is handled.
const failOnce = new Set((process.env["FAIL_ONCE"] ?? "").split(",").filter(Boolean));
const handler = createWebhookHandler({
  appSecret: process.env["APP_SECRET"]!,
  verifyToken: "t",
  dedupe: createRedisDedupeStore(client, { prefix: process.env["PREFIX"]! }),
  onEvent: async (event) => {
    const callId = "callId" in event ? event.callId : "";
    // Long enough for the other process to receive the same delivery meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (failOnce.delete(callId)) {
      process.send!({ failed: callId, by: name });
      throw new Error("failing once");
    }
    process.send!({ handled: `${event.type} ${callId}`, by: name });
  },
});
const server = createServer(toNodeListener(handler));
server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as { port: number }).port }));
process.on("message", (message) => {
  if (message === "stop") {
    server.closeAllConnections();
    server.close(() => void client.quit().finally(() => process.exit(0)));
  }
});
