// The calling webhook endpoint on Deno: `deno serve` runs the default export's fetch.
//
//   WHATSAPP_APP_SECRET=... WHATSAPP_VERIFY_TOKEN=... \
//     deno serve --port 8080 --allow-env=WHATSAPP_APP_SECRET,WHATSAPP_VERIFY_TOKEN --allow-read=. main.ts
//
// The package needs no permission of its own: --allow-read only lets Deno load it from node_modules.
import { createWebhookHandler } from "whatsapp-calling/webhooks";

function required(name: string): string {
  const value = Deno.env.get(name);
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

export default { fetch: handler } satisfies Deno.ServeDefaultExport;
