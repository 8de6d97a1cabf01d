// The calling webhook endpoint as a Cloudflare Worker: `export default { fetch }`.
//
//   npx wrangler secret put WHATSAPP_APP_SECRET
//   npx wrangler secret put WHATSAPP_VERIFY_TOKEN
//   npx wrangler deploy
//
// Secrets arrive with each request (env), so the handler is made on the first request and kept for the life of
// the isolate. Its default dedupe store lives in that isolate's memory: with many isolates, pass a shared store
// that claims atomically (`dedupe: { claim, markDone, release }` over a Durable Object; see the README's
// "Duplicates") to drop Meta's re-deliveries everywhere. Work left pending after the Response is cancelled by
// the runtime: await what a handler starts (such as `answer()`).
import { createWebhookHandler, type WebhookRequestHandler } from "whatsapp-calling/webhooks";

export interface Env {
  WHATSAPP_APP_SECRET: string;
  WHATSAPP_VERIFY_TOKEN: string;
}

let handler: WebhookRequestHandler | undefined;

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    handler ??= createWebhookHandler({
      appSecret: env.WHATSAPP_APP_SECRET,
      verifyToken: env.WHATSAPP_VERIFY_TOKEN,
      on: {
        "call.connect": (event) => console.log("call", event.callId, event.data.direction),
        "call.terminate": (event) => console.log("ended", event.callId, event.data.status),
      },
    });
    return handler(request);
  },
};
