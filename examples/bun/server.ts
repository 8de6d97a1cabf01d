// The calling webhook endpoint on Bun: Bun.serve takes the handler as its fetch.
//
//   WHATSAPP_APP_SECRET=... WHATSAPP_VERIFY_TOKEN=... bun run server.ts
//
// PORT (default 8080) and HOST (default: every interface) say where it listens.
import { createWebhookHandler } from "whatsapp-calling/webhooks";

function required(name: string): string {
  const value = Bun.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const handler = createWebhookHandler({
  appSecret: required("WHATSAPP_APP_SECRET"),
  verifyToken: required("WHATSAPP_VERIFY_TOKEN"),
  on: {
    "call.connect": (event) => console.log("call", event.callId, event.data.direction),
    "call.terminate": (event) => console.log("ended", event.callId, event.data.status),
  },
});

const server = Bun.serve({ hostname: Bun.env.HOST, port: Number(Bun.env.PORT ?? 8080), fetch: handler });
console.log(`webhook endpoint on ${server.url}`);
