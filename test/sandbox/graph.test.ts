// The sandbox's Graph endpoints and webhooks without media: exact status codes and error envelopes (the
// catalogue's codes, calling-api.md §4), the state machine's refusals, the permission flow, and delivery as
// Meta does it (signatures, retries with backoff, deliberate re-delivery, terminate before connect).
import { afterEach, beforeEach, describe as suite, expect, it } from "vitest";
import { DEFAULT_API_VERSION, WhatsAppValidationError } from "../../src/index.js";
import { SandboxClosedError, SandboxTimeoutError, startSandbox, type Sandbox, type SandboxOptions } from "../../src/testing/index.js";
import { APP_SECRET, isEvent, isStatus, schemaErrors, signatureValid, startReceiver, until, type Receiver } from "./helpers.js";

let receiver: Receiver;
let sandbox: Sandbox;
const USER = "15550123456";
const OTHER = "15550199999";

async function start(options: Partial<SandboxOptions> = {}) {
  sandbox = await startSandbox({
    webhookUrl: receiver.url,
    appSecret: APP_SECRET,
    media: false,
    webhookRetryDelayMs: 20,
    users: {
      [USER]: { name: "Dana Okafor", pickUpDelayMs: 50 },
      [OTHER]: { permissionReply: "reject", pickUp: "decline", pickUpDelayMs: 50 },
    },
    ...options,
  });
}

beforeEach(async () => {
  receiver = await startReceiver();
});

afterEach(async () => {
  await sandbox?.close();
  await receiver.close();
});

async function graph(method: string, path: string, body?: unknown, token: string | null = sandbox.accessToken) {
  const response = await fetch(`${sandbox.url}/${DEFAULT_API_VERSION}/${sandbox.phoneNumberId}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const action = (name: string, callId: string, sdp?: string) => ({
  messaging_product: "whatsapp",
  call_id: callId,
  action: name,
  ...(sdp === undefined ? {} : { session: { sdp_type: "answer", sdp } }),
});

/** An answer a bot could send to the sandbox's offer: the offer's structure with its own credentials and a=setup:active. */
function answerTo(offer: string, changes: (sdp: string) => string = (sdp) => sdp): string {
  return changes(
    offer
      .replace(/^a=setup:actpass\r$/m, "a=setup:active\r")
      .replace(/^a=ice-ufrag:.*\r$/m, "a=ice-ufrag:botUfrag1\r")
      .replace(/^a=ice-pwd:.*\r$/m, "a=ice-pwd:botPasswordOfTwentyFourCh\r")
      .replace(/^a=ice-lite\r\n/m, ""),
  );
}

async function inboundCall() {
  const { callId } = await sandbox.simulateInboundCall({ from: USER });
  const connect = await receiver.next(isEvent("connect", callId));
  return { callId, offer: connect.item.session.sdp as string };
}

const errorOf = (code: number, details?: string | RegExp) =>
  expect.objectContaining({
    error: expect.objectContaining({
      code,
      type: "OAuthException",
      message: expect.any(String),
      fbtrace_id: expect.any(String),
      ...(details === undefined ? {} : { error_data: { messaging_product: "whatsapp", details: typeof details === "string" ? details : expect.stringMatching(details) } }),
    }),
  });

suite("authentication, paths and bodies", () => {
  beforeEach(() => start());

  it("answers 401 code 190 without the bearer token or with another one, and never echoes the token", async () => {
    for (const token of [null, "wrong-token"]) {
      const answer = await graph("GET", "/settings", undefined, token);
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: { message: "Invalid OAuth access token - Cannot parse access token", type: "OAuthException", code: 190, fbtrace_id: expect.any(String) } });
      expect(JSON.stringify(answer.body)).not.toContain("wrong-token");
    }
  });

  it("validates bodies with the generated validators: 400 code 100 naming the path of the problem", async () => {
    const missing = await graph("POST", "/calls", { messaging_product: "whatsapp", action: "accept", session: { sdp_type: "answer", sdp: "v=0\r\n" } });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual(errorOf(100, "Invalid parameter call_id: is required"));
    const wrongType = await graph("POST", "/calls", { messaging_product: "whatsapp", call_id: "wacid.x", action: "pre_accept", session: { sdp_type: "answer", sdp: 42 } });
    expect(wrongType.body).toEqual(errorOf(100, /^Invalid parameter session\.sdp: /));
    const action = await graph("POST", "/calls", { messaging_product: "whatsapp", action: "hold" });
    expect(action.body).toEqual(errorOf(100, "Invalid parameter action: must be one of connect, pre_accept, accept, reject, terminate"));
    const notJson = await graph("POST", "/calls", "{not json");
    expect(notJson.body).toEqual(errorOf(100, "The request body is not JSON"));
    const settings = await graph("POST", "/settings", { calling: { status: "ON" } });
    expect(settings.body).toEqual(errorOf(100, /^Invalid parameter calling\.status: /));
    // A query is checked as a body is, by the validator generated from the operation's parameters.
    const query = await graph("GET", "/call_permissions?user_wa_id=not-a-number");
    expect(query.status).toBe(400);
    expect(query.body).toEqual(errorOf(100, /^Invalid parameter user_wa_id: must match pattern/));
  });

  it("refuses call hours Meta refuses though the client sends them (time zone, order, overlaps, past holidays), and keeps valid ones", async () => {
    const hours = (change: Record<string, unknown>) => ({
      calling: {
        call_hours: {
          status: "ENABLED",
          timezone_id: "America/Sao_Paulo",
          weekly_operating_hours: [
            { day_of_week: "MONDAY", open_time: "0900", close_time: "1200" },
            { day_of_week: "MONDAY", open_time: "1300", close_time: "1800" },
          ],
          ...change,
        },
      },
    });
    const refusedWith = async (body: unknown, details: string | RegExp) => {
      const answer = await graph("POST", "/settings", body);
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual(errorOf(100, details));
    };
    await refusedWith(hours({ timezone_id: "Mars/Olympus_Mons" }), "Invalid parameter calling.call_hours.timezone_id: Mars/Olympus_Mons is not a time zone id (IANA, e.g. America/Sao_Paulo)");
    await refusedWith(
      hours({ weekly_operating_hours: [{ day_of_week: "TUESDAY", open_time: "1800", close_time: "0900" }] }),
      "Invalid parameter calling.call_hours.weekly_operating_hours[0]: opens at 1800, which is not before it closes (0900)",
    );
    await refusedWith(
      hours({
        weekly_operating_hours: [
          { day_of_week: "MONDAY", open_time: "0900", close_time: "1300" },
          { day_of_week: "TUESDAY", open_time: "0900", close_time: "1300" },
          { day_of_week: "MONDAY", open_time: "1200", close_time: "1800" },
        ],
      }),
      "Invalid parameter calling.call_hours.weekly_operating_hours[2]: overlaps weekly_operating_hours[0] on MONDAY",
    );
    await refusedWith(
      hours({ holiday_schedule: [{ date: "2020-01-01", start_time: "0000", end_time: "2359" }] }),
      /^Invalid parameter calling\.call_hours\.holiday_schedule\[0\]\.date: 2020-01-01 is in the past \(today is \d{4}-\d\d-\d\d\)$/,
    );
    await refusedWith(
      hours({ holiday_schedule: [{ date: "2999-12-24", start_time: "1400", end_time: "1000" }] }),
      "Invalid parameter calling.call_hours.holiday_schedule[0]: starts at 1400, which is not before it ends (1000)",
    );
    expect((await graph("GET", "/settings")).body.calling.call_hours).toBeUndefined();
    // Windows that touch do not overlap; the same hours on another day do not either.
    const valid = hours({
      weekly_operating_hours: [
        { day_of_week: "MONDAY", open_time: "0900", close_time: "1200" },
        { day_of_week: "MONDAY", open_time: "1200", close_time: "1800" },
        { day_of_week: "TUESDAY", open_time: "0900", close_time: "1800" },
      ],
      holiday_schedule: [{ date: "2999-12-24", start_time: "1000", end_time: "1400" }],
    });
    expect(await graph("POST", "/settings", valid)).toEqual({ status: 200, body: { success: true } });
    expect((await graph("GET", "/settings")).body.calling.call_hours).toEqual(valid.calling.call_hours);
  });

  it("refuses another phone-number id, an unknown endpoint and a path without a version", async () => {
    const other = await fetch(`${sandbox.url}/${DEFAULT_API_VERSION}/999/settings`, { headers: { authorization: `Bearer ${sandbox.accessToken}` } });
    expect(other.status).toBe(400);
    expect(await other.json()).toEqual(errorOf(100, /Object with ID '999' does not exist/));
    expect((await graph("GET", "/media")).body).toEqual(errorOf(100, /not a calling endpoint/));
    const noVersion = await fetch(`${sandbox.url}/${sandbox.phoneNumberId}/calls`, { headers: { authorization: `Bearer ${sandbox.accessToken}` } });
    expect(noVersion.status).toBe(400);
  });

  it("keeps the calling settings, and refuses calls with 138000 while calling is disabled", async () => {
    expect((await graph("GET", "/settings")).body).toEqual({ calling: { status: "ENABLED", call_icon_visibility: "DEFAULT", callback_permission_status: "ENABLED" } });
    expect(await graph("POST", "/settings", { calling: { status: "DISABLED" } })).toEqual({ status: 200, body: { success: true } });
    expect((await graph("GET", "/settings")).body.calling.status).toBe("DISABLED");
    const update = await receiver.next((d) => d.field === "account_settings_update");
    expect(update.json.entry[0].changes[0].value).toEqual({
      messaging_product: "whatsapp",
      timestamp: expect.stringMatching(/^\d+$/),
      type: "phone_number_settings",
      phone_number_settings: { phone_number_id: sandbox.phoneNumberId, calling: { status: "DISABLED", call_icon_visibility: "DEFAULT", callback_permission_status: "ENABLED" } },
    });
    expect(signatureValid(update.rawBody, update.headers["x-hub-signature-256"] as string)).toBe(true);
    expect(schemaErrors(update.json)).toBeNull();
    const { callId, offer } = await inboundCall();
    const refused = await graph("POST", "/calls", action("accept", callId, answerTo(offer)));
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual(errorOf(138000));
  });
});

suite("account_settings_update", () => {
  beforeEach(() => start());

  it("is sent for a change of a setting Meta reports (x-reported-changes), and for no other update", async () => {
    const unreported = [
      { calling: { status: "ENABLED" } }, // as it is already
      { calling: { audio: { additional_codecs: ["PCMU"] } } },
      { calling: { call_icons: { restrict_to_user_countries: ["US"] } } },
      { calling: { call_hours: { status: "DISABLED" } } },
      { calling: { voicemail: { status: "DISABLED" } } },
    ];
    for (const body of unreported) expect([body, await graph("POST", "/settings", body)]).toEqual([body, { status: 200, body: { success: true } }]);
    expect(await graph("POST", "/settings", { calling: { srtp_key_exchange_protocol: "SDES" } })).toEqual({ status: 200, body: { success: true } });
    const update = await receiver.next((d) => d.field === "account_settings_update");
    expect(update.json.entry[0].changes[0].value.phone_number_settings.calling.srtp_key_exchange_protocol).toBe("SDES");
    expect(receiver.received.filter((d) => d.field === "account_settings_update")).toHaveLength(1);
  });
});

suite("SIP", () => {
  beforeEach(() => start());

  it("makes a new SIP password once the server is deleted (Meta's reset: servers [] then the server again)", async () => {
    const sip = { status: "ENABLED", servers: [{ hostname: "sip.example.com" }] };
    const password = async () => (await graph("GET", "/settings?include_sip_credentials=true")).body.calling.sip.servers[0].sip_user_password as string;
    expect(await graph("POST", "/settings", { calling: { sip } })).toEqual({ status: 200, body: { success: true } });
    const first = await password();
    expect(await graph("POST", "/settings", { calling: { sip: { status: "DISABLED" } } })).toEqual({ status: 200, body: { success: true } });
    expect(await graph("POST", "/settings", { calling: { sip } })).toEqual({ status: 200, body: { success: true } });
    expect(await password()).toBe(first);
    expect(await graph("POST", "/settings", { calling: { status: "DISABLED", sip: { status: "DISABLED", servers: [] } } })).toEqual({ status: 200, body: { success: true } });
    expect(await graph("POST", "/settings", { calling: { status: "ENABLED", sip } })).toEqual({ status: 200, body: { success: true } });
    const second = await password();
    expect(second).toMatch(/^sandbox-sip-/);
    expect(second).not.toBe(first);
  });

  it("while SIP is enabled, refuses every /calls action with 131055 and sends a user's call as call_created only; its password only on request", async () => {
    const { callId: before } = await inboundCall();
    const sip = { status: "ENABLED", servers: [{ hostname: "sip.example.com" }] };
    expect(await graph("POST", "/settings", { calling: { sip } })).toEqual({ status: 200, body: { success: true } });
    const server = { app_id: expect.stringMatching(/^\d+$/), hostname: "sip.example.com", port: 5061 };
    expect((await graph("GET", "/settings")).body.calling.sip).toEqual({ status: "ENABLED", servers: [server] });
    const withCredentials = (await graph("GET", "/settings?include_sip_credentials=true")).body.calling.sip;
    expect(withCredentials).toEqual({ status: "ENABLED", servers: [{ ...server, sip_user_password: expect.stringMatching(/^sandbox-sip-/) }] });

    const refused = await graph("POST", "/calls", action("terminate", before));
    expect(refused).toEqual({ status: 400, body: errorOf(131055, "Graph API calling is not allowed on a number configured for SIP: disable calling.sip to use /calls") });
    const connect = await graph("POST", "/calls", { messaging_product: "whatsapp", to: USER, action: "connect", session: { sdp_type: "offer", sdp: sandbox.offerWithoutMedia() } });
    expect(connect.status).toBe(400);
    expect(connect.body.error.code).toBe(131055);

    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    const created = await receiver.next(isEvent("call_created", callId));
    expect(created.item).toEqual({ id: callId, from: USER, to: sandbox.displayPhoneNumber, event: "call_created", timestamp: expect.stringMatching(/^\d+$/), direction: "USER_INITIATED" });
    expect(schemaErrors(created.json)).toBeNull();
    expect(signatureValid(created.rawBody, created.headers["x-hub-signature-256"] as string)).toBe(true);
    expect(sandbox.call(callId)?.state).toBe("ended");
    await sandbox.deliveriesSettled();
    expect(receiver.received.filter((delivery) => delivery.item?.id === callId).map((delivery) => delivery.item.event)).toEqual(["call_created"]);
    // The password is a secret: no event or delivery carries it.
    const password = withCredentials.servers[0].sip_user_password as string;
    expect(JSON.stringify(sandbox.events)).not.toContain(password);
    expect(receiver.received.map((delivery) => delivery.rawBody).join("")).not.toContain(password);

    // Disabling SIP keeps its servers, and /calls works again.
    await graph("POST", "/settings", { calling: { sip: { status: "DISABLED" } } });
    expect((await graph("GET", "/settings")).body.calling.sip).toEqual({ status: "DISABLED", servers: [server] });
    expect(await graph("POST", "/calls", action("terminate", before))).toEqual({ status: 200, body: { messaging_product: "whatsapp", success: true } });
  });
});

suite("user-initiated calls", () => {
  beforeEach(() => start({ ringingTimeoutMs: 800 }));

  it("pre_accept then accept with the same answer; terminate ends the call COMPLETED with its times", async () => {
    const { callId, offer } = await inboundCall();
    const answer = answerTo(offer);
    expect(await graph("POST", "/calls", action("pre_accept", callId, answer))).toEqual({ status: 200, body: { messaging_product: "whatsapp", success: true } });
    expect(sandbox.call(callId)?.state).toBe("pre_accepted");
    expect(await graph("POST", "/calls", action("accept", callId, answer))).toEqual({ status: 200, body: { messaging_product: "whatsapp", success: true } });
    // A retried accept with the same SDP is not an error.
    expect((await graph("POST", "/calls", action("accept", callId, answer))).status).toBe(200);
    expect((await graph("POST", "/calls", action("terminate", callId))).status).toBe(200);
    const terminate = await receiver.next(isEvent("terminate", callId));
    expect(terminate.item).toMatchObject({ status: "COMPLETED", start_time: expect.stringMatching(/^\d+$/), end_time: expect.stringMatching(/^\d+$/), duration: expect.any(Number) });
    expect(schemaErrors(terminate.json)).toBeNull();
  });

  it("answerWithoutMedia: an answer a bot with no WebRTC stack can send, which the sandbox takes without a warning", async () => {
    const { callId, offer } = await inboundCall();
    const answer = sandbox.answerWithoutMedia(offer);
    const lines = answer.split("\r\n");
    expect(lines).toContain("a=setup:active");
    expect(lines).not.toContain("a=ice-lite");
    expect(lines.find((line) => line.startsWith("m=audio"))).toBe("m=audio 3484 UDP/TLS/RTP/SAVPF 111 126");
    expect(lines).toEqual(expect.arrayContaining(["a=rtpmap:111 opus/48000/2", "a=rtpmap:126 telephone-event/8000", "a=mid:audio", "a=rtcp-mux", "a=sendrecv"]));
    const credentials = (sdp: string) => sdp.split("\r\n").filter((line) => /^a=(ice-ufrag|ice-pwd|fingerprint):/.test(line));
    expect(credentials(answer)).toHaveLength(3);
    expect(credentials(answer).filter((line) => credentials(offer).includes(line))).toEqual([]);
    // A second call gets other credentials.
    expect(credentials(sandbox.answerWithoutMedia(offer))).not.toEqual(credentials(answer));
    expect(await graph("POST", "/calls", action("pre_accept", callId, answer))).toEqual({ status: 200, body: { messaging_product: "whatsapp", success: true } });
    expect(await graph("POST", "/calls", action("accept", callId, answer))).toEqual({ status: 200, body: { messaging_product: "whatsapp", success: true } });
    expect(sandbox.call(callId)).toMatchObject({ state: "accepted", warnings: [] });
  });

  it("answerWithoutMedia refuses what is not the user's offer, with a WhatsAppValidationError on offer", async () => {
    const { offer } = await inboundCall();
    const refusal = (value: unknown) => {
      try {
        sandbox.answerWithoutMedia(value as string);
      } catch (error) {
        expect(error).toBeInstanceOf(WhatsAppValidationError);
        return { message: (error as WhatsAppValidationError).message, path: (error as WhatsAppValidationError).path };
      }
      throw new Error("expected a refusal");
    };
    const prefix = "answerWithoutMedia: pass the user's SDP offer (the connect webhook's session.sdp); ";
    expect(refusal(sandbox.answerWithoutMedia(offer))).toEqual({ message: `${prefix}SDP validation error: an offer must say a=setup:actpass (found active)`, path: "offer" });
    expect(refusal(42)).toEqual({ message: `${prefix}it is not a string`, path: "offer" });
    expect(refusal("")).toEqual({ message: `${prefix}SDP validation error: session.sdp is not an SDP (it must start with v=0)`, path: "offer" });
  });

  it("refuses an accept whose SDP differs from pre_accept's, an SDP without a=fingerprint, the offer sent back, and an unknown call id", async () => {
    const { callId, offer } = await inboundCall();
    const answer = answerTo(offer);
    const noFingerprint = await graph("POST", "/calls", action("pre_accept", callId, answerTo(offer, (sdp) => sdp.replace(/^a=fingerprint:.*\r\n/m, ""))));
    expect(noFingerprint.status).toBe(400);
    expect(noFingerprint.body).toEqual(errorOf(100, "No fingerprint found in SDP"));
    const echoed = await graph("POST", "/calls", action("pre_accept", callId, offer));
    expect(echoed.body).toEqual(errorOf(100, /^Invalid parameter session\.sdp: is an SDP offer \(a=setup:actpass\)/));
    // The other way round: an answer sent as connect's offer.
    const answerAsOffer = await graph("POST", "/calls", { messaging_product: "whatsapp", to: USER, action: "connect", session: { sdp_type: "offer", sdp: answer } });
    expect([answerAsOffer.status, answerAsOffer.body]).toEqual([400, errorOf(100, /^Invalid parameter session\.sdp: is an SDP answer \(a=setup:active or passive\)/)]);
    expect((await graph("POST", "/calls", action("pre_accept", callId, answer))).status).toBe(200);
    const differs = await graph("POST", "/calls", action("accept", callId, answerTo(offer, (sdp) => sdp.replace("botUfrag1", "botUfrag2"))));
    expect(differs.body).toEqual(errorOf(100, "SDP answer provided in accept does not match the SDP answer given in the Pre-Accept endpoint"));
    const other = await inboundCall();
    const noCodec2 = answerTo(other.offer, (sdp) => sdp.replace(/111 126/, "0").replace(/^a=rtpmap:111 .*\r\n/m, "a=rtpmap:0 PCMU/8000\r\n").replace(/^a=rtpmap:126 .*\r\n/m, ""));
    expect((await graph("POST", "/calls", action("pre_accept", other.callId, noCodec2))).body).toEqual(errorOf(100, /the answer has no codec of the offer/));
    const unknown = await graph("POST", "/calls", action("accept", "wacid.UNKNOWN", answer));
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual(errorOf(100, "Invalid call_id: no call wacid.UNKNOWN on this phone number"));
    const noCodec = await graph("POST", "/calls", action("accept", callId, answerTo(offer, (sdp) => sdp.replace(/111 126/, "0").replace(/^a=rtpmap:111 .*\r\n/m, "a=rtpmap:0 PCMU/8000\r\n").replace(/^a=rtpmap:126 .*\r\n/m, ""))));
    expect(noCodec.body).toEqual(errorOf(100, "SDP answer provided in accept does not match the SDP answer given in the Pre-Accept endpoint"));
  });

  it("refuses steps out of order: accept after reject, reject after accept, terminate after the end", async () => {
    const first = await inboundCall();
    expect((await graph("POST", "/calls", action("reject", first.callId))).status).toBe(200);
    const rejected = await receiver.next(isEvent("terminate", first.callId));
    expect(rejected.item.status).toBe("REJECTED");
    expect(rejected.item.start_time).toBeUndefined();
    const late = await graph("POST", "/calls", action("accept", first.callId, answerTo(first.offer)));
    expect(late.body).toEqual(errorOf(100, "accept is out of order: the call has already ended (rejected by the business)"));
    expect((await graph("POST", "/calls", action("terminate", first.callId))).body).toEqual(errorOf(100, /terminate is out of order/));

    const second = await inboundCall();
    expect((await graph("POST", "/calls", action("accept", second.callId, answerTo(second.offer)))).status).toBe(200);
    expect((await graph("POST", "/calls", action("reject", second.callId))).body).toEqual(errorOf(100, "reject is out of order: the call is accepted"));
    expect((await graph("POST", "/calls", action("pre_accept", second.callId, answerTo(second.offer)))).body).toEqual(errorOf(100, "pre_accept is out of order: the call is accepted"));
  });

  it("ends a call nobody answers FAILED when the ringing window ends", async () => {
    const { callId } = await inboundCall();
    const terminate = await receiver.next(isEvent("terminate", callId));
    expect(terminate.item).toMatchObject({ status: "FAILED", direction: "USER_INITIATED" });
    expect(terminate.item.duration).toBeUndefined();
    expect(sandbox.call(callId)?.end?.reason).toMatch(/not answered/);
  });

  it("ends a call with 138021 when the user's client times out on media, the error at both levels as Meta sends it", async () => {
    const { callId, offer } = await inboundCall();
    await graph("POST", "/calls", action("accept", callId, answerTo(offer)));
    await sandbox.simulateMediaTimeout(callId);
    const terminate = await receiver.next(isEvent("terminate", callId));
    const error = { code: 138021, title: "Media receive timeout", message: "Media receive timeout", href: expect.any(String), error_data: { details: expect.stringContaining("not receiving any media") } };
    expect(terminate.item).toMatchObject({ status: "FAILED", errors: [error], start_time: expect.any(String) });
    expect(terminate.json.entry[0].changes[0].value.errors).toEqual([error]);
    expect(schemaErrors(terminate.json)).toBeNull();
  });

  it("can deliver the terminate before its connect, as Meta may", async () => {
    const { callId } = await sandbox.simulateInboundCall({ from: USER, terminateBeforeConnect: true });
    await receiver.next(isEvent("connect", callId));
    const order = receiver.received.filter((d) => d.item?.id === callId).map((d) => d.item.event);
    expect(order).toEqual(["terminate", "connect"]);
    const offer = receiver.received.find(isEvent("connect", callId))!.item.session.sdp;
    expect((await graph("POST", "/calls", action("accept", callId, answerTo(offer)))).body).toEqual(errorOf(100, /accept is out of order: the call has already ended/));
  });
});

suite("business-initiated calls and permissions", () => {
  beforeEach(() => start({ businessInitiatedCallLimit: 1 }));
  const connect = (to: string, extra: object = {}) =>
    graph("POST", "/calls", { messaging_product: "whatsapp", to, action: "connect", session: { sdp_type: "offer", sdp: offerSdp }, ...extra });
  let offerSdp = "";
  beforeEach(async () => {
    // A business's offer: the structure of a browser's, a=setup:actpass, its own credentials.
    const { callId, offer } = await inboundCall();
    await sandbox.hangUp(callId);
    offerSdp = offer.replace(/^a=ice-lite\r\n/m, "").replace(/^a=ice-ufrag:.*\r$/m, "a=ice-ufrag:bizUfrag\r");
  });
  const permissionRequest = (to: string) =>
    graph("POST", "/messages", { messaging_product: "whatsapp", recipient_type: "individual", to, type: "interactive", interactive: { type: "call_permission_request", action: { name: "call_permission_request" }, body: { text: "May we call?" } } });

  it("refuses a call without permission (138006), grants one on request, then limits calls (138003, 138012)", async () => {
    const refused = await connect(USER);
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual(errorOf(138006));
    expect((await graph("GET", `/call_permissions?user_wa_id=${USER}`)).body.permission).toEqual({ status: "no_permission" });

    const sent = await permissionRequest(USER);
    expect(sent).toEqual({ status: 200, body: { messaging_product: "whatsapp", contacts: [{ input: USER, wa_id: USER }], messages: [{ id: expect.stringMatching(/^wamid\./) }] } });
    const reply = await receiver.next((d) => d.item?.interactive?.type === "call_permission_reply");
    expect(reply.item.context.id).toBe(sent.body.messages[0].id);
    expect(reply.json.entry[0].changes[0].value.contacts).toEqual([{ profile: { name: "Dana Okafor" }, wa_id: USER }]);
    expect(schemaErrors(reply.json)).toBeNull();
    const permission = (await graph("GET", `/call_permissions?user_wa_id=${USER}`)).body;
    expect(permission.permission).toEqual({ status: "temporary", expiration_time: expect.any(Number) });
    expect((await permissionRequest(USER)).body).toEqual(errorOf(138009));

    const placed = await connect(USER, { biz_opaque_callback_data: "case-9" });
    expect(placed).toEqual({ status: 200, body: { messaging_product: "whatsapp", calls: [{ id: expect.stringMatching(/^wacid\./) }] } });
    const callId = placed.body.calls[0].id;
    expect((await connect(USER)).body).toEqual(errorOf(138003));
    await receiver.next(isStatus("ACCEPTED", callId));
    expect((await graph("POST", "/calls", action("terminate", callId))).status).toBe(200);
    await receiver.next(isEvent("terminate", callId));
    const limited = await connect(USER);
    expect(limited.status).toBe(400);
    expect(limited.body).toEqual(errorOf(138012, /the next call is allowed at \d+/));
    // pre_accept and accept are for user-initiated calls only.
    const answer = offerSdp.replace(/^a=setup:actpass\r$/m, "a=setup:active\r");
    expect((await graph("POST", "/calls", action("accept", callId, answer))).body).toEqual(errorOf(100, "accept is not possible on a business-initiated call"));
  });

  it("offerWithoutMedia: an offer a bot with no WebRTC stack can place a call with", async () => {
    const offer = sandbox.offerWithoutMedia();
    const lines = offer.split("\r\n");
    expect(lines).toEqual(expect.arrayContaining(["a=setup:actpass", "a=rtpmap:111 opus/48000/2", "a=rtpmap:126 telephone-event/8000"]));
    expect(lines).not.toContain("a=ice-lite");
    await permissionRequest(USER);
    await receiver.next((d) => d.item?.interactive?.type === "call_permission_reply");
    const placed = await graph("POST", "/calls", { messaging_product: "whatsapp", to: USER, action: "connect", session: { sdp_type: "offer", sdp: offer } });
    expect(placed).toEqual({ status: 200, body: { messaging_product: "whatsapp", calls: [{ id: expect.stringMatching(/^wacid\./) }] } });
    const callId = placed.body.calls[0].id;
    const connect = await receiver.next(isEvent("connect", callId));
    expect(connect.item.session.sdp_type).toBe("answer");
    await receiver.next(isStatus("ACCEPTED", callId));
    expect(sandbox.call(callId)).toMatchObject({ state: "accepted", warnings: [] });
  });

  it("the same SDPs over HTTP for a bot in another process: POST /sandbox/answer-without-media, GET /sandbox/offer-without-media", async () => {
    const sdpRequest = (method: string, name: string, body?: string, token: string | null = sandbox.accessToken) =>
      fetch(`${sandbox.url}/sandbox/${name}`, { method, body, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    const offer: string = (await receiver.next(isEvent("connect", callId))).item.session.sdp;
    const answered = await sdpRequest("POST", "answer-without-media", offer);
    expect(answered.status).toBe(200);
    expect(answered.headers.get("content-type")).toBe("application/sdp");
    const answer = await answered.text();
    const lines = answer.split("\r\n");
    expect(lines).toEqual(expect.arrayContaining(["a=setup:active", "a=rtpmap:111 opus/48000/2", expect.stringMatching(/^a=ice-pwd:\S{22,}$/), expect.stringMatching(/^a=fingerprint:sha-256 /)]));
    expect(lines).not.toContain("a=ice-lite");
    const session = { sdp_type: "answer", sdp: answer };
    expect(await graph("POST", "/calls", { messaging_product: "whatsapp", call_id: callId, action: "pre_accept", session })).toEqual({ status: 200, body: { messaging_product: "whatsapp", success: true } });
    expect(await graph("POST", "/calls", { messaging_product: "whatsapp", call_id: callId, action: "accept", session })).toEqual({ status: 200, body: { messaging_product: "whatsapp", success: true } });
    expect(sandbox.call(callId)).toMatchObject({ state: "accepted", warnings: [] });

    const offered = await sdpRequest("GET", "offer-without-media");
    expect(offered.status).toBe(200);
    expect((await offered.text()).split("\r\n")).toEqual(expect.arrayContaining(["a=setup:actpass", "a=rtpmap:126 telephone-event/8000"]));

    const notAnOffer = await sdpRequest("POST", "answer-without-media", answer);
    expect(notAnOffer.status).toBe(400);
    expect(await notAnOffer.json()).toEqual(errorOf(100, /^The body must be the user's SDP offer \(the connect webhook's session\.sdp\): /));
    const unknown = await sdpRequest("GET", "answer-without-media");
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual(errorOf(100, /^Unknown sandbox path GET \/sandbox\/answer-without-media/));
    expect((await sdpRequest("GET", "offer-without-media", undefined, null)).status).toBe(401);
    expect(sandbox.events.filter((event) => event.kind === "request").at(-1)).toMatchObject({ method: "GET", path: "/sandbox/offer-without-media", status: 401, code: 190 });
  });

  it("a user who refuses permission: a reject reply, and calls stay refused with 138006", async () => {
    await permissionRequest(OTHER);
    const reply = await receiver.next((d) => d.item?.interactive?.type === "call_permission_reply");
    expect(reply.item.interactive.call_permission_reply).toEqual({ response: "reject", is_permanent: false, response_source: "user_action" });
    expect((await connect(OTHER)).body).toEqual(errorOf(138006));
  });

  it("a user who declines the call: RINGING, REJECTED, then terminate REJECTED", async () => {
    await sandbox.close();
    await start({ users: { [OTHER]: { permission: "permanent", pickUp: "decline", pickUpDelayMs: 50 } } });
    const placed = await connect(OTHER);
    const callId = placed.body.calls[0].id;
    const terminate = await receiver.next(isEvent("terminate", callId));
    expect(terminate.item).toMatchObject({ status: "REJECTED", direction: "BUSINESS_INITIATED", from: sandbox.displayPhoneNumber, to: OTHER });
    const order = receiver.received.filter((d) => d.item?.id === callId).map((d) => d.item.event ?? d.item.status);
    expect(order).toEqual(["connect", "RINGING", "REJECTED", "terminate"]);
    for (const delivery of receiver.received) expect(schemaErrors(delivery.json)).toBeNull();
  });
});

suite("delivery", () => {
  beforeEach(() => start());

  it("retries a failed delivery with backoff, the same bytes and signature each time", async () => {
    let answered = 0;
    receiver.onDelivery = () => (++answered <= 2 ? 500 : 200);
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    await sandbox.deliveriesSettled();
    const attempts = receiver.received.filter(isEvent("connect", callId));
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.rawBody)).size).toBe(1);
    expect(new Set(attempts.map((a) => a.headers["x-hub-signature-256"])).size).toBe(1);
    for (const attempt of attempts) expect(signatureValid(attempt.rawBody, attempt.headers["x-hub-signature-256"] as string)).toBe(true);
    const delivery = sandbox.deliveries.find((d) => d.callId === callId && d.event === "connect")!;
    expect(delivery.state).toBe("delivered");
    expect(delivery.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    const events = sandbox.events.filter((e) => e.kind === "webhook" && e.callId === callId);
    expect(events.map((e) => (e as { final: boolean }).final)).toEqual([false, false, true]);
  });

  it("gives up after the retries and says so", async () => {
    receiver.onDelivery = () => 503;
    await sandbox.simulateInboundCall({ from: USER });
    await sandbox.deliveriesSettled();
    expect(receiver.received).toHaveLength(4);
    expect(sandbox.deliveries[0]!.state).toBe("failed");
  });

  it("re-delivers on purpose, byte for byte (a duplicate for the bot's dedupe)", async () => {
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    await receiver.next(isEvent("connect", callId));
    const again = sandbox.redeliver({ callId, event: "connect" });
    await again.done;
    const both = receiver.received.filter(isEvent("connect", callId));
    expect(both).toHaveLength(2);
    expect(both[1]!.rawBody).toBe(both[0]!.rawBody);
    expect(both[1]!.headers["x-hub-signature-256"]).toBe(both[0]!.headers["x-hub-signature-256"]);
    expect(again.redeliveryOf).toBe(sandbox.deliveries[0]!.id);
  });

  it("signs with the app secret only, and never puts the token or the secret in a delivery or the transcript", async () => {
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    await receiver.next(isEvent("connect", callId));
    await sandbox.hangUp(callId);
    await until(() => receiver.received.length === 2, "two deliveries");
    for (const delivery of receiver.received) {
      expect(signatureValid(delivery.rawBody, delivery.headers["x-hub-signature-256"] as string)).toBe(true);
      expect(signatureValid(delivery.rawBody, delivery.headers["x-hub-signature-256"] as string, "another-secret")).toBe(false);
      expect(delivery.rawBody).not.toContain(APP_SECRET);
      expect(delivery.rawBody).not.toContain(sandbox.accessToken);
    }
    const transcript = JSON.stringify(sandbox.events);
    expect(transcript).not.toContain(APP_SECRET);
    expect(transcript).not.toContain(sandbox.accessToken);
  });
});

suite("waiting on a call", () => {
  it("waitForCall gives up with SandboxTimeoutError naming the webhooks your endpoint never got", async () => {
    // Nothing listens on the webhook URL: the connect is refused on every attempt, so the call stays ringing.
    const dead = await startReceiver();
    const url = dead.url;
    await dead.close();
    await start({ webhookUrl: url, webhookRetries: 1 });
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    await sandbox.deliveriesSettled();
    const error = await sandbox.waitForCall(callId, "accepted", { timeoutMs: 300 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SandboxTimeoutError);
    expect(error).toMatchObject({ name: "SandboxTimeoutError", callId, waitingFor: "accepted", timeoutMs: 300 });
    expect((error as Error).message).toBe(
      `call ${callId} did not reach accepted within 300 ms: it is ringing; webhooks not delivered to your endpoint: ` +
        `connect (failed, 2 attempts, last: ${sandbox.deliveries[0]!.attempts[1]!.error})`,
    );
    expect(sandbox.deliveries[0]!.attempts[1]!.error).toMatch(/ECONNREFUSED/);
    expect((error as Error).message).not.toContain(APP_SECRET);
  });

  it("waitForCall takes a state the call passed, and stops as soon as the call ends without reaching it", async () => {
    await start({ ringingTimeoutMs: 300 });
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    // Far beyond the test's own timeout: only an early stop lets the test end. The call rings out, unanswered.
    const pending = sandbox.waitForCall(callId, "accepted", { timeoutMs: 600_000 }).catch((caught: unknown) => caught);
    const error = await pending;
    expect(error).toBeInstanceOf(SandboxTimeoutError);
    expect(error).toMatchObject({ callId, waitingFor: "accepted", timeoutMs: 600_000 });
    expect((error as Error).message).toBe(`call ${callId} ended before it reached accepted: it ended FAILED (not answered: the ringing window ended)`);
    // And at once for a wait that starts after the end; "ended" itself resolves, with the states it went through.
    expect(await sandbox.waitForCall(callId, "pre_accepted", { timeoutMs: 600_000 }).catch((caught: unknown) => caught)).toBeInstanceOf(SandboxTimeoutError);
    expect((await sandbox.waitForCall(callId, "ended")).states).toEqual(["ringing", "ended"]);

    const answered = await inboundCall();
    const answer = answerTo(answered.offer);
    for (const step of ["pre_accept", "accept", "terminate"]) expect((await graph("POST", "/calls", action(step, answered.callId, step === "terminate" ? undefined : answer))).status).toBe(200);
    const passed = await sandbox.waitForCall(answered.callId, "pre_accepted", { timeoutMs: 600_000 });
    expect([passed.state, passed.states]).toEqual(["ended", ["ringing", "pre_accepted", "accepted", "ended"]]);
  });

  it("the waits refuse a timeoutMs that is not a number of milliseconds, at once", async () => {
    await start();
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    for (const timeoutMs of [Number.NaN, -5, Infinity]) {
      for (const [method, wait] of [
        ["waitForCall", () => sandbox.waitForCall(callId, "ended", { timeoutMs })],
        ["waitForDelivery", () => sandbox.waitForDelivery({ callId }, { timeoutMs })],
      ] as const) {
        const error = await wait().catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(WhatsAppValidationError);
        expect(error).toMatchObject({ message: `${method}: timeoutMs must be a number of milliseconds, not ${timeoutMs}`, path: "timeoutMs" });
      }
    }
  });

  it("waitForDelivery({ after }) waits for a later webhook of the same kind: a second permission reply", async () => {
    await start({ users: { [OTHER]: { permissionReply: "reject" }, "15550177777": { permissionReply: "ignore" }, [USER]: { permissionReply: undefined } } }); // undefined: the default, accept
    const ask = (to: string) =>
      graph("POST", "/messages", { messaging_product: "whatsapp", recipient_type: "individual", to, type: "interactive", interactive: { type: "call_permission_request", action: { name: "call_permission_request" }, body: { text: "May we call?" } } });
    expect((await ask(OTHER)).status).toBe(200);
    const first = await sandbox.waitForDelivery({ event: "call_permission_reply" });
    expect(JSON.parse(first.body).entry[0].changes[0].value.messages[0].from).toBe(OTHER);
    // This user never answers: without `after`, the first reply would match again.
    expect((await ask("15550177777")).status).toBe(200);
    const error = await sandbox.waitForDelivery({ event: "call_permission_reply", after: first.id }, { timeoutMs: 300 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SandboxTimeoutError);
    expect((error as Error).message).toBe(`no call_permission_reply after delivery #${first.id} was sent within 300 ms: none was sent`);
    expect((await ask(USER)).status).toBe(200);
    const second = await sandbox.waitForDelivery({ event: "call_permission_reply", after: first.id });
    expect(second.id).toBeGreaterThan(first.id);
    expect(JSON.parse(second.body).entry[0].changes[0].value.messages[0].from).toBe(USER);
    expect(await sandbox.waitForDelivery({ event: "call_permission_reply", after: 1.5 }).catch((caught: unknown) => caught)).toMatchObject({ name: "WhatsAppValidationError", path: "after" });
  });

  it("waitForMedia on a sandbox without media is a WhatsAppValidationError, at once", async () => {
    await start();
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    const error = await sandbox.waitForMedia(callId).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WhatsAppValidationError);
    expect(error).toMatchObject({ message: 'waitForMedia: this sandbox has no media (media: false, or media: "auto" without werift)', path: "media" });
  });

  it("after close(), its methods reject with SandboxClosedError, and a pending waitForCall stops with one", async () => {
    await start();
    const { callId } = await sandbox.simulateInboundCall({ from: USER });
    await receiver.next(isEvent("connect", callId));
    const waiting = sandbox.waitForCall(callId, "accepted", { timeoutMs: 10_000 }).catch((caught: unknown) => caught);
    await sandbox.close();
    expect(await waiting).toMatchObject({ name: "SandboxClosedError", method: "waitForCall", message: "waitForCall: the sandbox is closed (the wait was still pending)" });
    const closedBy = async (method: string, attempt: () => unknown) => {
      const error = await Promise.resolve().then(attempt).then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(SandboxClosedError);
      expect(error).toMatchObject({ method, message: `${method}: the sandbox is closed` });
    };
    await closedBy("simulateInboundCall", () => sandbox.simulateInboundCall({ from: USER }));
    await closedBy("hangUp", () => sandbox.hangUp(callId));
    await closedBy("simulateMediaTimeout", () => sandbox.simulateMediaTimeout(callId));
    await closedBy("waitForCall", () => sandbox.waitForCall(callId, "ended"));
    await closedBy("redeliver", () => sandbox.redeliver({ callId }));
    // The calls and deliveries so far can still be read, and close() again is the same close.
    expect(sandbox.call(callId)?.state).toBeDefined();
    expect(sandbox.deliveries.length).toBeGreaterThan(0);
    await sandbox.close();
  });

  it("takes a caller's number with the separators the client takes, and gives its digits in the webhooks", async () => {
    await start();
    const { callId } = await sandbox.simulateInboundCall({ from: "+1 (555) 012-3456" });
    const connect = await receiver.next(isEvent("connect", callId));
    expect(connect.item.from).toBe(USER);
    expect(connect.json.entry[0].changes[0].value.contacts[0].wa_id).toBe(USER);
  });

  it("a wrong argument to the sandbox is a WhatsAppValidationError that names it", async () => {
    const refused = async (attempt: () => unknown) => {
      const error = await Promise.resolve().then(attempt).then(() => undefined, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(WhatsAppValidationError);
      const { message, path } = error as WhatsAppValidationError;
      return { message, path };
    };
    expect(await refused(() => startSandbox({ webhookUrl: "localhost:3000", appSecret: APP_SECRET }))).toEqual({
      message: "startSandbox: webhookUrl must be an http(s) URL (your bot's webhook endpoint)",
      path: "webhookUrl",
    });
    expect(await refused(() => startSandbox({ webhookUrl: receiver.url, appSecret: "" }))).toEqual({
      message: "startSandbox: appSecret must be a non-empty string (webhooks are signed with it)",
      path: "appSecret",
    });
    await start();
    for (const from of ["abc", "12345", "+1 555 012 3456 78901", "1-800-CALL-NOW", "", "0155501234"]) {
      expect(await refused(() => sandbox.simulateInboundCall({ from }))).toEqual({
        message: "simulateInboundCall: from must be the caller's phone number, 6 to 15 digits, the first not 0 (e.g. 15550123456 or +1 555-012-3456)",
        path: "from",
      });
    }
    expect(await refused(() => sandbox.hangUp("wacid.nope"))).toEqual({ message: "the sandbox has no call wacid.nope", path: "callId" });
    // At once, not after the 15 s default timeout (longer than this test may take).
    expect(await refused(() => sandbox.waitForCall("wacid.nope", "accepted"))).toEqual({ message: "waitForCall: the sandbox has no call wacid.nope", path: "callId" });
    expect(await refused(() => sandbox.redeliver({ callId: "wacid.nope" }))).toEqual({ message: "redeliver: no delivery matches", path: "which" });
  });
});
