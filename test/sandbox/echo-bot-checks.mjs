// Run by echo-bot.test.ts in a child process, with tsx and examples/tsconfig.json (so that the example's
// `whatsapp-calling` imports resolve as in a user's project). Prints one JSON line per check. Plain JavaScript,
// so that the repository's own type check (which does not map the package's name) leaves it alone; the example
// itself is type-checked by `npm run typecheck` (examples/tsconfig.json).
import { createServer } from "node:http";
import { createCallingClient } from "whatsapp-calling";
import { toNodeListener } from "whatsapp-calling/node";
import { signWebhookPayload, startSandbox } from "whatsapp-calling/testing";
import { createEchoBot } from "../../examples/echo-bot/bot.js";

const appSecret = "echo-bot-check-secret";
const lines = [];
let handle = async () => new Response(null, { status: 503 });
const server = createServer(toNodeListener((request) => handle(request)));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const webhookUrl = `http://127.0.0.1:${server.address().port}/webhook`;
const sandbox = await startSandbox({ webhookUrl, appSecret, media: true });
const calls = createCallingClient({ phoneNumberId: sandbox.phoneNumberId, accessToken: sandbox.accessToken, baseUrl: sandbox.url, retry: false });
const bot = createEchoBot({ calls, appSecret, verifyToken: "v", log: (line) => lines.push(line) });
handle = bot.handler;
const report = (check, result) => console.log(JSON.stringify({ check, result }));

// 1. A terminate delivered before its connect: the late connect is not answered.
const late = await sandbox.simulateInboundCall({ from: "15550111111", terminateBeforeConnect: true });
await sandbox.deliveriesSettled();
report("terminate-before-connect", {
  steps: sandbox.events.filter((event) => event.kind === "request" && event.callId === late.callId).map((event) => event.action),
  statuses: sandbox.deliveries.filter((delivery) => delivery.callId === late.callId).map((delivery) => `${delivery.event}:${delivery.attempts.at(-1)?.status}`),
  logged: lines.some((line) => line.includes("late connect")),
});

// 2. An offer the WebRTC stack refuses: the handler answers 200 (no re-delivery loop) and the bot rejects the call.
const badCall = await sandbox.simulateInboundCall({ from: "15550222222", terminateBeforeConnect: false });
const body = JSON.stringify({
  object: "whatsapp_business_account",
  entry: [{ id: "1", changes: [{ field: "calls", value: { messaging_product: "whatsapp", metadata: { phone_number_id: sandbox.phoneNumberId }, calls: [{ id: `${badCall.callId}X`, from: "15550333333", to: "15550199001", event: "connect", timestamp: "1767268800", direction: "USER_INITIATED", session: { sdp_type: "offer", sdp: "v=0\r\nthis is not an SDP offer\r\n" } }] } }] }],
});
const response = await bot.handler(new Request(webhookUrl, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": await signWebhookPayload(body, appSecret) }, body }));
report("refused-offer", {
  status: response.status,
  rejected: sandbox.events.some((event) => event.kind === "request" && event.action === "reject" && event.callId === `${badCall.callId}X`),
  logged: lines.some((line) => line.includes("cannot answer")),
});
await sandbox.hangUp(badCall.callId);

await bot.close();
await sandbox.close();
server.closeAllConnections();
server.close();
process.exit(0);
