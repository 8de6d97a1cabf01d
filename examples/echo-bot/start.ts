// `npm start`: the sandbox (a local WhatsApp Calling API and a WhatsApp user with a real WebRTC peer) and the
// echo bot, on 127.0.0.1, playing two scenes. No account, token or configuration is needed. Prints what happens
// and exits 0, or 1 with the reason when a step fails.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createCallingClient } from "whatsapp-calling";
import { toNodeListener } from "whatsapp-calling/node";
import { describeSandboxEvent, startSandbox, type Sandbox } from "whatsapp-calling/testing";
import type { WebhookRequestHandler } from "whatsapp-calling/webhooks";
import { createEchoBot, type EchoBot } from "./bot.js";

const CALLER = "15550123456";
const CALLEE = "15550654321";
const AUDIO_SECONDS = 3;
const DEADLINE_MS = 20_000;

const started = Date.now();
const print = (line: string) => console.log(`${((Date.now() - started) / 1000).toFixed(2).padStart(6)}s  ${line}`);
let step = "starting";
const deadline = setTimeout(() => fail(`timed out after ${DEADLINE_MS / 1000} s while ${step}`), DEADLINE_MS);
deadline.unref();

function fail(reason: string): never {
  print(`FAILED: ${reason}`);
  process.exit(1);
}

function expect(condition: boolean, reason: string): void {
  if (!condition) fail(reason);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function audioReport(sandbox: Sandbox, bot: EchoBot, callId: string): Promise<void> {
  const user = await sandbox.mediaStats(callId);
  const echo = bot.mediaOf(callId);
  print(`audio   user: connected in ${user.connectMs} ms, sent ${user.sent.packets} packets (${user.sent.bytes} bytes of Opus), received ${user.received.packets} packets (${user.received.bytes} bytes) back`);
  print(`audio   bot:  received ${echo?.received.packets ?? 0} packets, echoed ${echo?.sent.packets ?? 0}`);
  expect(user.connected, "the user's WebRTC peer never connected to the bot");
  expect(user.sent.packets > 0 && (echo?.received.packets ?? 0) > 0, "no audio reached the bot");
  expect(user.received.packets > 0, "no audio came back from the bot");
}

async function main(): Promise<void> {
  // Secrets of the sandbox, made up on the spot; none of them is printed.
  const appSecret = crypto.randomUUID();
  const verifyToken = crypto.randomUUID();

  // The bot's webhook endpoint first (the sandbox needs its URL); its handler is plugged in once the client exists.
  let handle: WebhookRequestHandler = async () => new Response("not ready", { status: 503 });
  const webhookServer = createServer(toNodeListener((request) => handle(request)));
  await new Promise<void>((resolve) => webhookServer.listen(0, "127.0.0.1", resolve));
  const webhookUrl = `http://127.0.0.1:${(webhookServer.address() as AddressInfo).port}/webhook`;
  print(`bot     webhook endpoint on ${webhookUrl}`);

  const sandbox = await startSandbox({
    webhookUrl,
    appSecret,
    media: true,
    // Meta sends a recording within about a minute of the call's end; the sandbox, after this long.
    recordingDelayMs: 300,
    users: {
      [CALLER]: { name: "Ana" },
      [CALLEE]: { name: "Ben", permissionReply: "accept", pickUp: "accept", pickUpDelayMs: 800 },
    },
    onEvent: (event) => print(describeSandboxEvent(event)),
  });
  // The client the bot uses, pointed at the sandbox instead of graph.facebook.com.
  const calls = createCallingClient({ phoneNumberId: sandbox.phoneNumberId, accessToken: sandbox.accessToken, baseUrl: sandbox.url, retry: false });
  const echoBot = createEchoBot({
    calls,
    appSecret,
    verifyToken,
    log: print,
    recording: { status: "ENABLED", purpose: "to show how a recording arrives", announcement_language: "en_US" },
  });
  handle = echoBot.handler;

  print("");
  print("scene 1: Ana calls the business; the bot pre-accepts and accepts (recorded) with its own answer; Ana hangs up");
  step = "waiting for the bot to accept Ana's call";
  const { callId: inbound } = await sandbox.simulateInboundCall({ from: CALLER });
  await sandbox.waitForCall(inbound, "accepted", { timeoutMs: 8000 });
  step = "letting audio flow on Ana's call";
  await pause(AUDIO_SECONDS * 1000);
  await audioReport(sandbox, echoBot, inbound);
  step = "hanging up Ana's call";
  await sandbox.hangUp(inbound);
  await echoBot.ended(inbound);
  step = "waiting for the recording of Ana's call";
  const recording = await echoBot.recording(inbound);
  expect(new TextDecoder().decode(recording.subarray(0, 4)) === "OggS", "the recording is not an Ogg file");

  print("");
  print("scene 2: the bot asks Ben for permission, Ben grants it, the bot calls, Ben answers; the bot hangs up");
  step = "asking Ben for permission";
  const answer = await echoBot.requestPermission(CALLEE);
  expect(answer === "accept", `Ben answered the permission request with ${answer}`);
  step = "calling Ben";
  const outbound = await echoBot.placeCall(CALLEE);
  step = "letting audio flow on Ben's call";
  await pause(AUDIO_SECONDS * 1000);
  await audioReport(sandbox, echoBot, outbound);
  step = "hanging up Ben's call";
  await echoBot.hangUp(outbound);
  await sandbox.waitForCall(outbound, "ended", { timeoutMs: 3000 });
  await sandbox.deliveriesSettled();

  const failed = sandbox.deliveries.filter((delivery) => delivery.state !== "delivered");
  expect(failed.length === 0, `${failed.length} webhook deliveries were not answered 200`);
  step = "closing";
  await echoBot.close();
  await sandbox.close();
  webhookServer.closeAllConnections();
  webhookServer.close();
  print("");
  print(`done: 2 calls, ${sandbox.deliveries.length} webhooks delivered, every step as expected`);
  process.exit(0);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
