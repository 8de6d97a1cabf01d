// Issue #5, redaction: the client and the webhook paths run with sentinel secrets, and every place a secret could
// surface is collected: logger calls (message and JSON of the details), thrown errors (message, stack,
// JSON.stringify, String, and the same for every `cause`), onRetry and onError arguments, and HTTP answers of the
// webhook endpoint. No sentinel may appear anywhere. The Graph stand-in is hostile on purpose: it echoes the
// Authorization header and the request body (with the SDP's ICE password) back in its error messages.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createCallingClient,
  WhatsAppApiError,
  WhatsAppNetworkError,
  WhatsAppTimeoutError,
  WhatsAppTokenError,
  WhatsAppValidationError,
  type CallingClient,
  type CallingClientOptions,
  type Logger,
} from "../../src/index.js";
import { toNodeListener } from "../../src/node.js";
import { signWebhookPayload } from "../../src/testing/index.js";
import {
  createWebhookHandler,
  parseWebhook,
  verifySignature,
  verifySubscription,
  type WebhookHandlerOptions,
  type WebhookRequestHandler,
} from "../../src/webhooks/index.js";
import { fixtureJson, fixtureText } from "../helpers/fixtures.js";
import { startGraphServer, type GraphServer, type Handler, type RecordedRequest } from "../helpers/graph-server.js";

// Every sentinel contains MARKER, so a truncated or partial copy is caught too.
const MARKER = "SNTNL";
const SECRETS = {
  accessToken: `EAAG${MARKER}access7f3a9c1d`,
  refreshedToken: `EAAG${MARKER}refreshed91b2e4`,
  appSecret: `appsecret${MARKER}current5d8e`,
  rotatedAppSecret: `appsecret${MARKER}previous2c4f`,
  verifyToken: `verify${MARKER}token6a1b`,
  icePassword: `icepwd${MARKER}0e7d9f3a`,
  sipPassword: `sippwd${MARKER}44aa1c`,
};

// The ICE password sits right after v=0, so that a copy truncated after a few hundred characters still has it.
const SDP_ANSWER =
  `v=0\r\na=ice-pwd:${SECRETS.icePassword}\r\no=- 3421584372253763061 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n` +
  "a=ice-ufrag:Zm9v\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n";
const SDP_OFFER = SDP_ANSWER.replace("3421584372253763061", "1000232105377530006");
// Breaks the Sdp schema (`^v=0`) while carrying the ICE password.
const BAD_SDP = `x=1\r\na=ice-pwd:${SECRETS.icePassword}\r\n`;
const CALL_ID = "wacid.redaction";
const USER = "15550123456";
const PHONE_NUMBER_ID = "117823401562387";

// ---------------------------------------------------------------------------------------------- the collector

interface Exposed {
  where: string;
  text: string;
}

interface LogLine {
  where: string;
  level: string;
  message: string;
  details: Record<string, unknown> | undefined;
}

/** Everything a secret could leak through, as text. */
class Exposure {
  readonly texts: Exposed[] = [];
  readonly logLines: LogLine[] = [];

  add(where: string, text: unknown) {
    this.texts.push({ where, text: typeof text === "string" ? text : String(text) });
  }

  logger(where: string): Logger & Required<Pick<Logger, "info">> {
    const line =
      (level: string) =>
      (message: string, details?: Record<string, unknown>): void => {
        this.logLines.push({ where, level, message, details });
        this.add(`${where} log ${level}`, `${message} ${JSON.stringify(details) ?? ""}`);
      };
    return { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") };
  }

  /** The error and its whole cause chain: message, stack, JSON.stringify, String. */
  addError(where: string, error: unknown, depth = 0): void {
    if (depth > 8) return;
    const at = depth === 0 ? where : `${where} cause#${depth}`;
    if (error instanceof Error) {
      this.add(`${at} message`, error.message);
      this.add(`${at} stack`, error.stack ?? "");
      this.add(`${at} String()`, String(error));
    }
    this.add(`${at} JSON.stringify`, safeStringify(error));
    // What console.error(error) and most loggers print: every own property, `body` included.
    this.add(`${at} util.inspect`, inspect(error, { depth: 8 }));
    if (error instanceof AggregateError) error.errors.forEach((inner, index) => this.addError(`${at} errors[${index}]`, inner, depth + 1));
    if (error !== null && typeof error === "object" && "cause" in error && error.cause !== undefined) {
      this.addError(where, error.cause, depth + 1);
    }
  }

  /** Runs the promise and collects its error; returns the error (undefined when it resolved). */
  async settle(where: string, pending: Promise<unknown> | (() => Promise<unknown>)): Promise<unknown> {
    try {
      await (typeof pending === "function" ? pending() : pending);
      return undefined;
    } catch (error) {
      this.addError(where, error);
      return error;
    }
  }
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch (error) {
    return `<unserialisable: ${(error as Error).message}>`;
  }
}

/** Fails with every place a sentinel was found; also fails when nothing was collected (the test must be able to fail). */
function expectClean(exposure: Exposure, { minLogLines = 1 } = {}) {
  expect(exposure.texts.length).toBeGreaterThan(0);
  expect(exposure.logLines.length).toBeGreaterThanOrEqual(minLogLines);
  const leaks = exposure.texts
    .filter(({ text }) => text.includes(MARKER))
    .map(({ where, text }) => {
      const names = Object.entries(SECRETS)
        .filter(([, secret]) => text.includes(secret))
        .map(([name]) => name);
      const at = text.indexOf(MARKER);
      return `${where} [${names.join(", ") || "partial"}]: …${text.slice(Math.max(0, at - 60), at + 40)}…`;
    });
  expect(leaks, `secrets leaked:\n${leaks.join("\n")}`).toEqual([]);
}

// ---------------------------------------------------------------------------------------------- the Graph stand-in

const success = { messaging_product: "whatsapp", success: true };
const settingsWithSipPassword = (() => {
  const settings = fixtureJson("api/settings.get.response.json");
  settings.calling.sip = {
    status: "ENABLED",
    servers: [{ hostname: "sip.example.com", port: 5061, sip_user_password: SECRETS.sipPassword }],
  };
  return settings;
})();

/** The right success answer for each endpoint. */
const succeed: Handler = (request) => {
  if (request.path.endsWith("/call_permissions")) return { status: 200, body: fixtureJson("api/call_permissions.get.response.json") };
  if (request.path.endsWith("/settings")) {
    return { status: 200, body: request.method === "GET" ? settingsWithSipPassword : fixtureJson("api/settings.post.response.json") };
  }
  if (request.path.endsWith("/messages")) return { status: 200, body: fixtureJson("api/messages.call_permission_request.response.json") };
  if ((request.json as { action?: string } | undefined)?.action === "connect") {
    return { status: 200, body: fixtureJson("api/calls.connect.response.json") };
  }
  return { status: 200, body: success };
};

/**
 * What a hostile server quotes back: the Authorization header only, or also the request body (with the SDP and
 * its ICE password) and the ICE password line alone, the way an SDP validation error might name the bad line.
 */
type Echo = "authorization" | "everything";

function echoText(request: RecordedRequest, echo: Echo): string {
  const authorization = `Authorization: ${request.headers.authorization ?? "none"}`;
  if (echo === "authorization") return `${authorization}; query: ${request.url}`;
  const iceLine = /a=ice-pwd:[^\r\n"\\]+/.exec(request.rawBody)?.[0] ?? "no ice line";
  return `${authorization}; bad line: ${iceLine}; body: ${request.rawBody}; query: ${request.url}`;
}

/** A Graph error whose message, details, user texts and trace id quote the request. */
function echoingError(request: RecordedRequest, status: number, code: number, echo: Echo = "authorization") {
  const text = echoText(request, echo);
  return {
    status,
    body: {
      error: {
        message: `(#${code}) Invalid parameter. ${text}`,
        type: "OAuthException",
        code,
        error_subcode: 2494010,
        error_user_title: `Rejected ${request.headers.authorization}`,
        error_user_msg: text,
        error_data: { messaging_product: "whatsapp", details: `SDP validation error: ${text}` },
        fbtrace_id: `trace ${request.headers.authorization}`,
        is_transient: status >= 500,
      },
    },
  };
}

const echoAsGraphError =
  (status: number, code: number, echo: Echo = "authorization"): Handler =>
  (request) =>
    echoingError(request, status, code, echo);

/** Not a Graph envelope: plain text quoting the request, as a broken proxy might answer. */
const echoAsText =
  (status: number, echo: Echo = "authorization"): Handler =>
  (request) => ({ status, headers: { "content-type": "text/plain" }, body: echoText(request, echo) });

/** JSON that is not a Graph envelope, quoting the request. */
const echoAsOtherJson =
  (status: number, echo: Echo = "authorization"): Handler =>
  (request) => ({
    status,
    body: { problem: { authorization: request.headers.authorization, ...(echo === "everything" ? { request: request.json } : {}) } },
  });

// ---------------------------------------------------------------------------------------------- client actions

type Action = { name: string; run: (calls: CallingClient) => Promise<unknown> };

const ACTIONS: Action[] = [
  { name: "preAccept", run: (calls) => calls.preAccept(CALL_ID, SDP_ANSWER) },
  { name: "accept", run: (calls) => calls.accept(CALL_ID, SDP_ANSWER, { bizOpaqueCallbackData: "order-1" }) },
  { name: "answer", run: (calls) => calls.answer(CALL_ID, SDP_ANSWER, { bizOpaqueCallbackData: "order-1" }) },
  { name: "reject", run: (calls) => calls.reject(CALL_ID) },
  { name: "terminate", run: (calls) => calls.terminate(CALL_ID) },
  { name: "connect", run: (calls) => calls.connect(USER, SDP_OFFER, { bizOpaqueCallbackData: "order-2" }) },
  { name: "getCallPermissions", run: (calls) => calls.getCallPermissions(USER) },
  { name: "getCallingSettings", run: (calls) => calls.getCallingSettings({ includeSipCredentials: true }) },
  { name: "updateCallingSettings", run: (calls) => calls.updateCallingSettings({ status: "ENABLED", call_icon_visibility: "DEFAULT" }) },
  { name: "sendCallPermissionRequest", run: (calls) => calls.sendCallPermissionRequest(USER, { bodyText: "May we call you?" }) },
  { name: "sendCallButton", run: (calls) => calls.sendCallButton(USER, { bodyText: "Call us", displayText: "Call" }) },
  {
    name: "raw accept",
    run: async (calls) => {
      const { error, response } = await calls.raw.POST("/{phone-number-id}/calls", {
        params: { path: { "phone-number-id": PHONE_NUMBER_ID } },
        body: { messaging_product: "whatsapp", call_id: CALL_ID, action: "accept", session: { sdp_type: "answer", sdp: SDP_ANSWER } },
      });
      // raw hands the answer back as it came: it is the caller's to log or not; only the status is kept here.
      if (!response.ok) throw new Error(`raw accept answered ${response.status}${error ? " with an error body" : ""}`);
    },
  },
];

let graph: GraphServer;
beforeAll(async () => {
  graph = await startGraphServer(succeed);
});
afterAll(() => graph.close());
beforeEach(() => {
  graph.requests.length = 0;
  graph.setHandler(succeed);
});

function client(exposure: Exposure, where: string, options: Partial<CallingClientOptions> = {}): CallingClient {
  return createCallingClient({
    phoneNumberId: PHONE_NUMBER_ID,
    accessToken: SECRETS.accessToken,
    baseUrl: graph.url,
    timeoutMs: 2_000,
    retry: { retries: 2, minDelayMs: 1, maxDelayMs: 5 },
    logger: exposure.logger(where),
    onRetry: (info) => {
      exposure.add(`${where} onRetry info`, safeStringify({ ...info, cause: undefined }));
      exposure.addError(`${where} onRetry cause`, info.cause);
    },
    ...options,
  });
}

/** The secrets really went over the wire: otherwise a clean result would prove nothing. */
function expectSecretsSent(options: { token?: string; sdp?: boolean } = {}) {
  const token = options.token ?? SECRETS.accessToken;
  expect(graph.requests.some((request) => request.headers.authorization === `Bearer ${token}`)).toBe(true);
  if (options.sdp !== false) expect(graph.requests.some((request) => request.rawBody.includes(SECRETS.icePassword))).toBe(true);
}

describe("client: sentinel secrets never reach logs or errors", () => {
  it("the client object itself: util.inspect with every hidden and symbol-keyed property, getters called, shows no token", async () => {
    const deep = { showHidden: true, depth: Infinity, getters: true } as const;
    for (const accessToken of [SECRETS.accessToken, () => SECRETS.accessToken]) {
      const calls = createCallingClient({ phoneNumberId: PHONE_NUMBER_ID, accessToken, baseUrl: graph.url });
      await calls.terminate(CALL_ID);
      expectSecretsSent({ sdp: false });
      for (const shown of [inspect(calls, deep), inspect(calls.raw, deep), JSON.stringify(calls)]) expect(shown).not.toContain(SECRETS.accessToken);
    }
  });

  it("every action succeeding: summaries carry action, call id, status, attempt and duration, nothing else", async () => {
    const exposure = new Exposure();
    const calls = client(exposure, "success");
    for (const action of ACTIONS) {
      const error = await exposure.settle(action.name, () => action.run(calls));
      expect(error, action.name).toBeUndefined();
    }
    expectSecretsSent();
    // The SIP password did come back to the caller (it asked for it) but must not be in a log line.
    expect(JSON.stringify(await calls.getCallingSettings({ includeSipCredentials: true }))).toContain(SECRETS.sipPassword);

    const summaries = exposure.logLines.filter((line) => line.level === "info");
    // One per request: answer() is two of them.
    expect(summaries.length).toBe(ACTIONS.length + 1 + 1);
    const terminate = summaries.find((line) => line.details?.action === "terminate");
    expect(terminate?.details).toMatchObject({ action: "terminate", callId: CALL_ID, status: 200, attempt: 1 });
    for (const line of summaries) {
      expect(line.details).toMatchObject({ status: 200, attempt: 1 });
      expect(typeof line.details?.action).toBe("string");
      expect(typeof line.details?.durationMs).toBe("number");
    }
    for (const action of ["pre_accept", "accept", "reject", "terminate"]) {
      expect(summaries.some((line) => line.details?.action === action && line.details?.callId === CALL_ID), action).toBe(true);
    }
    expect(summaries.some((line) => line.details?.action === "connect")).toBe(true);
    expectClean(exposure, { minLogLines: ACTIONS.length });
  });

  for (const [label, handler] of [
    ["Graph error 400 (code 100) quoting the Authorization header", echoAsGraphError(400, 100)],
    ["Graph error 401 (code 190) quoting it, without refreshAccessToken", echoAsGraphError(401, 190)],
    ["Graph error 403 (code 10) quoting it", echoAsGraphError(403, 10)],
    ["plain-text 400 quoting it", echoAsText(400)],
    ["non-Graph JSON 400 quoting it", echoAsOtherJson(400)],
  ] as const) {
    it(`every action failing: ${label}`, async () => {
      graph.setHandler(handler);
      const exposure = new Exposure();
      const calls = client(exposure, label);
      for (const action of ACTIONS) {
        const error = await exposure.settle(action.name, () => action.run(calls));
        expect(error, action.name).toBeInstanceOf(Error);
        if (action.name !== "raw accept") expect(error, action.name).toBeInstanceOf(WhatsAppApiError);
      }
      expectSecretsSent();
      // The server really did quote the secrets: the redaction is what keeps them out.
      expect(graph.requests.length).toBeGreaterThanOrEqual(ACTIONS.length);
      expectClean(exposure);
    });
  }

  it("5xx and 429 answers quoting the Authorization header, retried until the attempts run out (onRetry causes included)", async () => {
    const exposure = new Exposure();
    const retried: unknown[] = [];
    graph.setHandler((request, index) =>
      index % 2 === 0 ? echoingError(request, 503, 2) : { ...echoingError(request, 429, 4), headers: { "retry-after": "0" } },
    );
    const calls = client(exposure, "5xx", { onRetry: (info) => retried.push(info) && exposure.addError("5xx onRetry cause", info.cause) });
    for (const action of ACTIONS) await exposure.settle(action.name, () => action.run(calls));
    expect(retried.length).toBeGreaterThan(0);
    expectSecretsSent();
    expect(exposure.logLines.some((line) => /retrying in/.test(line.message))).toBe(true);
    expectClean(exposure);
  });

  it("deadlines: answers slower than timeoutMs give WhatsAppTimeoutError without secrets", async () => {
    graph.setHandler((request) => ({ ...echoingError(request, 400, 100), delayMs: 400 }));
    const exposure = new Exposure();
    const calls = client(exposure, "timeout", { timeoutMs: 100 });
    for (const action of ACTIONS.filter((a) => a.name !== "raw accept")) {
      const error = await exposure.settle(action.name, () => action.run(calls));
      expect(error, action.name).toBeInstanceOf(WhatsAppTimeoutError);
    }
    // A stalled body after the headers, too.
    graph.setHandler(() => ({ status: 200, headers: { "content-type": "application/json" }, stallBody: true }));
    expect(await exposure.settle("stalled accept", () => calls.accept(CALL_ID, SDP_ANSWER))).toBeInstanceOf(WhatsAppTimeoutError);
    // answer(): pre_accept answers, accept and the follow-up terminate time out; the warning is a log line.
    graph.setHandler((request) =>
      (request.json as { action?: string }).action === "pre_accept" ? succeed(request, 0) : { ...echoingError(request, 400, 100), delayMs: 400 },
    );
    const answer = await exposure.settle("answer timing out at accept", () => calls.answer(CALL_ID, SDP_ANSWER));
    expect(answer).toBeInstanceOf(WhatsAppTimeoutError);
    expect((answer as WhatsAppTimeoutError).step).toBe("accept");
    expect(exposure.logLines.some((line) => line.message.includes("answer failed at accept"))).toBe(true);
    expectSecretsSent();
    expectClean(exposure, { minLogLines: 1 });
  });

  it("network resets, retried and not, give WhatsAppNetworkError without secrets", async () => {
    graph.setHandler(() => ({ reset: true }));
    const exposure = new Exposure();
    const calls = client(exposure, "reset");
    for (const action of ACTIONS.filter((a) => a.name !== "raw accept")) {
      const error = await exposure.settle(action.name, () => action.run(calls));
      expect(error, action.name).toBeInstanceOf(WhatsAppNetworkError);
    }
    expect(exposure.logLines.some((line) => line.message.includes("failed without an answer"))).toBe(true);
    expectSecretsSent();
    expectClean(exposure);
  });

  it("a caller's abort signal, before and during the request", async () => {
    graph.setHandler(() => ({ status: 200, body: success, delayMs: 300 }));
    const exposure = new Exposure();
    const calls = client(exposure, "abort");
    const controller = new AbortController();
    const pending = exposure.settle("aborted accept", () => calls.accept(CALL_ID, SDP_ANSWER, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 30);
    expect(await pending).toBeDefined();
    expect(await exposure.settle("pre-aborted connect", () => calls.connect(USER, SDP_OFFER, { signal: AbortSignal.abort() }))).toBeDefined();
    graph.setHandler(succeed);
    await exposure.settle("after abort", () => calls.terminate(CALL_ID));
    expectSecretsSent();
    expectClean(exposure);
  });

  it("token refresh that succeeds, then answers that echo the refreshed token", async () => {
    const exposure = new Exposure();
    let refreshes = 0;
    const calls = client(exposure, "refresh", {
      refreshAccessToken: async () => {
        refreshes += 1;
        return SECRETS.refreshedToken;
      },
    });
    // First 401 (190) for the old token, then success with the new one.
    graph.setHandler((request) =>
      request.headers.authorization === `Bearer ${SECRETS.refreshedToken}` ? succeed(request, 0) : echoingError(request, 401, 190),
    );
    for (const action of ACTIONS) expect(await exposure.settle(action.name, () => action.run(calls)), action.name).toBeUndefined();
    expect(refreshes).toBe(1);
    expectSecretsSent({ token: SECRETS.refreshedToken });
    expect(exposure.logLines.some((line) => line.message.includes("refreshing the access token"))).toBe(true);
    expectClean(exposure);
  });

  it("after a token refresh, an error answer that quotes the refreshed token (190 again, or a 400)", async () => {
    // A new client for each action: the first request after a refresh is the one that needs the new token redacted.
    const exposure = new Exposure();
    const refusedAgain = echoAsGraphError(401, 190);
    const refusedThen400: Handler = (request) =>
      request.headers.authorization === `Bearer ${SECRETS.refreshedToken}` ? echoingError(request, 400, 100) : echoingError(request, 401, 190);
    for (const [label, handler] of [["190 again", refusedAgain], ["400 after refresh", refusedThen400]] as const) {
      graph.setHandler(handler);
      for (const action of ACTIONS) {
        const calls = client(exposure, `${label} ${action.name}`, { refreshAccessToken: async () => SECRETS.refreshedToken });
        expect(await exposure.settle(`${label} ${action.name}`, () => action.run(calls)), action.name).toBeInstanceOf(Error);
      }
    }
    expectSecretsSent({ token: SECRETS.refreshedToken });
    expectClean(exposure);
  });

  it("token refresh that fails with an error quoting both tokens, or gives a malformed token", async () => {
    graph.setHandler(echoAsGraphError(401, 190));
    const exposure = new Exposure();
    const failing = client(exposure, "refresh-fails", {
      refreshAccessToken: async () => {
        throw new Error(`identity provider refused ${SECRETS.accessToken}, would have issued ${SECRETS.refreshedToken}`);
      },
    });
    for (const action of ACTIONS.filter((a) => a.name !== "raw accept")) {
      const error = await exposure.settle(action.name, () => action.run(failing));
      expect(error, action.name).toBeInstanceOf(WhatsAppTokenError);
    }
    const malformed = client(exposure, "refresh-malformed", { refreshAccessToken: async () => `${SECRETS.refreshedToken} with spaces\n` });
    expect(await exposure.settle("malformed refresh", () => malformed.terminate(CALL_ID))).toBeInstanceOf(WhatsAppTokenError);
    expectSecretsSent();
    expectClean(exposure);
  });

  it("a token function that throws or rejects with the token in its message, or returns a malformed token", async () => {
    const exposure = new Exposure();
    const sources: [string, CallingClientOptions["accessToken"]][] = [
      ["throws", () => {
        throw new Error(`vault lookup failed for ${SECRETS.accessToken}`);
      }],
      ["rejects", async () => {
        throw new TypeError(`token ${SECRETS.accessToken} is expired`);
      }],
      ["rejects with a string", () => Promise.reject(`token ${SECRETS.accessToken}`)],
      ["returns a token with a line break", () => `${SECRETS.accessToken}\r\nX-Injected: 1`],
      ["returns a token with a space", async () => `Bearer ${SECRETS.accessToken}`],
    ];
    for (const [name, accessToken] of sources) {
      const calls = client(exposure, `token ${name}`, { accessToken });
      for (const action of ACTIONS.filter((a) => a.name !== "raw accept")) {
        const error = await exposure.settle(`token ${name} ${action.name}`, () => action.run(calls));
        expect(error, `${name} ${action.name}`).toBeInstanceOf(WhatsAppTokenError);
      }
    }
    // setAccessToken and createCallingClient with a malformed token string.
    const calls = client(exposure, "setAccessToken");
    await exposure.settle("setAccessToken malformed", async () => calls.setAccessToken(`${SECRETS.refreshedToken}\n`));
    await exposure.settle("create with malformed token", async () => client(exposure, "create", { accessToken: ` ${SECRETS.accessToken} ` }));
    await exposure.settle("terminate after bad setAccessToken", () => calls.terminate(CALL_ID));
    expect(graph.requests.every((request) => request.headers.authorization === `Bearer ${SECRETS.accessToken}`)).toBe(true);
    expectClean(exposure, { minLogLines: 0 });
  });

  it("validation errors: a bad SDP (with the ICE password) in every SDP-carrying method, raw included", async () => {
    const exposure = new Exposure();
    const calls = client(exposure, "validation");
    const attempts: [string, () => Promise<unknown>][] = [
      ["preAccept", () => calls.preAccept(CALL_ID, BAD_SDP)],
      ["accept", () => calls.accept(CALL_ID, BAD_SDP)],
      ["answer", () => calls.answer(CALL_ID, BAD_SDP)],
      ["connect", () => calls.connect(USER, BAD_SDP)],
      ["accept with too-long opaque data", () => calls.accept(CALL_ID, SDP_ANSWER, { bizOpaqueCallbackData: `${SECRETS.icePassword}`.repeat(60) })],
      ["connect without a recipient", () => calls.connect({ to: "" } as never, SDP_OFFER)],
      ["accept with the call id in the SDP's place", () => calls.accept(SDP_ANSWER, 42 as never)],
    ];
    for (const [name, run] of attempts) {
      expect(await exposure.settle(name, run), name).toBeInstanceOf(WhatsAppValidationError);
    }
    expect(graph.requests).toHaveLength(0);
    // The same bad SDP through raw: not validated, so it reaches the server, which quotes the Authorization header.
    graph.setHandler(echoAsGraphError(400, 100));
    await exposure.settle("raw bad sdp", async () => {
      const { response } = await calls.raw.POST("/{phone-number-id}/calls", {
        params: { path: { "phone-number-id": PHONE_NUMBER_ID } },
        body: { messaging_product: "whatsapp", call_id: CALL_ID, action: "accept", session: { sdp_type: "answer", sdp: BAD_SDP } },
      });
      expect(response.status).toBe(400);
    });
    // Other option errors: the messages must not quote what they were given.
    await exposure.settle("bad baseUrl", async () => client(exposure, "bad baseUrl", { baseUrl: `not a url ${SECRETS.accessToken}` }));
    await exposure.settle("bad phone number id", async () => client(exposure, "bad id", { phoneNumberId: `x${SECRETS.accessToken}` }));
    await exposure.settle("bad apiVersion", async () => client(exposure, "bad version", { apiVersion: SECRETS.accessToken }));
    expectClean(exposure, { minLogLines: 1 });
  });

  it("Graph errors that quote the request body: the SDP's ICE password stays out of errors and onRetry causes", async () => {
    const exposure = new Exposure();
    const scenarios: [string, Handler, Partial<CallingClientOptions>][] = [
      ["Graph error 400", echoAsGraphError(400, 100, "everything"), {}],
      ["plain-text 400", echoAsText(400, "everything"), {}],
      ["non-Graph JSON 400", echoAsOtherJson(400, "everything"), {}],
      ["503 retried", echoAsGraphError(503, 2, "everything"), {}],
      ["401 then failed refresh", echoAsGraphError(401, 190, "everything"), { refreshAccessToken: () => Promise.reject(new Error("down")) }],
    ];
    for (const [label, handler, options] of scenarios) {
      graph.setHandler(handler);
      const calls = client(exposure, label, options);
      for (const action of ACTIONS) {
        expect(await exposure.settle(`${label} ${action.name}`, () => action.run(calls)), action.name).toBeInstanceOf(Error);
      }
    }
    graph.setHandler((request) =>
      (request.json as { action?: string }).action === "accept" ? echoingError(request, 400, 100, "everything") : succeed(request, 0),
    );
    expect(await exposure.settle("answer at accept", () => client(exposure, "answer").answer(CALL_ID, SDP_ANSWER))).toBeInstanceOf(WhatsAppApiError);
    expectSecretsSent();
    expectClean(exposure);
  });

  it("answer() failing at accept (echoing), with the follow-up terminate failing too, and failing at pre_accept", async () => {
    const exposure = new Exposure();
    const calls = client(exposure, "answer");
    graph.setHandler((request) => {
      const action = (request.json as { action?: string }).action;
      if (action === "accept") return echoingError(request, 400, 100);
      if (action === "terminate") return echoingError(request, 500, 1);
      return succeed(request, 0);
    });
    const atAccept = await exposure.settle("answer at accept", () => calls.answer(CALL_ID, SDP_ANSWER));
    expect((atAccept as WhatsAppApiError).step).toBe("accept");
    expect((atAccept as WhatsAppApiError).callTerminated).toBe(false);

    graph.setHandler((request) => ((request.json as { action?: string }).action === "accept" ? { reset: true } : succeed(request, 0)));
    const reset = await exposure.settle("answer reset at accept", () => calls.answer(CALL_ID, SDP_ANSWER));
    expect(reset).toBeInstanceOf(WhatsAppNetworkError);

    graph.setHandler(echoAsGraphError(400, 100));
    const atPreAccept = await exposure.settle("answer at pre_accept", () => calls.answer(CALL_ID, SDP_ANSWER));
    expect((atPreAccept as WhatsAppApiError).step).toBe("pre_accept");

    graph.setHandler(succeed);
    const hook = await exposure.settle("answer hook throws", () =>
      calls.answer(CALL_ID, SDP_ANSWER, {
        afterPreAccept: () => {
          throw new Error("ICE failed");
        },
      }),
    );
    expect((hook as { step?: string }).step).toBe("after_pre_accept");
    expectSecretsSent();
    expectClean(exposure);
  });
});

// ---------------------------------------------------------------------------------------------- webhooks

/** A connect delivery whose SDP carries the ICE password sentinel. */
function connectDelivery(sdp = SDP_OFFER, callId = "wacid.webhook-redaction"): string {
  const payload = fixtureJson("webhooks/calls.connect.user-initiated.json");
  payload.entry[0].changes[0].value.calls[0].session.sdp = sdp;
  payload.entry[0].changes[0].value.calls[0].id = callId;
  return JSON.stringify(payload);
}

interface WebhookCase {
  name: string;
  method: "GET" | "POST" | "PUT";
  query?: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
  /** undefined: no header; a function: computed from the body's bytes. */
  signature?: string | ((body: string | Uint8Array) => Promise<string>);
  expectStatus: number;
}

const signWith = (secret: string) => (body: string | Uint8Array) => signWebhookPayload(body, secret);

/** Payloads that break the schema where the offending value is (or holds) the SDP with the ICE password. */
function schemaBreakingDeliveries(): [string, string][] {
  const connect = () => fixtureJson("webhooks/calls.connect.user-initiated.json");
  const cases: [string, (payload: any) => void][] = [
    ["sdp in a list where a string belongs", (p) => (p.entry[0].changes[0].value.calls[0].session.sdp = [SDP_OFFER])],
    ["sdp as sdp_type, in a list", (p) => (p.entry[0].changes[0].value.calls[0].session.sdp_type = [SDP_OFFER])],
    ["sdp as timestamp", (p) => (p.entry[0].changes[0].value.calls[0].timestamp = SDP_OFFER)],
    ["an object holding the sdp as call id", (p) => (p.entry[0].changes[0].value.calls[0].id = { sdp: SDP_OFFER })],
    ["session as a string", (p) => (p.entry[0].changes[0].value.calls[0].session = SDP_OFFER)],
    ["sdp as metadata", (p) => (p.entry[0].changes[0].value.metadata = SDP_OFFER)],
    ["sdp as entry id (number expected as string)", (p) => (p.entry[0].id = [SDP_OFFER])],
    ["sdp as a field name", (p) => (p.entry[0].changes[0].field = 7) && (p.entry[0].changes[0][SDP_OFFER] = 1)],
    ["sdp as the top level", (p) => (p.entry = SDP_OFFER)],
  ];
  return cases.map(([name, mutate]) => {
    const payload = connect();
    mutate(payload);
    return [name, JSON.stringify(payload)];
  });
}

function webhookCases(): WebhookCase[] {
  const good = connectDelivery();
  return [
    { name: "GET right verify token", method: "GET", query: { "hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": SECRETS.verifyToken }, expectStatus: 200 },
    { name: "GET wrong verify token (the right one with a suffix)", method: "GET", query: { "hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": `${SECRETS.verifyToken}x` }, expectStatus: 403 },
    { name: "GET wrong verify token (a prefix of the right one)", method: "GET", query: { "hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": SECRETS.verifyToken.slice(0, -1) }, expectStatus: 403 },
    { name: "GET wrong mode", method: "GET", query: { "hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": SECRETS.verifyToken }, expectStatus: 400 },
    { name: "GET no token", method: "GET", query: { "hub.mode": "subscribe", "hub.challenge": "1" }, expectStatus: 400 },
    { name: "POST signed with the current secret", method: "POST", body: good, signature: signWith(SECRETS.appSecret), expectStatus: 200 },
    { name: "POST signed with the rotated (previous) secret", method: "POST", body: connectDelivery(SDP_OFFER, "wacid.rotated"), signature: signWith(SECRETS.rotatedAppSecret), expectStatus: 200 },
    { name: "POST duplicate delivery", method: "POST", body: good, signature: signWith(SECRETS.appSecret), expectStatus: 200 },
    { name: "POST missing signature", method: "POST", body: good, expectStatus: 401 },
    { name: "POST signed with another secret", method: "POST", body: good, signature: signWith(`${SECRETS.appSecret}-other`), expectStatus: 401 },
    { name: "POST signature header holding the app secret", method: "POST", body: good, signature: `sha256=${SECRETS.appSecret}`, expectStatus: 401 },
    { name: "POST signature header holding the verify token", method: "POST", body: good, signature: `${SECRETS.verifyToken}`, expectStatus: 401 },
    { name: "POST signature of a different body", method: "POST", body: good, signature: async () => signWebhookPayload(`${good} `, SECRETS.appSecret), expectStatus: 401 },
    { name: "POST bad JSON holding the ICE password", method: "POST", body: `{"entry": "a=ice-pwd:${SECRETS.icePassword}`, signature: signWith(SECRETS.appSecret), expectStatus: 400 },
    { name: "POST bad JSON after a valid prefix", method: "POST", body: `${good.slice(0, -2)} a=ice-pwd:${SECRETS.icePassword}`, signature: signWith(SECRETS.appSecret), expectStatus: 400 },
    { name: "POST not UTF-8", method: "POST", body: notUtf8(`{"x":"a=ice-pwd:${SECRETS.icePassword}`, `"}`), signature: signWith(SECRETS.appSecret), expectStatus: 400 },
    // A signed delivery is not refused for its shape (issue 10): broken items are delivered as invalid events, 200;
    // only a body without an entry array is answered 400.
    ...schemaBreakingDeliveries().map(([name, body]): WebhookCase => ({ name: `POST schema: ${name}`, method: "POST", body, signature: signWith(SECRETS.appSecret), expectStatus: name === "sdp as the top level" ? 400 : 200 })),
    { name: "POST handler throws with the SDP in its message", method: "POST", body: connectDelivery(SDP_OFFER, "wacid.throws-sdp"), signature: signWith(SECRETS.appSecret), expectStatus: 500 },
    { name: "POST handler throws a plain error", method: "POST", body: connectDelivery(SDP_OFFER, "wacid.throws-plain"), signature: signWith(SECRETS.appSecret), expectStatus: 500 },
    { name: "PUT", method: "PUT", body: good, signature: signWith(SECRETS.appSecret), expectStatus: 405 },
  ];
}

/** A handler with a logger and an onError that both feed the exposure; its event handlers throw for two call ids. */
function instrumentedHandler(exposure: Exposure, where: string, received: string[]): WebhookRequestHandler {
  const options: WebhookHandlerOptions = {
    appSecret: [SECRETS.appSecret, SECRETS.rotatedAppSecret],
    verifyToken: SECRETS.verifyToken,
    logger: exposure.logger(where),
    on: {
      "call.connect": (event) => {
        const sdp = event.data.session?.sdp ?? "";
        received.push(sdp);
        if (event.callId === "wacid.throws-sdp") throw new Error(`could not apply ${sdp}`);
        if (event.callId === "wacid.throws-plain") throw new RangeError("media server full");
      },
    },
    onError: (error, context) => {
      // The event is the caller's own data (it has the SDP by design); the error is what we passed on. An error
      // the handler itself built around the SDP is the application's, so only the plain one is collected.
      expect(context.event?.type).toBe("call.connect");
      if (!(error instanceof Error && error.message.startsWith("could not apply"))) exposure.addError(`${where} onError`, error);
      else exposure.add(`${where} onError (own error, not collected)`, "");
    },
  };
  return createWebhookHandler(options);
}

async function send(base: string, webhookCase: WebhookCase): Promise<Response> {
  const url = new URL("/webhooks/whatsapp", base);
  for (const [name, value] of Object.entries(webhookCase.query ?? {})) url.searchParams.set(name, value);
  const headers: Record<string, string> = { "content-type": "application/json" };
  const signature = typeof webhookCase.signature === "function" ? await webhookCase.signature(webhookCase.body ?? "") : webhookCase.signature;
  if (signature !== undefined) headers["x-hub-signature-256"] = signature;
  return fetch(url, { method: webhookCase.method, headers, ...(webhookCase.method === "GET" ? {} : { body: webhookCase.body }) });
}

/** Two texts joined by a 0xff byte, so that the whole is not UTF-8. */
function notUtf8(before: string, after: string): Uint8Array<ArrayBuffer> {
  const encoder = new TextEncoder();
  return new Uint8Array([...encoder.encode(before), 0xff, ...encoder.encode(after)]);
}

async function collectResponse(exposure: Exposure, where: string, response: Response) {
  exposure.add(`${where} response body`, await response.text());
  response.headers.forEach((value, name) => exposure.add(`${where} response header ${name}`, value));
}

describe("webhooks: sentinel secrets never reach logs, errors or answers", () => {
  it("createWebhookHandler with a logger: handshake, signatures, bad JSON, schema failures, throwing handlers", async () => {
    const exposure = new Exposure();
    const received: string[] = [];
    const handler = instrumentedHandler(exposure, "handler", received);
    for (const webhookCase of webhookCases()) {
      const url = new URL("http://127.0.0.1/webhooks/whatsapp");
      for (const [name, value] of Object.entries(webhookCase.query ?? {})) url.searchParams.set(name, value);
      const headers = new Headers({ "content-type": "application/json" });
      const signature = typeof webhookCase.signature === "function" ? await webhookCase.signature(webhookCase.body ?? "") : webhookCase.signature;
      if (signature !== undefined) headers.set("x-hub-signature-256", signature);
      const response = await handler(
        new Request(url, { method: webhookCase.method, headers, ...(webhookCase.method === "GET" ? {} : { body: webhookCase.body }) }),
      );
      expect(response.status, webhookCase.name).toBe(webhookCase.expectStatus);
      await collectResponse(exposure, webhookCase.name, response);
    }
    // The handlers did get the SDP (the deliveries were real), so its absence elsewhere means something.
    // (Some schema-breaking deliveries now reach the handler too, with the fixture's own SDP: only one item broke.)
    expect(received.filter((sdp) => sdp.includes(SECRETS.icePassword)).length).toBeGreaterThanOrEqual(4);
    expect(exposure.logLines.some((line) => line.message.includes("payload rejected"))).toBe(true);
    expect(exposure.logLines.some((line) => line.message.includes("delivered as an invalid event"))).toBe(true);
    expect(exposure.logLines.some((line) => line.message.includes("signature does not match"))).toBe(true);
    expect(exposure.logLines.some((line) => line.message.includes("subscription refused"))).toBe(true);
    expect(exposure.logLines.some((line) => line.message.includes("handler failed"))).toBe(true);
    expectClean(exposure, { minLogLines: webhookCases().length - 2 });
  });

  it("toNodeListener over real HTTP on 127.0.0.1: the same cases, answers included", async () => {
    const exposure = new Exposure();
    const received: string[] = [];
    const server: Server = createServer(toNodeListener(instrumentedHandler(exposure, "node", received)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const webhookCase of webhookCases()) {
        const response = await send(base, webhookCase);
        expect(response.status, webhookCase.name).toBe(webhookCase.expectStatus);
        await collectResponse(exposure, `node ${webhookCase.name}`, response);
      }
      // A body a framework already parsed: the listener's own 500 must not quote it.
      const parsed = createServer((req, res) => {
        Object.assign(req, { body: JSON.parse(connectDelivery()), _body: true });
        req.resume();
        req.on("end", () => toNodeListener(instrumentedHandler(exposure, "parsed", received))(req, res));
      });
      await new Promise<void>((resolve) => parsed.listen(0, "127.0.0.1", resolve));
      try {
        const body = connectDelivery();
        const response = await fetch(`http://127.0.0.1:${(parsed.address() as AddressInfo).port}/`, {
          method: "POST",
          headers: { "x-hub-signature-256": await signWebhookPayload(body, SECRETS.appSecret) },
          body,
        });
        expect(response.status).toBe(500);
        await collectResponse(exposure, "already parsed", response);
      } finally {
        parsed.closeAllConnections();
        await new Promise<void>((resolve) => parsed.close(() => resolve()));
      }
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(received.length).toBeGreaterThanOrEqual(4);
    expectClean(exposure, { minLogLines: webhookCases().length - 2 });
  });

  it("the building blocks: verifySubscription, verifySignature and parseWebhook errors", async () => {
    const exposure = new Exposure();
    exposure.logger("direct").info("direct calls, no logger of their own");
    const wrongToken = new URLSearchParams({ "hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": `${SECRETS.verifyToken}!` });
    await exposure.settle("verifySubscription wrong", async () => verifySubscription(wrongToken, SECRETS.verifyToken));
    await exposure.settle("verifySubscription empty configured", async () => verifySubscription(wrongToken, ""));
    const body = connectDelivery();
    for (const header of [`sha256=${SECRETS.appSecret}`, SECRETS.appSecret, undefined, "sha256=" + "0".repeat(64)]) {
      expect(await verifySignature(body, header, [SECRETS.appSecret, SECRETS.rotatedAppSecret])).toBe(false);
    }
    await exposure.settle("verifySignature no secret", () => verifySignature(body, "sha256=00", [] as string[]));
    for (const [name, delivery] of schemaBreakingDeliveries()) {
      const error = await exposure.settle(`parseWebhook ${name}`, async () => parseWebhook(delivery, { strict: true }));
      expect(error, name).toBeInstanceOf(Error);
      // Parsed JSON too, not only raw bytes.
      await exposure.settle(`parseWebhook parsed ${name}`, async () => parseWebhook(JSON.parse(delivery), { strict: true }));
      // By default the broken item is an invalid event: its path and message are the package's words (its data is
      // the application's own payload, by design).
      const events = await exposure.settle(`parseWebhook lenient ${name}`, async () => {
        for (const event of parseWebhook(delivery)) {
          if (event.type === "invalid") exposure.add(`parseWebhook invalid ${name}`, `${event.expected} ${event.path} ${event.pointer} ${event.message}`);
        }
      });
      if (name !== "sdp as the top level") expect(events, name).toBeUndefined();
    }
    await exposure.settle("parseWebhook bad JSON", async () => parseWebhook(`{"a": "a=ice-pwd:${SECRETS.icePassword}"`));
    expectClean(exposure);
  });

  it("a payload-controlled map key is not a schema name: a key holding the ICE password stays out of the error", async () => {
    // request_uri_user_params is `additionalProperties: { type: string }`: its keys come from the payload.
    const payload = {
      object: "whatsapp_business_account",
      entry: [
        {
          id: "104996122399160",
          time: 1767268800,
          changes: [
            {
              field: "account_settings_update",
              value: {
                type: "phone_number_settings",
                phone_number_settings: {
                  phone_number_id: PHONE_NUMBER_ID,
                  calling: { sip: { servers: [{ hostname: "sip.example.com", request_uri_user_params: { [`a=ice-pwd:${SECRETS.icePassword}`]: 1 } }] } },
                },
              },
            },
          ],
        },
      ],
    };
    const exposure = new Exposure();
    exposure.logger("key").info("direct parse");
    const error = await exposure.settle("parseWebhook map key", async () => parseWebhook(JSON.stringify(payload), { strict: true }));
    expect(error).toBeInstanceOf(Error);
    const [event] = parseWebhook(JSON.stringify(payload));
    expect(event?.type).toBe("invalid");
    if (event?.type === "invalid") exposure.add("parseWebhook map key invalid event", `${event.path} ${event.pointer} ${event.message}`);
    expectClean(exposure);
  });
});

// Keeps the fixture import honest: the SDP of the shared fixture has its own ICE password, unrelated to ours.
it("the shared connect fixture carries an a=ice-pwd line, the shape the sentinel SDP copies", () => {
  expect(fixtureText("webhooks/calls.connect.user-initiated.json")).toMatch(/a=ice-pwd:/);
});
