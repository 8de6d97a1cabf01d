// Issue 11, client rows: a Graph stand-in on 127.0.0.1 that misbehaves the ways an attacker or a broken proxy can:
// secrets echoed as JSON keys, bodies nested 10^5 deep, `null` for a 2xx body, answers too large to hold (a gzip
// bomb among them), redirects to another origin, unparsable Location headers, statuses beyond 599, a negative
// Retry-After. Each test fails on 0.1.0.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createCallingClient,
  DEFAULT_MAX_RESPONSE_BYTES,
  WhatsAppApiError,
  WhatsAppNetworkError,
  WhatsAppResponseError,
  WhatsAppResponseTooLargeError,
  type CallingClientOptions,
  type RetryInfo,
} from "../../src/index.js";

const TOKEN = "EAAGhostileTOKEN7f3a9c1d";
const ICE_PASSWORD = "icepwdHOSTILE0e7d9f3a";
const CALL_ID = "wacid.hostile";
const SDP = `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-pwd:${ICE_PASSWORD}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n`;

type Respond = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Upstream {
  url: string;
  received: { method: string; url: string; body: string }[];
  respond: Respond;
  server: Server;
}

async function startUpstream(): Promise<Upstream> {
  const upstream: Upstream = { url: "", received: [], respond: (_req, res) => res.end(), server: undefined as never };
  upstream.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      upstream.received.push({ method: req.method ?? "", url: req.url ?? "", body });
      upstream.respond(req, res, body);
    });
  });
  await new Promise<void>((resolve) => upstream.server.listen(0, "127.0.0.1", resolve));
  upstream.url = `http://127.0.0.1:${(upstream.server.address() as AddressInfo).port}`;
  return upstream;
}

async function stop(upstream: Upstream) {
  upstream.server.closeAllConnections();
  await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
}

let graph: Upstream;
let elsewhere: Upstream;
beforeAll(async () => {
  graph = await startUpstream();
  elsewhere = await startUpstream();
});
afterAll(async () => {
  await stop(graph);
  await stop(elsewhere);
});
beforeEach(() => {
  graph.received.length = 0;
  elsewhere.received.length = 0;
  elsewhere.respond = (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end('{"success":true}');
});

const client = (options: Partial<CallingClientOptions> = {}) =>
  createCallingClient({ phoneNumberId: "117823401562387", accessToken: TOKEN, baseUrl: graph.url, retry: false, timeoutMs: 5_000, ...options });

const json = (status: number, body: string, headers: Record<string, string> = {}): Respond => (_req, res) =>
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(body);

async function failure(pending: Promise<unknown>): Promise<unknown> {
  return pending.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );
}

/** Every text an error shows: message, stack, String, JSON, util.inspect, for it and its causes. */
function everything(error: unknown): string {
  const texts: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 8; depth++) {
    if (current instanceof Error) texts.push(current.message, current.stack ?? "", String(current));
    texts.push(JSON.stringify(current) ?? "", inspect(current, { depth: 8 }));
    current = current !== null && typeof current === "object" ? (current as { cause?: unknown }).cause : undefined;
  }
  return texts.join("\n");
}

describe("row 4: secrets echoed as JSON object keys are redacted", () => {
  it("a non-Graph JSON error whose keys are the token and the ICE password", async () => {
    graph.respond = (req, res) =>
      json(400, JSON.stringify({ [String(req.headers.authorization)]: 1, echo: { [`a=ice-pwd:${ICE_PASSWORD}`]: "bad line" } }))(req, res, "");
    const error = await failure(client().preAccept(CALL_ID, SDP));
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect(graph.received[0]!.body).toContain(ICE_PASSWORD);
    const shown = everything(error);
    expect(shown).toContain("[redacted]");
    expect(shown).not.toContain(TOKEN);
    expect(shown).not.toContain(ICE_PASSWORD);
    expect((error as WhatsAppApiError).body).toBe('{"Bearer [redacted]":1,"echo":{"a=ice-pwd:[redacted]":"bad line"}}');
  });
});

describe("row 5: an error body nested 10^5 deep", () => {
  const deepArray = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
  const deepObject = `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`;

  it.each([
    ["arrays", deepArray],
    ["objects", deepObject],
  ])("of %s gives WhatsAppApiError, not a RangeError, from a method and from answer()'s pre_accept", async (_kind, body) => {
    graph.respond = json(400, body);
    const error = await failure(client().terminate(CALL_ID));
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect((error as WhatsAppApiError).status).toBe(400);
    expect((error as WhatsAppApiError).message).toContain("[nested too deep]");
    const answered = await failure(client().answer(CALL_ID, SDP));
    expect(answered).toBeInstanceOf(WhatsAppApiError);
    expect((answered as WhatsAppApiError).step).toBe("pre_accept");
  });
});

describe("row 6: a 2xx answer of JSON null", () => {
  it.each([
    ["connect", (c: ReturnType<typeof client>) => c.connect("15550123456", SDP.replace("a=ice", "a=setup:actpass\r\na=ice"))],
    ["getCallingSettings", (c: ReturnType<typeof client>) => c.getCallingSettings()],
    ["sendCallButton", (c: ReturnType<typeof client>) => c.sendCallButton("15550123456", { bodyText: "Call us" })],
    ["sendCallPermissionRequest", (c: ReturnType<typeof client>) => c.sendCallPermissionRequest("15550123456")],
    ["terminate", (c: ReturnType<typeof client>) => c.terminate(CALL_ID)],
  ])("%s rejects with WhatsAppResponseError", async (action, call) => {
    graph.respond = json(200, "null");
    const error = await failure(call(client()));
    expect(error).toBeInstanceOf(WhatsAppResponseError);
    expect((error as WhatsAppResponseError).message).toBe(`Graph API answered HTTP 200 on ${action} with a body that is not a JSON object`);
    expect(graph.received).toHaveLength(1);
  });
});

describe('row 6b: a 2xx answer of {"success": false}', () => {
  it.each([
    ["terminate", (c: ReturnType<typeof client>) => c.terminate(CALL_ID)],
    ["reject", (c: ReturnType<typeof client>) => c.reject(CALL_ID)],
    ["updateCallingSettings", (c: ReturnType<typeof client>) => c.updateCallingSettings({ status: "ENABLED" })],
  ])("%s rejects with WhatsAppResponseError, sent once", async (action, call) => {
    graph.respond = json(200, '{"messaging_product":"whatsapp","success":false}');
    const error = await failure(call(client()));
    expect(error).toBeInstanceOf(WhatsAppResponseError);
    expect((error as WhatsAppResponseError).message).toBe(`Graph API answered HTTP 200 on ${action} with "success": false`);
    expect((error as WhatsAppResponseError).status).toBe(200);
    expect(graph.received).toHaveLength(1);
  });

  it("stops answer() at pre_accept: accept is not sent, and the call is terminated", async () => {
    graph.respond = (req, res, body) => json(200, JSON.parse(body).action === "terminate" ? '{"success":true}' : '{"success":false}')(req, res, body);
    const error = await failure(client().answer(CALL_ID, SDP));
    expect(error).toBeInstanceOf(WhatsAppResponseError);
    expect(error).toMatchObject({ action: "pre_accept", step: "pre_accept", callTerminated: true });
    expect(graph.received.map((request) => JSON.parse(request.body).action)).toEqual(["pre_accept", "terminate"]);
  });
});

describe("row 7: answers are read up to maxResponseBytes", () => {
  it("the default is 1 MiB: a 2 MiB success body is refused with a typed error", async () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(1_048_576);
    graph.respond = json(200, JSON.stringify({ success: true, padding: "x".repeat(2 * 1_048_576) }));
    const error = await failure(client().terminate(CALL_ID));
    expect(error).toBeInstanceOf(WhatsAppResponseTooLargeError);
    expect((error as WhatsAppResponseTooLargeError).limitBytes).toBe(1_048_576);
    expect((error as WhatsAppResponseTooLargeError).status).toBe(200);
    expect((error as Error).message).toBe("Graph API answered HTTP 200 on terminate with a body over the limit of 1048576 bytes (maxResponseBytes)");
  });

  it("an error body over the option's limit is the same typed error, not a plain Error", async () => {
    graph.respond = json(500, JSON.stringify({ error: { message: "x".repeat(500), type: "OAuthException", code: 1 } }));
    const error = await failure(client({ maxResponseBytes: 100 }).reject(CALL_ID));
    expect(error).toBeInstanceOf(WhatsAppResponseTooLargeError);
    expect((error as WhatsAppResponseTooLargeError).status).toBe(500);
    expect((error as WhatsAppResponseTooLargeError).limitBytes).toBe(100);
  });

  it("a gzip bomb (64 KiB on the wire, 64 MiB inflated) is counted after decompression", async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1_048_576, 0x20));
    expect(bomb.byteLength).toBeLessThan(128 * 1024);
    graph.respond = (_req, res) => res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" }).end(bomb);
    const error = await failure(client().terminate(CALL_ID));
    expect(error).toBeInstanceOf(WhatsAppResponseTooLargeError);
  });

  it("an answer that never ends is cut at the limit, not buffered until the deadline", async () => {
    let written = 0;
    graph.respond = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && written < 512 * 1_048_576) {
          written += chunk.byteLength;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
      };
      pump();
    };
    const error = await failure(client({ timeoutMs: 60_000, maxResponseBytes: 256 * 1024 }).terminate(CALL_ID));
    expect(error).toBeInstanceOf(WhatsAppResponseTooLargeError);
    // The client stopped reading: far less than the 512 MiB the server was ready to send went out.
    expect(written).toBeLessThan(64 * 1_048_576);
  });
});

describe("row 8: redirects are not followed; a 3xx is an error", () => {
  it.each([301, 302, 303, 307, 308])("%i to another origin: preAccept rejects and nothing reaches that origin", async (status) => {
    graph.respond = (_req, res) => res.writeHead(status, { location: `${elsewhere.url}/v23.0/117823401562387/calls` }).end();
    const error = await failure(client().preAccept(CALL_ID, SDP));
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect((error as WhatsAppApiError).status).toBe(status);
    expect((error as Error).message).toBe(`Graph API answered HTTP ${status} on pre_accept: a redirect, not followed (Graph does not redirect these calls)`);
    expect(elsewhere.received).toEqual([]);
    expect(graph.received).toHaveLength(1);
  });
});

describe("row 13: the cause of a WhatsAppNetworkError is a redacted copy", () => {
  it("a token echoed into an unparsable Location header reaches no error", async () => {
    graph.respond = (req, res) => res.writeHead(302, { location: `http://[::1${String(req.headers.authorization).replace(" ", "")}:99999/` }).end();
    const retries: RetryInfo[] = [];
    const error = await failure(client({ onRetry: (info) => retries.push(info) }).terminate(CALL_ID));
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect(everything(error)).not.toContain(TOKEN);
    expect(retries).toEqual([]);
  });

  it("a failure whose cause has no code is described by the cause's message (undici's bad port), redacted", async () => {
    const original = new TypeError("fetch failed", { cause: new Error(`bad port for ${TOKEN}`) });
    const calls = client({ retry: false, fetch: () => Promise.reject(original) });
    const error = (await failure(calls.terminate(CALL_ID))) as WhatsAppNetworkError;
    expect(error).toBeInstanceOf(WhatsAppNetworkError);
    expect(error.message).toBe("Request terminate failed without an answer: fetch failed: bad port for [redacted]");
  });

  it("a failure that quotes the token in its message, its input and its cause", async () => {
    const inner = Object.assign(new Error(`connect ECONNRESET while sending Bearer ${TOKEN}`), { code: "ECONNRESET", input: `http://x/?t=${TOKEN}` });
    const original = Object.assign(new TypeError(`fetch failed for ${TOKEN}`, { cause: inner }), { input: TOKEN });
    const retries: RetryInfo[] = [];
    const calls = client({
      retry: { retries: 1, minDelayMs: 1, maxDelayMs: 1 },
      onRetry: (info) => retries.push(info),
      fetch: () => Promise.reject(original),
    });
    const error = (await failure(calls.terminate(CALL_ID))) as WhatsAppNetworkError;
    expect(error).toBeInstanceOf(WhatsAppNetworkError);
    expect(error.cause).not.toBe(original);
    expect((error.cause as Error).name).toBe("TypeError");
    expect(((error.cause as Error).cause as { code?: string }).code).toBe("ECONNRESET");
    expect(error.message).toBe("Request terminate failed without an answer: fetch failed for [redacted] (ECONNRESET)");
    expect(retries).toHaveLength(1);
    for (const shown of [everything(error), everything(retries[0]!.cause)]) {
      expect(shown).toContain("[redacted]");
      expect(shown).not.toContain(TOKEN);
    }
  });
});

describe("statuses and headers read as what they are", () => {
  it("a status of 700 is an answer (WhatsAppApiError), not a network error", async () => {
    graph.respond = json(700, JSON.stringify({ error: { message: "odd", type: "OAuthException", code: 100 } }));
    const error = await failure(client().terminate(CALL_ID));
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect((error as WhatsAppApiError).status).toBe(700);
    expect((error as WhatsAppApiError).code).toBe(100);
  });

  it("Retry-After: -1 is not read as a date (in 2001)", async () => {
    graph.respond = json(503, JSON.stringify({ error: { message: "busy", type: "OAuthException", code: 2 } }), { "retry-after": "-1" });
    const error = await failure(client().terminate(CALL_ID));
    expect((error as WhatsAppApiError).status).toBe(503);
    expect((error as WhatsAppApiError).retryAfterSeconds).toBeUndefined();
  });
});
