import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ABORTABLE_AFTER_TIMEOUT_MS,
  createCallingClient,
  WhatsAppApiError,
  WhatsAppError,
  WhatsAppResponseError,
  WhatsAppNetworkError,
  WhatsAppTimeoutError,
  WhatsAppTokenError,
  type RetryInfo,
} from "../../src/index.js";
import { fixtureJson } from "../helpers/fixtures.js";
import { useGraphServer } from "../helpers/graph-server.js";

const CALL_ID = "wacid.reliability";
const SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
const expired = fixtureJson("api/errors/error.190.invalid-access-token.json");
const server = useGraphServer();

const fastRetry = { retries: 3, minDelayMs: 1, maxDelayMs: 5 };
const unavailable = { status: 503, body: { error: { message: "Service temporarily unavailable", type: "OAuthException", code: 2, is_transient: true } } };

describe("deadlines", () => {
  it("a request that outlives timeoutMs rejects with WhatsAppTimeoutError", async () => {
    server.setHandler(() => ({ status: 200, body: { success: true }, delayMs: 2_000 }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, timeoutMs: 100, retry: false });
    const started = Date.now();
    const error = await calls.terminate(CALL_ID).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(WhatsAppTimeoutError);
    expect((error as WhatsAppTimeoutError).timeoutMs).toBe(100);
    expect((error as WhatsAppTimeoutError).action).toBe("terminate");
    expect((error as Error).message).toBe("Request terminate timed out after 100 ms");
    expect(elapsed).toBeLessThan(1_500);
  });

  it("a server that sends headers and then stalls the body still times out", async () => {
    server.setHandler(() => ({ status: 200, headers: { "content-type": "application/json" }, stallBody: true }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, timeoutMs: 150 });
    await expect(calls.reject(CALL_ID)).rejects.toBeInstanceOf(WhatsAppTimeoutError);
  });

  it("a custom fetch that ignores the signal still cannot outlive the deadline", async () => {
    const calls = createCallingClient({
      phoneNumberId: "1",
      accessToken: "t",
      baseUrl: server.url,
      timeoutMs: 80,
      retry: false,
      fetch: () => new Promise<Response>((resolve) => setTimeout(() => resolve(new Response('{"success":true}')), 1_000)),
    });
    const started = Date.now();
    await expect(calls.terminate(CALL_ID)).rejects.toBeInstanceOf(WhatsAppTimeoutError);
    expect(Date.now() - started).toBeLessThan(600);
  });

  it("a per-call timeoutMs overrides the client's", async () => {
    server.setHandler(() => ({ status: 200, body: { success: true }, delayMs: 400 }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, timeoutMs: 5_000 });
    const error = await calls.terminate(CALL_ID, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect((error as WhatsAppTimeoutError).timeoutMs).toBe(50);
  });

  it("the caller's signal aborts with its own reason, not a timeout", async () => {
    server.setHandler(() => ({ status: 200, body: { success: true }, delayMs: 1_000 }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url });
    const controller = new AbortController();
    const pending = calls.terminate(CALL_ID, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("caller gave up")), 30);
    await expect(pending).rejects.toThrow("caller gave up");
    const already = AbortSignal.abort();
    const error = await calls.terminate(CALL_ID, { signal: already }).catch((e: unknown) => e);
    expect((error as DOMException).name).toBe("AbortError");
  });

  it("retries stay within the deadline", async () => {
    server.setHandler(() => ({ ...unavailable, delayMs: 60 }));
    const calls = createCallingClient({
      phoneNumberId: "1",
      accessToken: "t",
      baseUrl: server.url,
      timeoutMs: 250,
      retry: { retries: 50, minDelayMs: 10, maxDelayMs: 10 },
    });
    const started = Date.now();
    const error = await calls.terminate(CALL_ID).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_000);
    // Either the last real answer or the deadline, never more attempts than fit.
    expect(error instanceof WhatsAppApiError || error instanceof WhatsAppTimeoutError).toBe(true);
    expect(server.requests.length).toBeLessThanOrEqual(5);
  });
});

describe("which requests carry an abort signal of their deadline", () => {
  afterEach(() => vi.useRealTimers());
  const never = () => new Promise<Response>(() => {});
  const answered = () => Promise.resolve(new Response('{"success":true}', { status: 200 }));

  it("until a request times out, a fetch gets the caller's signal and no other", async () => {
    const inits: RequestInit[] = [];
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", fetch: (_url, init) => (inits.push(init), answered()) });
    const caller = new AbortController();
    await calls.terminate(CALL_ID);
    await calls.terminate(CALL_ID, { signal: caller.signal });
    expect(inits.map((init) => init.signal)).toEqual([undefined, caller.signal]);
  });

  it("after a timeout, each request's fetch gets a signal its deadline aborts, for ABORTABLE_AFTER_TIMEOUT_MS", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const inits: RequestInit[] = [];
    let answer = never;
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", timeoutMs: 50, retry: false, fetch: (_url, init) => (inits.push(init), answer()) });
    await expect(calls.terminate(CALL_ID)).rejects.toBeInstanceOf(WhatsAppTimeoutError);
    expect(inits[0]!.signal).toBeUndefined();

    const timedOut = (await calls.terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppTimeoutError;
    expect(timedOut).toBeInstanceOf(WhatsAppTimeoutError);
    expect(inits[1]!.signal?.aborted).toBe(true);
    expect(inits[1]!.signal?.reason).toBe(timedOut);

    answer = answered;
    vi.setSystemTime(Date.now() + ABORTABLE_AFTER_TIMEOUT_MS - 1_000);
    await calls.terminate(CALL_ID);
    expect(inits[2]!.signal).toBeInstanceOf(AbortSignal);
    expect(inits[2]!.signal?.aborted).toBe(false);
    vi.setSystemTime(Date.now() + 2_000);
    await calls.terminate(CALL_ID);
    expect(inits[3]!.signal).toBeUndefined();
  });

  /** A server on loopback that takes each request and never answers: its requests, and when each connection closed. */
  async function hungServer(test: (server: { baseUrl: string; open: IncomingMessage[]; closed: Promise<void>[] }) => Promise<void>) {
    const closed: Promise<void>[] = [];
    const open: IncomingMessage[] = [];
    const hung = createServer((req) => {
      open.push(req);
      closed.push(new Promise((resolve) => req.socket.once("close", () => resolve())));
    });
    await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
    try {
      await test({ baseUrl: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`, open, closed });
    } finally {
      hung.closeAllConnections();
      await new Promise((resolve) => hung.close(resolve));
    }
  }

  it("against a server that never answers, the first timed-out connection stays open and the next is closed at its deadline", () =>
    hungServer(async ({ baseUrl, open, closed }) => {
      const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl, timeoutMs: 100, retry: false });
      await expect(calls.terminate(CALL_ID)).rejects.toBeInstanceOf(WhatsAppTimeoutError);
      await expect(calls.terminate(CALL_ID)).rejects.toBeInstanceOf(WhatsAppTimeoutError);
      await closed[1];
      expect(open).toHaveLength(2);
      expect(open[0]!.socket.destroyed).toBe(false);
      expect(open[1]!.socket.destroyed).toBe(true);
    }));

  it("with abortOnTimeout, the first request's fetch has a signal too, and its connection is closed at its deadline", () =>
    hungServer(async ({ baseUrl, open, closed }) => {
      const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl, timeoutMs: 100, retry: false, abortOnTimeout: true });
      await expect(calls.terminate(CALL_ID)).rejects.toBeInstanceOf(WhatsAppTimeoutError);
      await closed[0];
      expect(open).toHaveLength(1);
      expect(open[0]!.socket.destroyed).toBe(true);
    }));

  it("abortOnTimeout: every fetch gets the deadline's signal, which the caller's aborts; anything but a boolean is refused", async () => {
    const inits: RequestInit[] = [];
    const calls = createCallingClient({
      phoneNumberId: "1",
      accessToken: "t",
      abortOnTimeout: true,
      fetch: (_url, init) => (inits.push(init), Promise.resolve(new Response('{"success":true}'))),
    });
    await calls.terminate(CALL_ID);
    expect(inits[0]!.signal).toBeInstanceOf(AbortSignal);
    expect(inits[0]!.signal?.aborted).toBe(false);
    const caller = new AbortController();
    const pending = createCallingClient({ phoneNumberId: "1", accessToken: "t", abortOnTimeout: true, fetch: (_url, init) => (inits.push(init), new Promise<Response>(() => {})) }).terminate(
      CALL_ID,
      { signal: caller.signal },
    );
    caller.abort(new Error("shutting down"));
    await expect(pending).rejects.toThrow("shutting down");
    expect(inits[1]!.signal).not.toBe(caller.signal);
    expect(inits[1]!.signal?.reason).toEqual(new Error("shutting down"));
    expect(() => createCallingClient({ phoneNumberId: "1", accessToken: "t", abortOnTimeout: "yes" as never })).toThrow(
      expect.objectContaining({ name: "WhatsAppValidationError", path: "abortOnTimeout", message: "abortOnTimeout must be true or false" }),
    );
  });
});

describe("retries", () => {
  it("429 with Retry-After in seconds waits that long, then succeeds", async () => {
    server.setHandler((_request, index) =>
      index === 0
        ? { status: 429, headers: { "retry-after": "1" }, body: fixtureJson("api/errors/error.138002.concurrent-calls-limit.json") }
        : { status: 200, body: { success: true } },
    );
    const retries: RetryInfo[] = [];
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry, onRetry: (info) => retries.push(info) });
    await expect(calls.accept(CALL_ID, SDP)).resolves.toEqual({ success: true });
    expect(server.requests).toHaveLength(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]!.delayMs).toBe(1_000);
    expect(retries[0]!.attempt).toBe(1);
    expect(retries[0]!.action).toBe("accept");
    expect(retries[0]!.cause).toBeInstanceOf(WhatsAppApiError);
    expect((retries[0]!.cause as WhatsAppApiError).code).toBe(138002);
  });

  it("Retry-After as an HTTP date", async () => {
    const inOneSecond = new Date(Date.now() + 1_000).toUTCString();
    server.setHandler((_request, index) =>
      index === 0 ? { status: 503, headers: { "retry-after": inOneSecond }, body: unavailable.body } : { status: 200, body: { success: true } },
    );
    const retries: RetryInfo[] = [];
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry, onRetry: (info) => retries.push(info) });
    await calls.terminate(CALL_ID);
    expect(retries[0]!.delayMs).toBeGreaterThan(0);
    expect(retries[0]!.delayMs).toBeLessThanOrEqual(1_000);
  });

  it("a Retry-After beyond the deadline is not waited for: the answer is returned at once", async () => {
    server.setHandler(() => ({ status: 429, headers: { "retry-after": "120" }, body: fixtureJson("api/errors/error.138002.concurrent-calls-limit.json") }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, timeoutMs: 2_000, retry: fastRetry });
    const error = (await calls.terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect(error.retryAfterSeconds).toBe(120);
    expect(server.requests).toHaveLength(1);
  });

  it("5xx is retried up to the attempt limit with the body sent intact each time", async () => {
    server.setHandler(() => unavailable);
    const retries: RetryInfo[] = [];
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry, onRetry: (info) => retries.push(info) });
    const error = (await calls.accept(CALL_ID, SDP, { bizOpaqueCallbackData: "d" }).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error.status).toBe(503);
    expect(server.requests).toHaveLength(4);
    expect(new Set(server.requests.map((r) => r.rawBody)).size).toBe(1);
    expect(server.requests[3]!.json).toEqual({
      messaging_product: "whatsapp",
      call_id: CALL_ID,
      action: "accept",
      session: { sdp_type: "answer", sdp: SDP },
      biz_opaque_callback_data: "d",
    });
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3]);
    for (const retry of retries) {
      expect(retry.delayMs).toBeGreaterThanOrEqual(0);
      expect(retry.delayMs).toBeLessThanOrEqual(5);
    }
  });

  it("backoff grows exponentially up to maxDelayMs, with full jitter below each ceiling", async () => {
    server.setHandler(() => unavailable);
    const delays: number[][] = [[], [], [], []];
    const calls = createCallingClient({
      phoneNumberId: "1",
      accessToken: "t",
      baseUrl: server.url,
      retry: { retries: 4, minDelayMs: 4, maxDelayMs: 16 },
      onRetry: ({ attempt, delayMs }) => delays[attempt - 1]!.push(delayMs),
    });
    for (let i = 0; i < 40; i++) await calls.terminate(CALL_ID).catch(() => undefined);
    const ceilings = [4, 8, 16, 16]; // minDelayMs * 2^(attempt-1), capped at maxDelayMs
    delays.forEach((samples, index) => {
      expect(samples).toHaveLength(40);
      for (const delay of samples) {
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceilings[index]!);
      }
    });
    // Jitter: the delays of one attempt differ; growth: later attempts go beyond the earlier ceilings.
    expect(new Set(delays[2]).size).toBeGreaterThan(3);
    expect(Math.max(...delays[1]!)).toBeGreaterThan(4);
    expect(Math.max(...delays[2]!)).toBeGreaterThan(8);
  });

  it("network errors (connection reset) are retried, then give WhatsAppNetworkError", async () => {
    server.setHandler((_request, index) => (index < 2 ? { reset: true } : { status: 200, body: { success: true } }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry });
    await expect(calls.terminate(CALL_ID)).resolves.toEqual({ success: true });
    expect(server.requests).toHaveLength(3);

    server.requests.length = 0;
    server.setHandler(() => ({ reset: true }));
    const error = await calls.terminate(CALL_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WhatsAppNetworkError);
    expect((error as WhatsAppNetworkError).attempt).toBe(4);
    expect(server.requests).toHaveLength(4);
  });

  it("connect is never retried: a 503, a 429 and a reset each reach the server exactly once", async () => {
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry });
    for (const reply of [unavailable, { status: 429, headers: { "retry-after": "0" }, body: unavailable.body }, { reset: true }]) {
      server.requests.length = 0;
      server.setHandler(() => reply);
      await expect(calls.connect("15550123456", SDP)).rejects.toBeDefined();
      expect(server.requests).toHaveLength(1);
    }
  });

  it("message sends are never retried", async () => {
    server.setHandler(() => unavailable);
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry });
    await expect(calls.sendCallPermissionRequest("15550123456", { bodyText: "May we call?" })).rejects.toBeInstanceOf(WhatsAppApiError);
    await expect(calls.sendCallButton("15550123456", { bodyText: "Call us" })).rejects.toBeInstanceOf(WhatsAppApiError);
    expect(server.requests).toHaveLength(2);
  });

  it("raw connect is not retried either, raw terminate is", async () => {
    server.setHandler(() => unavailable);
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry });
    await calls.raw.POST("/{phone-number-id}/calls", {
      params: { path: { "phone-number-id": "1" } },
      body: { messaging_product: "whatsapp", to: "15550123456", action: "connect", session: { sdp_type: "offer", sdp: SDP } },
    });
    expect(server.requests).toHaveLength(1);
    await calls.raw.POST("/{phone-number-id}/calls", {
      params: { path: { "phone-number-id": "1" } },
      body: { messaging_product: "whatsapp", call_id: CALL_ID, action: "terminate" },
    });
    expect(server.requests).toHaveLength(5);
  });

  it("retry: false sends once", async () => {
    server.setHandler(() => unavailable);
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: false });
    await expect(calls.terminate(CALL_ID)).rejects.toBeInstanceOf(WhatsAppApiError);
    expect(server.requests).toHaveLength(1);
  });

  it("a known non-retryable code is not retried even on a 5xx or 429", async () => {
    server.setHandler(() => ({ status: 429, body: { error: { message: "(#138009) limit", type: "OAuthException", code: 138009 } } }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry });
    await expect(calls.terminate(CALL_ID)).rejects.toBeInstanceOf(WhatsAppApiError);
    expect(server.requests).toHaveLength(1);
  });

  it("4xx errors are not retried", async () => {
    server.setHandler(() => ({ status: 400, body: fixtureJson("api/errors/error.100.invalid-sdp.json") }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry });
    await expect(calls.accept(CALL_ID, SDP)).rejects.toBeInstanceOf(WhatsAppApiError);
    expect(server.requests).toHaveLength(1);
  });
});

describe("token refresh on 401 with code 190", () => {
  it("one refresh for all requests in flight, then each is retried once with the new token", async () => {
    let refreshes = 0;
    server.setHandler((request) =>
      request.headers.authorization === "Bearer fresh" ? { status: 200, body: { success: true } } : { status: 401, body: expired, delayMs: 20 },
    );
    const calls = createCallingClient({
      phoneNumberId: "1",
      accessToken: "stale",
      baseUrl: server.url,
      refreshAccessToken: async () => {
        refreshes += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
        return "fresh";
      },
    });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => calls.terminate(`wacid.${i}`)));
    expect(results).toHaveLength(10);
    expect(refreshes).toBe(1);
    const byToken = server.requests.reduce<Record<string, number>>((counts, r) => {
      counts[r.headers.authorization!] = (counts[r.headers.authorization!] ?? 0) + 1;
      return counts;
    }, {});
    expect(byToken).toEqual({ "Bearer stale": 10, "Bearer fresh": 10 });
    // Later requests use the refreshed token straight away.
    server.requests.length = 0;
    await calls.reject(CALL_ID);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(["Bearer fresh"]);
    expect(refreshes).toBe(1);
  });

  it("a refresh does not replace a token function: the function is still read on every request", async () => {
    let vault = "v1";
    server.setHandler((request) =>
      request.headers.authorization === "Bearer v1" ? { status: 401, body: expired } : { status: 200, body: { success: true } },
    );
    const calls = createCallingClient({
      phoneNumberId: "1",
      accessToken: () => vault,
      baseUrl: server.url,
      refreshAccessToken: async () => "v2",
    });
    await calls.terminate(CALL_ID); // v1 refused, refreshed to v2
    await calls.terminate(CALL_ID); // the function still says v1: the refreshed v2 stands in
    vault = "v3"; // the vault rotates later
    await calls.terminate(CALL_ID);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(["Bearer v1", "Bearer v2", "Bearer v2", "Bearer v3"]);
  });

  it("a failed refresh rejects with the original 401 error as cause", async () => {
    server.setHandler(() => ({ status: 401, body: expired }));
    const calls = createCallingClient({
      phoneNumberId: "1",
      accessToken: "stale",
      baseUrl: server.url,
      refreshAccessToken: async () => {
        throw new Error("identity provider down");
      },
    });
    const error = (await calls.terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppTokenError;
    expect(error).toBeInstanceOf(WhatsAppTokenError);
    expect(error.cause).toBeInstanceOf(WhatsAppApiError);
    expect((error.cause as WhatsAppApiError).code).toBe(190);
    expect(server.requests).toHaveLength(1);
  });

  it("no refresh loop: a new token that is refused too ends the request after one retry", async () => {
    let refreshes = 0;
    server.setHandler(() => ({ status: 401, body: expired }));
    const calls = createCallingClient({
      phoneNumberId: "1",
      accessToken: "stale",
      baseUrl: server.url,
      refreshAccessToken: async () => `fresh-${++refreshes}`,
    });
    const error = (await calls.terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect(error.code).toBe(190);
    expect(refreshes).toBe(1);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(["Bearer stale", "Bearer fresh-1"]);
  });

  it("a 401 with another code (138006) does not refresh", async () => {
    let refreshes = 0;
    server.setHandler(() => ({ status: 401, body: fixtureJson("api/errors/error.138006.no-call-permission.json") }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, refreshAccessToken: async () => `x${++refreshes}` });
    const error = (await calls.connect("15550123456", SDP).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error.code).toBe(138006);
    expect(refreshes).toBe(0);
    expect(server.requests).toHaveLength(1);
  });

  it("without refreshAccessToken a 190 is returned as WhatsAppApiError that asks for a refresh", async () => {
    server.setHandler(() => ({ status: 401, body: expired }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url });
    const error = (await calls.terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error.requiresTokenRefresh()).toBe(true);
  });
});

describe("answer safety", () => {
  it("accept failing after pre_accept terminates the call and names the step", async () => {
    server.setHandler((request) =>
      (request.json as { action: string }).action === "accept"
        ? { status: 400, body: { error: { message: "(#100) SDP mismatch", type: "OAuthException", code: 100 } } }
        : { status: 200, body: { success: true } },
    );
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url });
    const error = (await calls.answer(CALL_ID, SDP).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect(error.step).toBe("accept");
    expect(error.callTerminated).toBe(true);
    expect(error.message).toBe("answer() failed at accept: Graph API error 100 on accept (HTTP 400): (#100) SDP mismatch");
    expect(server.requests.map((r) => (r.json as { action: string }).action)).toEqual(["pre_accept", "accept", "terminate"]);
    expect(server.requests[2]!.json).toEqual({ messaging_product: "whatsapp", call_id: CALL_ID, action: "terminate" });
  });

  it("pre_accept failing sends nothing more and names the step", async () => {
    server.setHandler(() => ({ status: 400, body: { error: { message: "(#100) bad", type: "OAuthException", code: 100 } } }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url });
    const error = (await calls.answer(CALL_ID, SDP).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error.step).toBe("pre_accept");
    expect(error.callTerminated).toBeUndefined();
    expect(server.requests).toHaveLength(1);
  });

  it("a pre_accept whose outcome is unknown (timeout) is followed by terminate; a refused one (4xx) is not", async () => {
    server.setHandler((request) =>
      (request.json as { action: string }).action === "pre_accept"
        ? { status: 200, body: { success: true }, delayMs: 400 }
        : { status: 200, body: { success: true } },
    );
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: false });
    const timedOut = (await calls.answer(CALL_ID, SDP, { timeoutMs: 100 }).catch((e: unknown) => e)) as WhatsAppTimeoutError;
    expect(timedOut).toBeInstanceOf(WhatsAppTimeoutError);
    expect(timedOut.step).toBe("pre_accept");
    expect(timedOut.callTerminated).toBe(true);
    expect(server.requests.map((r) => (r.json as { action: string }).action)).toEqual(["pre_accept", "terminate"]);

    server.requests.length = 0;
    server.setHandler(() => ({ status: 503, body: unavailable.body }));
    const unavailableError = (await calls.answer(CALL_ID, SDP).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(unavailableError.step).toBe("pre_accept");
    expect(unavailableError.callTerminated).toBe(false);
    expect(server.requests.map((r) => (r.json as { action: string }).action)).toEqual(["pre_accept", "terminate"]);
  });

  it("a timed-out accept is still followed by terminate; a failing terminate is reported, not thrown", async () => {
    server.setHandler((request) => {
      const action = (request.json as { action: string }).action;
      if (action === "accept") return { status: 200, body: { success: true }, delayMs: 500 };
      if (action === "terminate") return { status: 500, body: { error: { message: "x", type: "OAuthException", code: 1 } } };
      return { status: 200, body: { success: true } };
    });
    const warnings: string[] = [];
    const calls = createCallingClient({
      phoneNumberId: "1",
      accessToken: "t",
      baseUrl: server.url,
      timeoutMs: 100,
      retry: false,
      logger: { warn: (message) => warnings.push(message) },
    });
    const error = (await calls.answer(CALL_ID, SDP).catch((e: unknown) => e)) as WhatsAppTimeoutError;
    expect(error).toBeInstanceOf(WhatsAppTimeoutError);
    expect(error.step).toBe("accept");
    expect(error.callTerminated).toBe(false);
    expect(warnings).toContain("whatsapp-calling: answer failed at accept and the follow-up terminate failed too");
    expect(server.requests.map((r) => (r.json as { action: string }).action)).toEqual(["pre_accept", "accept", "terminate"]);
  });

  it("an afterPreAccept hook that throws leads to terminate; the error names the hook and keeps its error as cause", async () => {
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url });
    const hookError = new Error("ICE failed");
    const error = (await calls
      .answer(CALL_ID, SDP, {
        afterPreAccept: () => {
          throw hookError;
        },
      })
      .catch((e: unknown) => e)) as WhatsAppError;
    expect(error).toBeInstanceOf(WhatsAppError);
    expect(error.message).toBe("answer() failed at after_pre_accept: the afterPreAccept hook failed: ICE failed");
    expect(error.step).toBe("after_pre_accept");
    expect(error.callTerminated).toBe(true);
    expect(error.cause).toBe(hookError);
    expect(server.requests.map((r) => (r.json as { action: string }).action)).toEqual(["pre_accept", "terminate"]);
  });

  it("answer() has one deadline for pre_accept, the hook and accept; the hook's signal aborts at that deadline", async () => {
    server.setHandler(() => ({ status: 200, body: { success: true }, delayMs: 60 }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, timeoutMs: 5_000 });
    let hookSignal: AbortSignal | undefined;
    const started = Date.now();
    const error = (await calls
      .answer(CALL_ID, SDP, {
        timeoutMs: 300,
        afterPreAccept: ({ callId, signal }) => {
          expect(callId).toBe(CALL_ID);
          hookSignal = signal;
          return new Promise<void>(() => {}); // waits for ICE that never connects
        },
      })
      .catch((e: unknown) => e)) as WhatsAppTimeoutError;
    expect(error).toBeInstanceOf(WhatsAppTimeoutError);
    expect(error.step).toBe("after_pre_accept");
    expect(error.callTerminated).toBe(true);
    expect(hookSignal?.aborted).toBe(true);
    // 300 ms for the answer, then the terminate (60 ms), not 300 ms per step.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.requests.map((r) => (r.json as { action: string }).action)).toEqual(["pre_accept", "terminate"]);
  });

  it("the caller's abort during the hook ends the call and rejects with the caller's reason", async () => {
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url });
    const controller = new AbortController();
    const reason = new Error("caller hung up the bot");
    const error = await calls
      .answer(CALL_ID, SDP, {
        signal: controller.signal,
        afterPreAccept: () => {
          controller.abort(reason);
          return new Promise<void>(() => {});
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBe(reason);
    expect((error as { step?: string }).step).toBe("after_pre_accept");
    expect((error as { callTerminated?: boolean }).callTerminated).toBe(true);
    expect(server.requests.map((r) => (r.json as { action: string }).action)).toEqual(["pre_accept", "terminate"]);
  });
});

describe("answers that are 2xx but unusable", () => {
  it("a 200 whose body is not JSON gives WhatsAppResponseError, not a SyntaxError", async () => {
    server.setHandler(() => ({ status: 200, headers: { "content-type": "text/plain" }, body: "not json" }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url });
    const error = (await calls.terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppResponseError;
    expect(error).toBeInstanceOf(WhatsAppResponseError);
    expect(error.message).toBe("Graph API answered HTTP 200 on terminate with a body that is not JSON");
    expect(error.status).toBe(200);
    expect(error.callId).toBe(CALL_ID);
    expect(server.requests).toHaveLength(1);
  });

  it("an empty 200 gives WhatsAppResponseError", async () => {
    server.setHandler(() => ({ status: 200 }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url });
    const error = (await calls.reject(CALL_ID).catch((e: unknown) => e)) as WhatsAppResponseError;
    expect(error).toBeInstanceOf(WhatsAppResponseError);
    expect(error.message).toBe("Graph API answered HTTP 200 on reject with an empty body");
  });
});

describe("logger", () => {
  it("gets one summary per request with action, call id, status, attempt and duration", async () => {
    const lines: { level: string; message: string; details?: Record<string, unknown> }[] = [];
    const logger = Object.fromEntries(
      (["debug", "info", "warn", "error"] as const).map((level) => [level, (message: string, details?: Record<string, unknown>) => lines.push({ level, message, details })]),
    );
    server.setHandler((_request, index) => (index === 0 ? unavailable : { status: 200, body: { success: true } }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry, logger });
    await calls.terminate(CALL_ID);
    expect(lines.map((line) => [line.level, line.message.replace(/\d+ ms/, "N ms")])).toEqual([
      ["warn", "whatsapp-calling: terminate attempt 1 failed; retrying in N ms"],
      ["info", "whatsapp-calling: terminate → 200"],
    ]);
    expect(lines[1]!.details).toMatchObject({ action: "terminate", callId: CALL_ID, status: 200, attempt: 2, method: "POST" });
    expect(typeof lines[1]!.details!.durationMs).toBe("number");
  });

  it("a logger that throws does not break the call", async () => {
    const calls = createCallingClient({
      phoneNumberId: "1",
      accessToken: "t",
      baseUrl: server.url,
      logger: {
        info: () => {
          throw new Error("log sink down");
        },
      },
    });
    await expect(calls.terminate(CALL_ID)).resolves.toEqual({ messaging_product: "whatsapp", success: true });
  });
});
