// Issue 11, rows 9, 10 and 14: what a repeat may do when Meta processed the first attempt, a token refresh that
// never settles, and the budget of answer()'s clean-up terminate. The Graph stand-in keeps call state, so that a
// repeat of a processed action is refused the way Meta refuses it. No timing assertions: the deadlines are chosen
// so that the outcome is decided by logic (a request that never gets an answer), not by how fast the machine is.
import { describe, expect, it } from "vitest";
import { ANSWER_CLEANUP_TIMEOUT_MS, createCallingClient, WhatsAppApiError, WhatsAppTimeoutError } from "../../src/index.js";
import { fixtureJson } from "../helpers/fixtures.js";
import { useGraphServer, type RecordedRequest, type Reply } from "../helpers/graph-server.js";

const CALL_ID = "wacid.repeats";
const SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
const server = useGraphServer();
const fastRetry = { retries: 2, minDelayMs: 1, maxDelayMs: 2 };
const actionOf = (request: RecordedRequest) => (request.json as { action: string }).action;
const refusal = (text: string): Reply => ({ status: 400, body: { error: { message: `(#138008) ${text}`, type: "OAuthException", code: 138008 } } });

/**
 * A call's state on Meta's side: each action is processed once; the first time it is, the answer is lost
 * (`lose`: a 503 or a dropped connection); a repeat is refused, since the call is already in that state.
 */
function statefulGraph(lose: Reply, lossy: string[]) {
  const done = new Set<string>();
  return (request: RecordedRequest): Reply => {
    const action = actionOf(request);
    if (done.has(action)) return refusal(`call already ${action}ed`);
    done.add(action);
    return lossy.includes(action) ? lose : { status: 200, body: { messaging_product: "whatsapp", success: true } };
  };
}

const lost503: Reply = { status: 503, body: { error: { message: "Service temporarily unavailable", type: "OAuthException", code: 2, is_transient: true } } };
const dropped: Reply = { reset: true };

describe("row 14: a repeat after an attempt Meta processed (x-retry: success-if-done)", () => {
  for (const [label, lose] of [
    ["a 503", lost503],
    ["a dropped connection", dropped],
  ] as const) {
    it(`pre_accept, accept, reject and terminate: ${label}, then a refusal of the repeat, is success`, async () => {
      const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry });
      for (const [action, run] of [
        ["pre_accept", () => calls.preAccept(CALL_ID, SDP)],
        ["accept", () => calls.accept(CALL_ID, SDP)],
        ["reject", () => calls.reject(CALL_ID)],
        ["terminate", () => calls.terminate(CALL_ID)],
      ] as const) {
        server.requests.length = 0;
        server.setHandler(statefulGraph(lose, [action]));
        await expect(run(), action).resolves.toEqual({ success: true });
        expect(server.requests.map(actionOf), action).toEqual([action, action]);
      }
    });

    it(`answer(): pre_accept and accept each lost once (${label}); the call is answered, not ended`, async () => {
      server.setHandler(statefulGraph(lose, ["pre_accept", "accept"]));
      const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry });
      await expect(calls.answer(CALL_ID, SDP)).resolves.toEqual({ success: true });
      expect(server.requests.map(actionOf)).toEqual(["pre_accept", "pre_accept", "accept", "accept"]);
    });
  }

  it("a refusal of the first attempt is reported as it is (nothing was lost before it)", async () => {
    server.setHandler(() => refusal("SDP mismatch"));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry });
    const error = (await calls.accept(CALL_ID, SDP).catch((e: unknown) => e)) as WhatsAppApiError;
    expect(error).toBeInstanceOf(WhatsAppApiError);
    expect(error.code).toBe(138008);
    expect(server.requests).toHaveLength(1);
  });

  it("after a lost attempt, a 401, 403 or 429 to the repeat is no proof that it was done", async () => {
    for (const status of [401, 403, 429]) {
      server.requests.length = 0;
      server.setHandler((_request, index) =>
        index === 0 ? lost503 : { status, body: { error: { message: "(#10) no", type: "OAuthException", code: status === 429 ? 138009 : 10 } } },
      );
      const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry });
      const error = (await calls.terminate(CALL_ID).catch((e: unknown) => e)) as WhatsAppApiError;
      expect([status, error.status]).toEqual([status, status]);
    }
  });

  it("connect (x-idempotent: false) processed and then lost is not repeated", async () => {
    for (const lose of [lost503, dropped]) {
      server.requests.length = 0;
      server.setHandler(statefulGraph(lose, ["connect"]));
      const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, retry: fastRetry });
      await expect(calls.connect("15550123456", SDP.replace("m=audio", "a=setup:actpass\r\nm=audio"))).rejects.toBeDefined();
      expect(server.requests.map(actionOf)).toEqual(["connect"]);
    }
  });
});

describe("row 9: a refreshAccessToken that never settles", () => {
  it("is bounded by the request's deadline, and a later 401 refreshes again", async () => {
    const expired = fixtureJson("api/errors/error.190.invalid-access-token.json");
    server.setHandler((request) =>
      request.headers.authorization === "Bearer fresh" ? { status: 200, body: { success: true } } : { status: 401, body: expired },
    );
    let refreshes = 0;
    const calls = createCallingClient({
      phoneNumberId: "1",
      accessToken: "stale",
      baseUrl: server.url,
      timeoutMs: 300,
      // The first refresh hangs for ever; the second one works.
      refreshAccessToken: () => (++refreshes === 1 ? new Promise<string>(() => {}) : Promise.resolve("fresh")),
    });
    const first = await calls.terminate(CALL_ID).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(WhatsAppTimeoutError);
    await expect(calls.terminate(CALL_ID)).resolves.toEqual({ success: true });
    expect(refreshes).toBe(2);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(["Bearer stale", "Bearer stale", "Bearer fresh"]);
  });
});

describe("row 10: answer()'s clean-up terminate has a budget of its own", () => {
  it(`a pre_accept and a terminate that never answer: answer() settles after its timeoutMs plus at most ${ANSWER_CLEANUP_TIMEOUT_MS} ms`, { timeout: 20_000 }, async () => {
    // Neither request is ever answered. The client's own deadline is ten minutes, beyond this test's 20 s: the
    // test can only pass if the terminate is bounded by ANSWER_CLEANUP_TIMEOUT_MS and not by the client's deadline.
    server.setHandler(() => ({ stallBody: true, status: 200 }));
    const calls = createCallingClient({ phoneNumberId: "1", accessToken: "t", baseUrl: server.url, timeoutMs: 600_000, retry: false });
    const error = (await calls.answer(CALL_ID, SDP, { timeoutMs: 200 }).catch((e: unknown) => e)) as WhatsAppTimeoutError;
    expect(error).toBeInstanceOf(WhatsAppTimeoutError);
    expect(error.step).toBe("pre_accept");
    expect(error.timeoutMs).toBe(200);
    expect(error.callTerminated).toBe(false);
    expect(server.requests.map(actionOf)).toEqual(["pre_accept", "terminate"]);
  });
});
