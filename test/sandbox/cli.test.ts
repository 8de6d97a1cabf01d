// `whatsapp-calling sandbox …` as a program: it prints each step, serves the Graph endpoints on the port it
// names, sends signed webhooks, takes the user's commands on stdin and exits 0 on quit; bad arguments exit 2.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { APP_SECRET, isEvent, signatureValid, startReceiver, type Receiver } from "./helpers.js";

let receiver: Receiver;
beforeEach(async () => {
  receiver = await startReceiver();
});
afterEach(() => receiver.close());

function cli(args: string[]) {
  // node itself (tsx as its loader), not npx: a signal sent to the child reaches the CLI.
  const child = spawn(process.execPath, ["--import", "tsx", "src/testing/cli.ts", ...args], { cwd: process.cwd(), stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  const streams = { stdout: "", stderr: "" };
  child.stdout.on("data", (chunk: Buffer) => ((output += chunk.toString()), (streams.stdout += chunk.toString())));
  child.stderr.on("data", (chunk: Buffer) => ((output += chunk.toString()), (streams.stderr += chunk.toString())));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const waitFor = async (pattern: RegExp, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(output)) {
      if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return pattern.exec(output)!;
  };
  return { child, exited, waitFor, output: () => output, streams };
}

describe("the sandbox command", () => {
  it("runs the sandbox, plays the user's commands and prints each step", async () => {
    const run = cli(["sandbox", "--webhook-url", receiver.url, "--app-secret", APP_SECRET, "--no-media"]);
    const [, baseUrl, phoneNumberId, token] = await run.waitFor(/baseUrl (\S+), phoneNumberId (\d+), accessToken (\S+)/);
    const settings = await fetch(`${baseUrl}/v23.0/${phoneNumberId}/settings`, { headers: { authorization: `Bearer ${token}` } });
    expect(settings.status).toBe(200);
    run.child.stdin.write("call 15550123456\n");
    const connect = await receiver.next(isEvent("connect"));
    expect(signatureValid(connect.rawBody, connect.headers["x-hub-signature-256"] as string)).toBe(true);
    run.child.stdin.write(`hangup ${connect.item.id}\n`);
    await receiver.next(isEvent("terminate", connect.item.id));
    await run.waitFor(/webhook #2 terminate \S+ -> 200/);
    run.child.stdin.write("quit\n");
    expect(await run.exited).toBe(0);
    const output = run.output();
    expect(output).toContain("graph   GET /settings -> 200");
    expect(output).toMatch(/call {4}wacid…\S+ ringing: 15550123456 calls/);
    expect(output).toMatch(/webhook #1 connect \S+ -> 200/);
    expect(output).not.toContain(APP_SECRET);
  });

  it("takes a call id as the transcript prints it, or none for the latest call", async () => {
    const run = cli(["sandbox", "--webhook-url", receiver.url, "--app-secret", APP_SECRET, "--no-media"]);
    await run.waitFor(/baseUrl \S+/);
    run.child.stdin.write("call 15550123456\n");
    const first = await receiver.next(isEvent("connect"));
    run.child.stdin.write("call 15550199001\n");
    const second = await receiver.next((request) => isEvent("connect")(request) && request.item.id !== first.item.id);
    const printed = `wacid…${first.item.id.slice(-12, -2)}`;
    expect(run.output()).toContain(`call    ${printed} ringing`);
    run.child.stdin.write(`hangup ${printed}\n`);
    await receiver.next(isEvent("terminate", first.item.id));
    run.child.stdin.write("hangup\n");
    await receiver.next(isEvent("terminate", second.item.id));
    // A short form no call has is passed on as typed, and refused by the sandbox.
    run.child.stdin.write("hangup wacid…0000000000\n");
    await run.waitFor(/sandbox hangup failed: the sandbox has no call wacid…0000000000/);
    run.child.stdin.write("quit\n");
    expect(await run.exited).toBe(0);
  });

  it("prints the package's version with --version, before or after the command", async () => {
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    for (const args of [["--version"], ["sandbox", "--version"]]) {
      const run = cli(args);
      expect(await run.exited, args.join(" ")).toBe(0);
      expect(run.output()).toBe(`${version}\n`);
    }
  });

  it("prints --help to stdout with exit 0, and the usage after a missing or unknown command to stderr with exit 2", async () => {
    for (const args of [["--help"], ["-h"], ["sandbox", "--help"]]) {
      const run = cli(args);
      expect(await run.exited, args.join(" ")).toBe(0);
      expect(run.streams.stdout, args.join(" ")).toMatch(/^Usage: whatsapp-calling sandbox/);
      expect(run.streams.stderr, args.join(" ")).toBe("");
    }
    for (const [args, first] of [[[], /^Usage: whatsapp-calling sandbox/], [["sandbx"], /^Unknown command sandbx\n\nUsage: whatsapp-calling sandbox/]] as const) {
      const run = cli([...args]);
      expect(await run.exited, args.join(" ")).toBe(2);
      expect(run.streams.stderr, args.join(" ")).toMatch(first);
      expect(run.streams.stdout, args.join(" ")).toBe("");
    }
  });

  it("exits 2 with the usage when the webhook URL or the app secret is missing", async () => {
    const run = cli(["sandbox", "--app-secret", APP_SECRET]);
    expect(await run.exited).toBe(2);
    expect(run.output()).toMatch(/^--webhook-url URL is required\n\nUsage: whatsapp-calling sandbox/);
    const secretless = cli(["sandbox", "--webhook-url", receiver.url]);
    expect(await secretless.exited).toBe(2);
    expect(secretless.output()).toMatch(/^--app-secret SECRET is required\n\nUsage: whatsapp-calling sandbox/);
  });

  it("names each wrong argument as typed: a port that is not a number, a webhook URL that is not http(s)", async () => {
    const run = cli(["sandbox", "--webhook-url", "localhost:3000/webhook", "--app-secret", APP_SECRET, "--port", "abc"]);
    expect(await run.exited).toBe(2);
    expect(run.output()).toMatch(
      /^--webhook-url must be an http:\/\/ or https:\/\/ URL, not "localhost:3000\/webhook"\n--port must be a port number \(0 to 65535\), not "abc"\n\nUsage:/,
    );
    expect(run.output()).not.toContain(APP_SECRET);
    // The CLI takes the URLs the sandbox takes, and only digits as a port.
    const other = cli(["sandbox", "--webhook-url", "http:127.0.0.1:9/", "--app-secret", APP_SECRET, "--port="]);
    expect(await other.exited).toBe(2);
    expect(other.output()).toMatch(/^--webhook-url must be an http:\/\/ or https:\/\/ URL, not "http:127.0.0.1:9\/"\n--port must be a port number \(0 to 65535\), not ""\n\nUsage:/);
  });

  it("keeps running when stdin closes, until SIGTERM; a command without its argument prints its usage", async () => {
    const run = cli(["sandbox", "--webhook-url", receiver.url, "--app-secret", APP_SECRET, "--no-media"]);
    const [, baseUrl, phoneNumberId, token] = await run.waitFor(/baseUrl (\S+), phoneNumberId (\d+), accessToken (\S+)/);
    run.child.stdin.write("hangup\nstats\n");
    await run.waitFor(/sandbox stats needs CALL_ID: stats CALL_ID/);
    expect(run.output()).toContain("sandbox hangup needs CALL_ID: hangup CALL_ID\n");
    run.child.stdin.end();
    await run.waitFor(/sandbox stdin closed: no more commands; still running until Ctrl-C or SIGTERM/);
    // Still serving after stdin closed.
    const settings = await fetch(`${baseUrl}/v23.0/${phoneNumberId}/settings`, { headers: { authorization: `Bearer ${token}` } });
    expect(settings.status).toBe(200);
    expect(run.child.exitCode).toBe(null);
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
  });
});
