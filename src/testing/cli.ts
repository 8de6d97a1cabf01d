#!/usr/bin/env node
/// <reference types="node" />
// `npx whatsapp-calling sandbox --webhook-url URL --app-secret S [--port N]`: the sandbox as a program. It
// prints each step (requests, webhooks, calls, media) and reads commands from stdin to play the user's side.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { describeEvent, short } from "./sandbox/events.js";
import { startSandbox, type Sandbox } from "./sandbox/index.js";
import { isWebhookUrl } from "./sandbox/options.js";

const USAGE = `Usage: whatsapp-calling sandbox --webhook-url URL --app-secret SECRET [options]

Starts a local WhatsApp Calling API on 127.0.0.1 that sends signed webhooks to your bot.

Options:
  --webhook-url URL       your bot's webhook endpoint (required)
  --app-secret SECRET     the app secret webhooks are signed with (required)
  --port N                port on 127.0.0.1 (default: a free one)
  --access-token TOKEN    the bearer token the sandbox requires (default: sandbox-access-token)
  --phone-number-id ID    the business number's id in the paths
  --no-media              no WebRTC peer (SDPs in Meta's format, no audio)
  --help                  this text
  --version               the version of whatsapp-calling

Commands (type them while it runs):
  call NUMBER             the user NUMBER calls your bot (a connect webhook with an SDP offer)
  late-call NUMBER        the same, but the user hangs up at once and the terminate arrives before the connect
  hangup CALL_ID          the user hangs up
  media-timeout CALL_ID   the user's client gives up on media (terminate FAILED, 138021)
  stats CALL_ID           what the user's WebRTC peer sent and received
                          (CALL_ID: the full id, its short form as printed, or none for the latest call)
  redeliver               send the last webhook again, byte for byte
  quit                    stop (so do Ctrl-C and SIGTERM; when stdin closes, it keeps running until one of them)

SDPs for a bot without WebRTC (with the bearer token):
  POST /sandbox/answer-without-media   body: the user's offer; answers an SDP answer for pre_accept and accept
  GET  /sandbox/offer-without-media    an SDP offer for connect`;

/** Each command: what it is given (for its usage line), and what it does. */
const COMMANDS: Record<string, { argument?: string; run: (sandbox: Sandbox, argument: string) => Promise<string | undefined> }> = {
  call: { argument: "NUMBER", run: async (sandbox, from) => `call ${(await sandbox.simulateInboundCall({ from })).callId}` },
  "late-call": { argument: "NUMBER", run: async (sandbox, from) => `call ${(await sandbox.simulateInboundCall({ from, terminateBeforeConnect: true })).callId}` },
  hangup: { argument: "CALL_ID", run: async (sandbox, callId) => void (await sandbox.hangUp(callId)) },
  "media-timeout": { argument: "CALL_ID", run: async (sandbox, callId) => void (await sandbox.simulateMediaTimeout(callId)) },
  stats: { argument: "CALL_ID", run: async (sandbox, callId) => JSON.stringify(await sandbox.mediaStats(callId)) },
  redeliver: { run: async (sandbox) => `re-delivering #${sandbox.redeliver().redeliveryOf}` },
};

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--version") {
    console.log(packageVersion());
    return 0;
  }
  // Asked-for help goes to stdout (so that `--help | less` shows it); a usage error to stderr, with exit code 2.
  if (command === "--help" || command === "-h") {
    console.log(USAGE);
    return 0;
  }
  if (command !== "sandbox") {
    console.error(command === undefined ? USAGE : `Unknown command ${command}\n\n${USAGE}`);
    return 2;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: {
        "webhook-url": { type: "string" },
        "app-secret": { type: "string" },
        port: { type: "string" },
        "access-token": { type: "string" },
        "phone-number-id": { type: "string" },
        "no-media": { type: "boolean" },
        help: { type: "boolean" },
        version: { type: "boolean" },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.version) {
    console.log(packageVersion());
    return 0;
  }
  const port = values.port === undefined ? 0 : /^\d{1,5}$/.test(values.port) ? Number(values.port) : Number.NaN;
  const webhookUrl = values["webhook-url"];
  const appSecret = values["app-secret"];
  // Each wrong argument is named, as typed.
  const wrong = [
    ...(webhookUrl ? [] : ["--webhook-url URL is required"]),
    ...(webhookUrl && !isWebhookUrl(webhookUrl) ? [`--webhook-url must be an http:// or https:// URL, not ${JSON.stringify(webhookUrl)}`] : []),
    ...(appSecret ? [] : ["--app-secret SECRET is required"]),
    ...(Number.isInteger(port) && port >= 0 && port <= 65535 ? [] : [`--port must be a port number (0 to 65535), not ${JSON.stringify(values.port)}`]),
  ];
  if (wrong.length > 0 || !webhookUrl || !appSecret) {
    console.error(`${wrong.join("\n")}\n\n${USAGE}`);
    return 2;
  }
  const sandbox = await startSandbox({
    webhookUrl,
    appSecret,
    port,
    media: values["no-media"] ? false : "auto",
    ...(values["access-token"] === undefined ? {} : { accessToken: values["access-token"] }),
    ...(values["phone-number-id"] === undefined ? {} : { phoneNumberId: values["phone-number-id"] }),
    onEvent: (event) => console.log(describeEvent(event)),
  });
  console.log(`sandbox point your client here: baseUrl ${sandbox.url}, phoneNumberId ${sandbox.phoneNumberId}, accessToken ${values["access-token"] === undefined ? sandbox.accessToken : "(the one you gave)"}`);
  console.log(`sandbox webhooks go to ${values["webhook-url"]}, signed with your app secret; type "call 15550123456" to place a call, "quit" to stop`);

  const lines = createInterface({ input: process.stdin, terminal: false });
  let signalled!: () => void;
  const stopSignal = new Promise<void>((resolve) => (signalled = resolve));
  process.once("SIGINT", () => signalled());
  process.once("SIGTERM", () => signalled());
  /** true on quit, false when stdin ends. */
  const commands = (async () => {
    for await (const line of lines) {
      const [name = "", argument = ""] = line.trim().split(/\s+/);
      if (name === "quit" || name === "exit") return true;
      if (name !== "") await runCommand(sandbox, name, argument);
    }
    return false;
  })();
  // Closed stdin (nohup, `docker run` without -i, another program that writes no commands) is not a quit: the
  // bot under test still needs the sandbox, so it runs until a signal.
  const ended = await Promise.race([commands, stopSignal.then(() => true)]);
  if (!ended) {
    console.log("sandbox stdin closed: no more commands; still running until Ctrl-C or SIGTERM");
    await stopSignal;
  }
  lines.close();
  await sandbox.close();
  return 0;
}

async function runCommand(sandbox: Sandbox, name: string, argument: string): Promise<void> {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.log(`sandbox unknown command "${name}" (${[...Object.keys(COMMANDS), "quit"].join(", ")})`);
    return;
  }
  const given = command.argument === "CALL_ID" ? callIdFrom(sandbox, argument) : argument;
  if (given === "" && command.argument) {
    console.log(`sandbox ${name} needs ${command.argument}: ${name} ${command.argument}`);
    return;
  }
  try {
    const said = await command.run(sandbox, given);
    if (said) console.log(`sandbox ${said}`);
  } catch (error) {
    console.log(`sandbox ${name} failed: ${(error as Error).message}`);
  }
}

/** The version in this package's package.json, found by walking up from this file (dist/ or src/ alike). */
function packageVersion(): string {
  for (let folder = new URL(".", import.meta.url); ; folder = new URL("..", folder)) {
    try {
      const { name, version } = JSON.parse(readFileSync(new URL("package.json", folder), "utf8")) as { name?: unknown; version?: unknown };
      if (name === "whatsapp-calling" && typeof version === "string") return version;
    } catch {
      // No package.json here, or not JSON: look further up.
    }
    if (folder.pathname === "/") return "unknown";
  }
}

/**
 * The call a typed CALL_ID means: the full id, the short form the transcript prints (`wacid…` and the id's last
 * characters) when one call has it, or, when nothing is typed, the latest call.
 */
function callIdFrom(sandbox: Sandbox, typed: string): string {
  const ids = [...new Set(sandbox.events.flatMap((event) => (event.kind === "call" ? [event.callId] : [])))];
  if (typed === "") return ids.at(-1) ?? "";
  const matching = ids.filter((id) => short(id) === typed);
  return matching.length === 1 ? matching[0]! : typed;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`whatsapp-calling: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
