// Issue 11 §4: the loggers people use (real pino and winston, not look-alikes) get every field, a request hook
// sees each attempt and can add tracing headers, and logs and errors name an action the same way.
import { createLog } from "../../src/logging.js";
import { Writable } from "node:stream";
import { pino } from "pino";
import winston from "winston";
import { describe, expect, it } from "vitest";
import { createCallingClient, WhatsAppApiError, WhatsAppTimeoutError, type AttemptResult, type CallingClient, type Logger } from "../../src/index.js";
import { useGraphServer } from "../helpers/graph-server.js";

const CALL_ID = "wacid.observability";
const TOKEN = "EAAGobservabilityTOKEN";
const SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
const server = useGraphServer();
const unavailable = { status: 503, headers: { "retry-after": "0" }, body: { error: { message: "busy", type: "OAuthException", code: 2, is_transient: true } } };

/** A stream that keeps every JSON line written to it. */
function jsonLines() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

const client = (logger: Logger, extra: Partial<Parameters<typeof createCallingClient>[0]> = {}) =>
  createCallingClient({ phoneNumberId: "1", accessToken: TOKEN, baseUrl: server.url, retry: { retries: 1, minDelayMs: 1, maxDelayMs: 1 }, logger, ...extra });

async function retriedTerminate(calls: CallingClient) {
  server.setHandler((_request, index) => (index === 0 ? unavailable : { status: 200, body: { success: true } }));
  await calls.terminate(CALL_ID);
}

describe("loggers: both conventions, with the real libraries", () => {
  it("pino (object first) gets the message and every field, a child logger too", async () => {
    const { lines, stream } = jsonLines();
    const logger = pino({ level: "debug" }, stream);
    for (const target of [logger, logger.child({ service: "calls" })]) {
      lines.length = 0;
      server.requests.length = 0;
      await retriedTerminate(client(target));
      expect(lines.map((line) => [line.level, line.msg])).toEqual([
        [40, "whatsapp-calling: terminate attempt 1 failed; retrying in 0 ms"],
        [30, "whatsapp-calling: terminate → 200"],
      ]);
      expect(lines[1]).toMatchObject({ action: "terminate", callId: CALL_ID, status: 200, attempt: 2, method: "POST", path: "/1/calls" });
      expect(typeof lines[1]!.durationMs).toBe("number");
      expect(JSON.stringify(lines)).not.toContain(TOKEN);
    }
    expect(lines[0]).toMatchObject({ service: "calls", status: 503, code: 2 });
  });

  it("winston (message first) gets the message and every field", async () => {
    const { lines, stream } = jsonLines();
    const logger = winston.createLogger({ level: "debug", format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
    await retriedTerminate(client(logger as unknown as Logger));
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((line) => [line.level, line.message])).toEqual([
      ["warn", "whatsapp-calling: terminate attempt 1 failed; retrying in 0 ms"],
      ["info", "whatsapp-calling: terminate → 200"],
    ]);
    expect(lines[1]).toMatchObject({ action: "terminate", callId: CALL_ID, status: 200, attempt: 2, method: "POST" });
    expect(JSON.stringify(lines)).not.toContain(TOKEN);
  });
});

describe("a console-style logger", () => {
  it("gets the message alone when a line has no details (console would print a literal undefined)", () => {
    const calls: unknown[][] = [];
    const log = createLog({ info: (...args: unknown[]) => void calls.push(args) })!;
    log("info", "webhook subscription verified");
    log("info", "webhook delivery handled", { events: 1 });
    expect(calls).toEqual([["webhook subscription verified"], ["webhook delivery handled", { events: 1 }]]);
  });
});

describe("request hooks, for metrics and tracing", () => {
  it("onRequest adds headers (traceparent) to every attempt but cannot replace the Authorization header", async () => {
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const seen: string[] = [];
    const calls = client(undefined as never, {
      hooks: {
        onRequest: (info) => {
          seen.push(`${info.action} ${info.callId} #${info.attempt} ${info.method} ${info.path}`);
          return { traceparent, authorization: "Bearer hijacked" };
        },
      },
    });
    await retriedTerminate(calls);
    expect(seen).toEqual([`terminate ${CALL_ID} #1 POST /1/calls`, `terminate ${CALL_ID} #2 POST /1/calls`]);
    expect(server.requests.map((r) => [r.headers.traceparent, r.headers.authorization])).toEqual([
      [traceparent, `Bearer ${TOKEN}`],
      [traceparent, `Bearer ${TOKEN}`],
    ]);
  });

  it("onResponse is told the action, call id, attempt, status, duration and outcome of each attempt", async () => {
    const results: AttemptResult[] = [];
    const calls = client(undefined as never, { hooks: { onResponse: (result) => results.push(result) } });
    await retriedTerminate(calls);
    expect(results.map(({ action, callId, attempt, status, outcome }) => ({ action, callId, attempt, status, outcome }))).toEqual([
      { action: "terminate", callId: CALL_ID, attempt: 1, status: 503, outcome: "retry" },
      { action: "terminate", callId: CALL_ID, attempt: 2, status: 200, outcome: "success" },
    ]);
    expect(results[0]!.error).toBeInstanceOf(WhatsAppApiError);
    for (const result of results) expect(typeof result.durationMs).toBe("number");

    results.length = 0;
    server.setHandler(() => ({ status: 400, body: { error: { message: "(#100) bad", type: "OAuthException", code: 100 } } }));
    await calls.reject(CALL_ID).catch(() => undefined);
    expect(results.map(({ action, status, outcome }) => ({ action, status, outcome }))).toEqual([{ action: "reject", status: 400, outcome: "error" }]);

    results.length = 0;
    server.setHandler(() => ({ status: 200, body: { success: true }, delayMs: 2_000 }));
    await calls.terminate(CALL_ID, { timeoutMs: 50 }).catch(() => undefined);
    expect(results.map(({ outcome, status }) => ({ outcome, status }))).toEqual([{ outcome: "timeout", status: undefined }]);
    expect(results[0]!.error).toBeInstanceOf(WhatsAppTimeoutError);
  });

  it("onRequest's headers are merged by name whatever their case: no second Authorization or Content-Type goes out", async () => {
    server.setHandler(() => ({ status: 200, body: { success: true } }));
    const handed: string[][] = [];
    const calls = client(undefined as never, {
      fetch: (input: string | URL | Request, init?: RequestInit) => {
        handed.push(Object.keys(init?.headers ?? {}).sort());
        return fetch(input, init);
      },
      hooks: { onRequest: () => ({ Authorization: "Bearer hijacked", AUTHORIZATION: "Bearer hijacked", "Content-Type": "text/plain", "X-Request-Id": "r-1" }) },
    });
    await expect(calls.terminate(CALL_ID)).resolves.toEqual({ success: true });
    const request = server.requests.at(-1)!;
    expect([request.headers.authorization, request.headers["content-type"], request.headers["x-request-id"]]).toEqual([`Bearer ${TOKEN}`, "application/json", "r-1"]);
    expect(handed).toEqual([["authorization", "content-type", "x-request-id"]]);
    // An async hook's headers cannot be waited for: they are not sent, and the request goes out as it would.
    const later = client(undefined as never, { hooks: { onRequest: (async () => ({ "x-late": "1" })) as never } });
    await expect(later.terminate(CALL_ID)).resolves.toEqual({ success: true });
    expect(server.requests.at(-1)!.headers["x-late"]).toBeUndefined();
  });

  it("a hook that throws changes nothing", async () => {
    server.setHandler(() => ({ status: 200, body: { success: true } }));
    const calls = client(undefined as never, {
      hooks: {
        onRequest: () => {
          throw new Error("tracer down");
        },
        onResponse: () => {
          throw new Error("metrics down");
        },
      },
    });
    await expect(calls.terminate(CALL_ID)).resolves.toEqual({ success: true });
  });
});

describe("one name per action, in logs, hooks and errors", () => {
  it.each([
    ["preAccept", (c: CallingClient) => c.preAccept(CALL_ID, SDP), "pre_accept"],
    ["accept", (c: CallingClient) => c.accept(CALL_ID, SDP), "accept"],
    ["reject", (c: CallingClient) => c.reject(CALL_ID), "reject"],
    ["terminate", (c: CallingClient) => c.terminate(CALL_ID), "terminate"],
    ["connect", (c: CallingClient) => c.connect("15550123456", SDP.replace("m=audio", "a=setup:actpass\r\nm=audio")), "connect"],
    ["getCallPermissions", (c: CallingClient) => c.getCallPermissions("15550123456"), "getCallPermissions"],
    ["getCallingSettings", (c: CallingClient) => c.getCallingSettings(), "getCallingSettings"],
    ["updateCallingSettings", (c: CallingClient) => c.updateCallingSettings({ status: "ENABLED" }), "updateCallingSettings"],
    ["sendCallPermissionRequest", (c: CallingClient) => c.sendCallPermissionRequest("15550123456"), "sendCallPermissionRequest"],
    ["sendCallButton", (c: CallingClient) => c.sendCallButton("15550123456", { bodyText: "Call us" }), "sendCallButton"],
  ])("%s", async (_method, run, action) => {
    server.setHandler(() => ({ status: 400, body: { error: { message: "(#100) bad", type: "OAuthException", code: 100 } } }));
    const logged: unknown[] = [];
    const hooked: string[] = [];
    const calls = client({ warn: (_message, details) => logged.push(details?.action) }, { hooks: { onResponse: (result) => hooked.push(result.action) } });
    const error = (await run(calls).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect([error.action, logged, hooked]).toEqual([action, [action], [action]]);
  });
});
