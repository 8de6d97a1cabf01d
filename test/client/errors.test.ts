import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { buildSync } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCallingClient, DEFAULT_API_VERSION, WhatsAppApiError, WhatsAppError, WhatsAppNetworkError, WhatsAppValidationError } from "../../src/index.js";
import { fixtureFiles, fixtureJson } from "../helpers/fixtures.js";
import { useGraphServer } from "../helpers/graph-server.js";

const TOKEN = "EAAG-secret-token-for-error-tests";
const CALL_ID = "wacid.HBgLMTU1NTAxMjM0NTYVAgASGCA1RUU0QkUzQTc4QUZDQzVGN0M4Q0I5NzAzQ0Q3NTVEOBwYCzE1NTUwMTk5MDAxFQIAAA==";
const SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-pwd:SECRETICEPASSWORD\r\n";

interface ManifestEntry {
  file: string;
  kind: string;
  http_status?: number;
}
const manifest = fixtureJson<{ files: ManifestEntry[] }>("manifest.json");
const errorFixtures = fixtureFiles("api/errors");

const server = useGraphServer();

const client = () =>
  createCallingClient({ phoneNumberId: "117823401562387", accessToken: TOKEN, baseUrl: server.url, retry: false });

describe("Graph error envelopes become WhatsAppApiError", () => {
  it("covers every error fixture", () => {
    expect(errorFixtures.length).toBeGreaterThanOrEqual(5);
  });

  it.each(errorFixtures)("%s", async (file) => {
    const body = fixtureJson(file);
    const status = manifest.files.find((entry) => entry.file === file)!.http_status!;
    server.setHandler(() => ({ status, body }));
    const error = await client()
      .accept(CALL_ID, SDP)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect(error).toBeInstanceOf(WhatsAppError);
    const apiError = error as WhatsAppApiError;
    expect(apiError.status).toBe(status);
    expect(apiError.code).toBe(body.error.code);
    expect(apiError.type).toBe(body.error.type);
    expect(apiError.subcode).toBe(body.error.error_subcode);
    expect(apiError.details).toBe(body.error.error_data?.details);
    expect(apiError.fbtraceId).toBe(body.error.fbtrace_id);
    expect(apiError.body).toEqual(body);
    expect(apiError.action).toBe("accept");
    expect(apiError.callId).toBe(CALL_ID);
    expect(apiError.message).toContain(String(body.error.code));
    expect(apiError.message).toContain(body.error.message);
    expect(apiError.message).not.toContain(TOKEN);
    expect(apiError.message).not.toContain("SECRETICEPASSWORD");
  });

  it("classifies codes from the catalogue in openapi.yaml", async () => {
    const cases: [string, number, string, boolean][] = [
      ["api/errors/error.190.invalid-access-token.json", 401, "auth", false],
      ["api/errors/error.138006.no-call-permission.json", 401, "calling", false],
      ["api/errors/error.138002.concurrent-calls-limit.json", 429, "rate_limit", true],
      ["api/errors/error.100.invalid-sdp.json", 400, "invalid_request", false],
      ["api/errors/error.138000.calling-not-enabled.json", 401, "calling", false],
    ];
    for (const [file, status, category, retryable] of cases) {
      server.setHandler(() => ({ status, body: fixtureJson(file) }));
      const error = (await client().terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
      expect([file, error.category, error.retryable]).toEqual([file, category, retryable]);
    }
    server.setHandler(() => ({ status: 401, body: fixtureJson("api/errors/error.190.invalid-access-token.json") }));
    const expired = (await client().terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(expired.requiresTokenRefresh()).toBe(true);
    expect(expired.isRateLimit()).toBe(false);
    server.setHandler(() => ({ status: 401, body: fixtureJson("api/errors/error.138006.no-call-permission.json") }));
    const noPermission = (await client().terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(noPermission.requiresTokenRefresh()).toBe(false);
    expect(noPermission.isMissingCallPermission()).toBe(true);
    server.setHandler(() => ({ status: 429, body: fixtureJson("api/errors/error.138002.concurrent-calls-limit.json") }));
    const limited = (await client().terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(limited.isRateLimit()).toBe(true);
  });

  it("an unknown code keeps its fields and is categorised as unknown", async () => {
    server.setHandler(() => ({ status: 400, body: { error: { message: "(#999999) New thing", type: "OAuthException", code: 999999 } } }));
    const error = (await client().reject(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error.code).toBe(999999);
    expect(error.category).toBe("unknown");
    expect(error.retryable).toBe(false);
  });

  it("is_transient from Meta makes an unknown code retryable", async () => {
    server.setHandler(() => ({ status: 400, body: { error: { message: "x", type: "OAuthException", code: 999998, is_transient: true } } }));
    const error = (await client().reject(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error.isTransient).toBe(true);
    expect(error.retryable).toBe(true);
  });
});

describe("answers that are not Graph errors still give a clear error", () => {
  it("an HTML 502 from a proxy", async () => {
    server.setHandler(() => ({ status: 502, headers: { "content-type": "text/html" }, body: "<html><body>Bad Gateway</body></html>" }));
    const error = (await client().terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect(error.status).toBe(502);
    expect(error.code).toBeUndefined();
    expect(error.body).toBe("<html><body>Bad Gateway</body></html>");
    expect(error.category).toBe("server");
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(
      "Graph API answered HTTP 502 on terminate without a Graph error body: <html><body>Bad Gateway</body></html>",
    );
  });

  it("an empty 500", async () => {
    server.setHandler(() => ({ status: 500 }));
    const error = (await client().terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error.status).toBe(500);
    expect(error.body).toBeUndefined();
    expect(error.message).toBe("Graph API answered HTTP 500 on terminate without a Graph error body");
  });

  it("JSON that is not an error envelope is kept as text", async () => {
    server.setHandler(() => ({ status: 404, body: { unexpected: true } }));
    const error = (await client().terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error.status).toBe(404);
    expect(error.body).toBe('{"unexpected":true}');
    expect(error.category).toBe("invalid_request");
  });

  it("a 200 connect answer without a call id", async () => {
    server.setHandler(() => ({ status: 200, body: { messaging_product: "whatsapp", calls: [] } }));
    const error = await client().connect("15550123456", SDP).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WhatsAppError);
    expect((error as Error).message).toBe("connect succeeded but the answer has no call id");
  });

  it("an error body that echoes the token is redacted", async () => {
    server.setHandler(() => ({
      status: 400,
      body: { error: { message: `Bad token ${TOKEN}`, type: "OAuthException", code: 100, error_data: { details: `got ${TOKEN}` } } },
    }));
    const error = (await client().terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error.message).not.toContain(TOKEN);
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect(JSON.stringify(error.body)).not.toContain(TOKEN);
    expect(error.details).toBe("got [redacted]");
  });
});

describe("an option given as undefined", () => {
  it("takes its default, as one left out does (exactOptionalPropertyTypes callers spread nothing)", async () => {
    const calls = createCallingClient({
      phoneNumberId: "117823401562387",
      accessToken: TOKEN,
      baseUrl: server.url,
      apiVersion: undefined,
      timeoutMs: undefined,
      maxResponseBytes: undefined,
      retry: { retries: undefined, minDelayMs: 1, maxDelayMs: undefined },
      logger: undefined,
    });
    expect(calls.apiVersion).toBe(DEFAULT_API_VERSION);
    let attempts = 0;
    server.setHandler(() => (++attempts < 3 ? { status: 503, body: { error: { message: "busy", type: "OAuthException", code: 2, is_transient: true } } } : { status: 200, body: { success: true } }));
    // The default retries (2) apply: two 503s, then the answer.
    await expect(calls.terminate(CALL_ID, { timeoutMs: undefined, signal: undefined })).resolves.toEqual({ success: true });
    expect(attempts).toBe(3);
  });
});

describe("wrong arguments are refused before anything is sent", () => {
  it.each([
    ["an SDP that is not an SDP", (c: ReturnType<typeof client>) => c.accept(CALL_ID, "hello"), "Invalid accept request: session.sdp must match pattern \"^v=0\"", "/session/sdp"],
    ["an empty call id", (c: ReturnType<typeof client>) => c.terminate(""), "Invalid terminate request: call_id must NOT have fewer than 1 characters", "/call_id"],
    ["callback data over 512 characters", (c: ReturnType<typeof client>) => c.accept(CALL_ID, SDP, { bizOpaqueCallbackData: "x".repeat(513) }), "Invalid accept request: biz_opaque_callback_data must NOT have more than 512 characters", "/biz_opaque_callback_data"],
    ["a non-string call id", (c: ReturnType<typeof client>) => c.reject(42 as unknown as string), "Invalid reject request: call_id must be string", "/call_id"],
    ["connect to nobody", (c: ReturnType<typeof client>) => c.connect({} as { recipient: string }, SDP), "Invalid connect request: the request must have required property 'to'", ""],
    ["a call button with a 21-character label", (c: ReturnType<typeof client>) => c.sendCallButton("15550123456", { bodyText: "Call us", displayText: "x".repeat(21) }), "Invalid sendCallButton request: interactive.action.parameters.display_text must NOT have more than 20 characters", "/interactive/action/parameters/display_text"],
    ["the caller's SDP offer sent back as the answer", (c: ReturnType<typeof client>) => c.accept(CALL_ID, `${SDP}a=setup:actpass\r\n`), "Invalid accept request: session.sdp is an SDP offer (a=setup:actpass): send the SDP answer your WebRTC stack created for the caller's offer", "/session/sdp"],
    ["an SDP answer sent with connect where the offer belongs", (c: ReturnType<typeof client>) => c.connect("15550123456", `${SDP}a=setup:active\r\n`), "Invalid connect request: session.sdp is an SDP answer (a=setup:active or passive): connect sends your SDP offer", "/session/sdp"],
    ["an SDP with a=setup:passive sent with connect", (c: ReturnType<typeof client>) => c.connect("15550123456", `${SDP}a=setup:passive\r\n`), "Invalid connect request: session.sdp is an SDP answer (a=setup:active or passive): connect sends your SDP offer", "/session/sdp"],
    ["a per-call timeout of Infinity", (c: ReturnType<typeof client>) => c.terminate(CALL_ID, { timeoutMs: Infinity }), "timeoutMs must be a number of milliseconds above 0 and at most 2147483647", "timeoutMs"],
    ["a per-call timeout of 0", (c: ReturnType<typeof client>) => c.terminate(CALL_ID, { timeoutMs: 0 }), "timeoutMs must be a number of milliseconds above 0 and at most 2147483647", "timeoutMs"],
    ["a per-call timeout beyond what a timer can hold", (c: ReturnType<typeof client>) => c.answer(CALL_ID, SDP, { timeoutMs: 2 ** 31 }), "timeoutMs must be a number of milliseconds above 0 and at most 2147483647", "timeoutMs"],
    ["a settings status that does not exist", (c: ReturnType<typeof client>) => c.updateCallingSettings({ status: "ON" as "ENABLED" }), "Invalid updateCallingSettings request: calling.status must be equal to one of the allowed values", "/calling/status"],
    [
      "a voicemail announcement id as a number past 2^53 - 1 (its digits lost)",
      (c: ReturnType<typeof client>) => c.updateCallingSettings({ voicemail: { status: "ENABLED", triggers: ["REJECT"], audio: { default: { announcement_media_id: 9938884519013665 } } } }),
      "Invalid updateCallingSettings request: calling.voicemail.audio.default.announcement_media_id is a number too large to be exact (past 2^53 - 1, so its digits were lost): send the media id as a string",
      "/calling/voicemail/audio/default/announcement_media_id",
    ],
  ])("%s", async (_name, call, message, path) => {
    const before = server.requests.length;
    const error = (await call(client()).catch((e: unknown) => e)) as WhatsAppValidationError;
    expect(error).toBeInstanceOf(WhatsAppValidationError);
    expect(error.message).toBe(message);
    expect(error.path).toBe(path);
    expect(server.requests.length).toBe(before);
  });

  it("answer() checks before pre_accept, so a bad argument leaves no call pre-accepted", async () => {
    const before = server.requests.length;
    const error = await client()
      .answer(CALL_ID, SDP, { bizOpaqueCallbackData: "y".repeat(600) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WhatsAppValidationError);
    expect(server.requests.length).toBe(before);
  });

  it.each([
    [{ phoneNumberId: "", accessToken: TOKEN }, "phoneNumberId"],
    [{ phoneNumberId: "+1 555 0199", accessToken: TOKEN }, "phoneNumberId"],
    [{ phoneNumberId: "117823401562387", accessToken: "" }, "accessToken"],
    [{ phoneNumberId: "117823401562387", accessToken: TOKEN, apiVersion: "24" }, "apiVersion"],
    [{ phoneNumberId: "117823401562387", accessToken: TOKEN, apiVersion: "latest" }, "apiVersion"],
    [{ phoneNumberId: "117823401562387", accessToken: TOKEN, baseUrl: "not a url" }, "baseUrl"],
    [{ phoneNumberId: "117823401562387", accessToken: TOKEN, timeoutMs: 0 }, "timeoutMs"],
    [{ phoneNumberId: "117823401562387", accessToken: TOKEN, timeoutMs: 2 ** 31 }, "timeoutMs"],
    [{ phoneNumberId: "117823401562387", accessToken: TOKEN, timeoutMs: Number.NaN }, "timeoutMs"],
    [{ phoneNumberId: "117823401562387", accessToken: TOKEN, baseUrl: "https://graph.facebook.com/v23.0" }, "baseUrl"],
    [{ phoneNumberId: "117823401562387", accessToken: TOKEN, baseUrl: "https://graph.facebook.com/v24.0/" }, "baseUrl"],
    [{ phoneNumberId: "117823401562387", accessToken: TOKEN, retry: { retries: -1 } }, "retry.retries"],
  ])("createCallingClient refuses %j", (options, path) => {
    let thrown: unknown;
    try {
      createCallingClient(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WhatsAppValidationError);
    expect((thrown as WhatsAppValidationError).path).toBe(path);
    expect((thrown as Error).message).not.toContain(TOKEN);
  });
  it.each([
    "https://bot:s3cr3t-pass@graph.example.com",
    "https://:s3cr3t-pass@graph.example.com",
    "https://bot@graph.example.com",
    "ftp://graph.example.com",
    "https://graph.example.com/?token=s3cr3t-pass",
    "https://graph.example.com?",
    "https://graph.example.com#s3cr3t-pass",
  ])("createCallingClient refuses baseUrl %s without quoting it", (baseUrl) => {
    const message = "baseUrl must be an http(s) URL without user:password@, query or fragment";
    let thrown: unknown;
    try {
      createCallingClient({ phoneNumberId: "117823401562387", accessToken: TOKEN, baseUrl });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WhatsAppValidationError);
    expect(thrown).toMatchObject({ name: "WhatsAppValidationError", path: "baseUrl", message });
    expect(inspect(thrown)).not.toContain("s3cr3t-pass");
  });
});

describe("errors as JSON", () => {
  it("JSON.stringify of any package error keeps its name, message and fields (an Error's message is not enumerable)", () => {
    const network = new WhatsAppNetworkError({ action: "terminate", callId: CALL_ID, attempt: 2, cause: new Error("connect ECONNREFUSED") });
    expect(JSON.parse(JSON.stringify(network))).toEqual({
      name: "WhatsAppNetworkError",
      message: "Request terminate failed without an answer: connect ECONNREFUSED",
      action: "terminate",
      callId: CALL_ID,
      attempt: 2,
    });
    expect(JSON.parse(JSON.stringify(new WhatsAppValidationError("to is wrong", { path: "/to" })))).toEqual({ name: "WhatsAppValidationError", message: "to is wrong", path: "/to" });
    // A Graph error: every field but the body, isTransient and retryAfterSeconds included.
    const body = { error: { message: "(#130429) Rate limit hit", type: "OAuthException", code: 130429, is_transient: true, fbtrace_id: "Atrace" } };
    const api = new WhatsAppApiError({ status: 429, body, retryAfterSeconds: 30, action: "terminate", callId: CALL_ID });
    expect(JSON.parse(JSON.stringify(api))).toEqual({
      name: "WhatsAppApiError",
      message: "Graph API error 130429 on terminate (HTTP 429): (#130429) Rate limit hit",
      status: 429,
      code: 130429,
      type: "OAuthException",
      fbtraceId: "Atrace",
      isTransient: true,
      category: "rate_limit",
      retryable: true,
      action: "terminate",
      callId: CALL_ID,
      retryAfterSeconds: 30,
    });
    expect(JSON.parse(JSON.stringify({ error: new WhatsAppError("base") }))).toEqual({ error: { name: "WhatsAppError", message: "base" } });
  });
});

describe("error names", () => {
  it("a subclass keeps the package's name unless it names itself, as a subclass of Error keeps Error's", () => {
    const anonymous = new (class extends WhatsAppValidationError {})("boom");
    expect([anonymous.name, String(anonymous), anonymous.stack?.split("\n")[0]]).toEqual(["WhatsAppValidationError", "WhatsAppValidationError: boom", "WhatsAppValidationError: boom"]);
    class Unnamed extends WhatsAppApiError {}
    expect(new Unnamed({ status: 500, body: undefined }).name).toBe("WhatsAppApiError");
    class Named extends WhatsAppValidationError {
      static override name = "BotInputError";
    }
    expect([new Named("bad").name, Named.name]).toEqual(["BotInputError", "BotInputError"]);
    expect([new WhatsAppError("base").name, WhatsAppValidationError.name, WhatsAppApiError.name]).toEqual(["WhatsAppError", "WhatsAppValidationError", "WhatsAppApiError"]);
  });

  it("an error that answer() did not mark has no step or callTerminated, so that util.inspect does not print them as undefined", () => {
    for (const error of [new WhatsAppError("base"), new WhatsAppValidationError("bad", { path: "to" }), new WhatsAppApiError({ status: 400, body: undefined })]) {
      expect(["step" in error, "callTerminated" in error, inspect(error).includes("step:")], error.name).toEqual([false, false, false]);
    }
  });
});

describe("instanceof across copies of the classes", () => {
  // dist/ has a copy of the error classes in each entry point's bundle (scripts/build.ts): a second copy, bundled
  // here from the same sources, stands for another entry point's.
  type Classes = typeof import("../../src/client/errors.js") & typeof import("../../src/errors.js");
  let copy: Classes;
  let folder: string;
  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "whatsapp-calling-errors-"));
    const file = join(folder, "copy.mjs");
    const { outputFiles } = buildSync({
      stdin: { contents: 'export * from "./src/client/errors.ts"; export * from "./src/errors.ts";', resolveDir: join(import.meta.dirname, "../.."), loader: "ts" },
      bundle: true,
      format: "esm",
      write: false,
      logLevel: "silent",
    });
    writeFileSync(file, outputFiles[0]!.text);
    copy = (await import(pathToFileURL(file).href)) as Classes;
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it("an error of either copy is an instance of the class of the same name in the other, and of its bases", () => {
    expect(copy.WhatsAppApiError).not.toBe(WhatsAppApiError);
    const theirs = new copy.WhatsAppApiError({ status: 400, body: undefined });
    const ours = new WhatsAppApiError({ status: 400, body: undefined });
    expect([theirs instanceof WhatsAppApiError, theirs instanceof WhatsAppError, ours instanceof copy.WhatsAppApiError, ours instanceof copy.WhatsAppError]).toEqual([true, true, true, true]);
    expect(new copy.WhatsAppValidationError("bad") instanceof WhatsAppValidationError).toBe(true);
  });

  it("a class of another name does not match, nor does an unrelated class that takes the name", () => {
    expect(new copy.WhatsAppValidationError("bad") instanceof WhatsAppApiError).toBe(false);
    expect(new copy.WhatsAppError("base") instanceof WhatsAppValidationError).toBe(false);
    class Impostor extends Error {
      static override name = "WhatsAppApiError";
    }
    expect(new Impostor("not ours") instanceof WhatsAppApiError).toBe(false);
    expect(new Error("plain") instanceof WhatsAppError).toBe(false);
    for (const value of [null, undefined, "WhatsAppApiError", 400, { name: "WhatsAppApiError" }]) expect(value instanceof WhatsAppApiError).toBe(false);
  });

  it("a user's subclass that does not name itself matches its own instances only; one that names itself, its copies too", () => {
    class Unnamed extends WhatsAppApiError {}
    const theirs = new copy.WhatsAppApiError({ status: 500, body: undefined });
    expect([new Unnamed({ status: 500, body: undefined }) instanceof copy.WhatsAppApiError, theirs instanceof Unnamed]).toEqual([true, false]);
    class BotError extends WhatsAppValidationError {
      static override name = "BotError";
    }
    class BotErrorCopy extends copy.WhatsAppValidationError {
      static override name = "BotError";
    }
    expect([new BotErrorCopy("x") instanceof BotError, new BotError("x") instanceof BotErrorCopy, new copy.WhatsAppValidationError("x") instanceof BotError]).toEqual([true, true, false]);
  });

  it("narrows in TypeScript as instanceof does", () => {
    const caught: unknown = new copy.WhatsAppApiError({ status: 429, body: undefined });
    // A compile error here, not a failed assertion, if the predicate of Symbol.hasInstance lost the type.
    const status: number | undefined = caught instanceof WhatsAppApiError ? caught.status : undefined;
    expect(status).toBe(429);
  });
});
