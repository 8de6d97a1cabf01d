import { describe, expect, it } from "vitest";
import { createCallingClient, DEFAULT_API_VERSION, WhatsAppTokenError } from "../../src/index.js";
import { useGraphServer } from "../helpers/graph-server.js";

const CALL_ID = "wacid.rotation";
const server = useGraphServer();

describe("access token", () => {
  it("a token set between calls is used by the next call", async () => {
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "token-one", baseUrl: server.url });
    await calls.terminate(CALL_ID);
    calls.setAccessToken("token-two");
    await calls.terminate(CALL_ID);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(["Bearer token-one", "Bearer token-two"]);
  });

  it("with 50 concurrent calls and a rotation in the middle, each request carries the token current when it started", async () => {
    // Answers are held back until all 50 have arrived, so every request is in flight during the rotation.
    let release!: () => void;
    const allArrived = new Promise<void>((resolve) => (release = resolve));
    server.setHandler(async (_request, index) => {
      if (index === 49) release();
      await allArrived;
      return { status: 200, body: { success: true } };
    });
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "token-before", baseUrl: server.url });
    const started: { callId: string; token: string }[] = [];
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      if (i === 25) calls.setAccessToken("token-after");
      const token = i < 25 ? "token-before" : "token-after";
      started.push({ callId: `wacid.${i}`, token });
      pending.push(calls.terminate(`wacid.${i}`));
    }
    await Promise.all(pending);
    expect(server.requests).toHaveLength(50);
    const seen = new Map(server.requests.map((r) => [(r.json as { call_id: string }).call_id, r.headers.authorization]));
    for (const { callId, token } of started) expect(seen.get(callId)).toBe(`Bearer ${token}`);
  });

  it("a token function is read on every request, sync or async", async () => {
    let n = 0;
    const sync = createCallingClient({ phoneNumberId: "1", accessToken: () => `sync-${++n}`, baseUrl: server.url });
    await sync.terminate(CALL_ID);
    await sync.terminate(CALL_ID);
    const asyncClient = createCallingClient({
      phoneNumberId: "1",
      accessToken: async () => `async-${++n}`,
      baseUrl: server.url,
    });
    await asyncClient.terminate(CALL_ID);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(["Bearer sync-1", "Bearer sync-2", "Bearer async-3"]);
  });

  it("setAccessToken also takes a function", async () => {
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "static", baseUrl: server.url });
    calls.setAccessToken(async () => "from-vault");
    await calls.reject(CALL_ID);
    expect(server.requests[0]!.headers.authorization).toBe("Bearer from-vault");
  });

  it("a token function that throws rejects the call with WhatsAppTokenError and sends nothing", async () => {
    const secret = "leaked-token-value-123";
    const calls = createCallingClient({
      phoneNumberId: "1",
      accessToken: () => {
        throw new Error(`vault unreachable, last token was ${secret}`);
      },
      baseUrl: server.url,
    });
    const error = await calls.terminate(CALL_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WhatsAppTokenError);
    expect((error as Error).message).toBe("The accessToken function failed");
    expect(String((error as Error).cause)).not.toContain(secret);
    expect(server.requests).toHaveLength(0);
  });

  it("an async token function that rejects, or returns no string, is a WhatsAppTokenError", async () => {
    const rejecting = createCallingClient({ phoneNumberId: "1", accessToken: () => Promise.reject(new Error("nope")), baseUrl: server.url });
    await expect(rejecting.terminate(CALL_ID)).rejects.toBeInstanceOf(WhatsAppTokenError);
    const empty = createCallingClient({ phoneNumberId: "1", accessToken: async () => "", baseUrl: server.url });
    await expect(empty.terminate(CALL_ID)).rejects.toThrow("The access token must be a non-empty string, got an empty string");
    const broken = createCallingClient({ phoneNumberId: "1", accessToken: () => "abc\r\nX-Injected: 1", baseUrl: server.url });
    const error = await broken.terminate(CALL_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WhatsAppTokenError);
    expect((error as Error).message).not.toContain("X-Injected");
    expect(server.requests).toHaveLength(0);
  });
});

describe("URL: version, phone number id, base URL, fetch", () => {
  it("the default version from openapi.yaml is the first path segment", async () => {
    const calls = createCallingClient({ phoneNumberId: "111", accessToken: "t", baseUrl: server.url });
    expect(calls.apiVersion).toBe(DEFAULT_API_VERSION);
    await calls.terminate(CALL_ID);
    expect(server.requests[0]!.path).toBe(`/${DEFAULT_API_VERSION}/111/calls`);
  });

  it("apiVersion changes the URL", async () => {
    const calls = createCallingClient({ phoneNumberId: "111", accessToken: "t", baseUrl: server.url, apiVersion: "v99.9" });
    await calls.terminate(CALL_ID);
    await calls.getCallPermissions("15550123456").catch(() => undefined);
    expect(server.requests.map((r) => r.path)).toEqual(["/v99.9/111/calls", "/v99.9/111/call_permissions"]);
  });

  it("setPhoneNumberId takes effect on the next request, for every endpoint", async () => {
    server.setHandler((request) =>
      request.method === "GET" ? { status: 200, body: { calling: {} } } : { status: 200, body: { success: true } },
    );
    const calls = createCallingClient({ phoneNumberId: "111", accessToken: "t", baseUrl: server.url });
    await calls.terminate(CALL_ID);
    calls.setPhoneNumberId("222");
    expect(calls.phoneNumberId).toBe("222");
    await calls.terminate(CALL_ID);
    await calls.getCallingSettings();
    await calls.updateCallingSettings({ status: "DISABLED" });
    expect(server.requests.map((r) => r.path)).toEqual([
      `/${DEFAULT_API_VERSION}/111/calls`,
      `/${DEFAULT_API_VERSION}/222/calls`,
      `/${DEFAULT_API_VERSION}/222/settings`,
      `/${DEFAULT_API_VERSION}/222/settings`,
    ]);
    expect(() => calls.setPhoneNumberId("")).toThrow("phoneNumberId must be the numeric id");
  });

  it("a base URL with a path prefix and a trailing slash", async () => {
    const calls = createCallingClient({ phoneNumberId: "111", accessToken: "t", baseUrl: `${server.url}/graph-proxy/` });
    await calls.terminate(CALL_ID);
    expect(server.requests[0]!.path).toBe(`/graph-proxy/${DEFAULT_API_VERSION}/111/calls`);
  });

  it("a custom fetch is used for every request, raw included", async () => {
    const seen: string[] = [];
    const calls = createCallingClient({
      phoneNumberId: "111",
      accessToken: "t",
      baseUrl: server.url,
      // Called as the global fetch is: (url, init), never with a Request.
      fetch: (input, init) => {
        seen.push(`${init.method} ${new URL(input).pathname} ${typeof input}`);
        return fetch(input, init);
      },
    });
    await calls.terminate(CALL_ID);
    await calls.raw.GET("/{phone-number-id}/settings", { params: { path: { "phone-number-id": "111" } } });
    expect(seen).toEqual([`POST /${DEFAULT_API_VERSION}/111/calls string`, `GET /${DEFAULT_API_VERSION}/111/settings string`]);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(["Bearer t", "Bearer t"]);
  });
});
