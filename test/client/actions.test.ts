import { beforeEach, describe, expect, it } from "vitest";
import { createCallingClient, DEFAULT_API_VERSION, WhatsAppValidationError, type CallingClient } from "../../src/index.js";
import { fixtureJson } from "../helpers/fixtures.js";
import { useGraphServer } from "../helpers/graph-server.js";

const PHONE_NUMBER_ID = "117823401562387";
const TOKEN = "EAAG-test-token-actions";

const connectRequest = fixtureJson("api/calls.connect.request.json");
const preAcceptRequest = fixtureJson("api/calls.pre_accept.request.json");
const acceptRequest = fixtureJson("api/calls.accept.request.json");
const rejectRequest = fixtureJson("api/calls.reject.request.json");
const terminateRequest = fixtureJson("api/calls.terminate.request.json");
const connectResponse = fixtureJson("api/calls.connect.response.json");
const actionResponse = fixtureJson("api/calls.action.response.json");
const minimalResponse = fixtureJson("api/calls.action.response.minimal.json");

const server = useGraphServer(() => ({ status: 200, body: actionResponse }));
let calls: CallingClient;
const callsPath = `/${DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/calls`;

beforeEach(() => {
  calls = createCallingClient({ phoneNumberId: PHONE_NUMBER_ID, accessToken: TOKEN, baseUrl: server.url });
});

function expectCallsRequest(index: number, expectedBody: unknown) {
  const request = server.requests[index]!;
  expect(request.method).toBe("POST");
  expect(request.url).toBe(callsPath);
  expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect(request.headers["content-type"]).toBe("application/json");
  expect(request.json).toEqual(expectedBody);
}

describe("call actions send the documented request", () => {
  it("pre_accept: call_id, sdp_type answer", async () => {
    const result = await calls.preAccept(preAcceptRequest.call_id, preAcceptRequest.session.sdp);
    expect(server.requests).toHaveLength(1);
    expectCallsRequest(0, preAcceptRequest);
    expect(result).toEqual(actionResponse);
  });

  it("accept: call_id, sdp_type answer, biz_opaque_callback_data", async () => {
    const result = await calls.accept(acceptRequest.call_id, acceptRequest.session.sdp, {
      bizOpaqueCallbackData: acceptRequest.biz_opaque_callback_data,
    });
    expectCallsRequest(0, acceptRequest);
    expect(result).toEqual(actionResponse);
  });

  it("accept without callback data sends no biz_opaque_callback_data key", async () => {
    await calls.accept(acceptRequest.call_id, acceptRequest.session.sdp);
    const { biz_opaque_callback_data: _, ...withoutData } = acceptRequest;
    expectCallsRequest(0, withoutData);
    expect(Object.keys(server.requests[0]!.json as object)).not.toContain("biz_opaque_callback_data");
  });

  it("reject: call_id only, no session", async () => {
    await calls.reject(rejectRequest.call_id);
    expectCallsRequest(0, rejectRequest);
  });

  it("terminate: call_id only", async () => {
    const result = await calls.terminate(terminateRequest.call_id);
    expectCallsRequest(0, terminateRequest);
    expect(result).toEqual(actionResponse);
  });

  it("accepts the minimal success body {success: true}", async () => {
    server.setHandler(() => ({ status: 200, body: minimalResponse }));
    await expect(calls.terminate(terminateRequest.call_id)).resolves.toEqual({ success: true });
  });

  it("connect: to, sdp_type offer, callback data; resolves with the new call id", async () => {
    server.setHandler(() => ({ status: 200, body: connectResponse }));
    const result = await calls.connect(connectRequest.to, connectRequest.session.sdp, {
      bizOpaqueCallbackData: connectRequest.biz_opaque_callback_data,
    });
    expectCallsRequest(0, connectRequest);
    expect(result.callId).toBe(connectResponse.calls[0].id);
    expect(result.data).toEqual(connectResponse);
  });

  it("connect to a business-scoped user id sends recipient instead of to", async () => {
    server.setHandler(() => ({ status: 200, body: connectResponse }));
    await calls.connect({ recipient: "US.13491208655302741918" }, connectRequest.session.sdp);
    const { to: _to, biz_opaque_callback_data: _data, ...rest } = connectRequest;
    expectCallsRequest(0, { ...rest, recipient: "US.13491208655302741918" });
  });

  it("answer: pre_accept then accept with the same SDP answer", async () => {
    await calls.answer(acceptRequest.call_id, acceptRequest.session.sdp, {
      bizOpaqueCallbackData: acceptRequest.biz_opaque_callback_data,
    });
    expect(server.requests).toHaveLength(2);
    expectCallsRequest(0, preAcceptRequest);
    expectCallsRequest(1, acceptRequest);
  });

  it("answer runs afterPreAccept between the two requests", async () => {
    const seen: number[] = [];
    await calls.answer(acceptRequest.call_id, acceptRequest.session.sdp, {
      afterPreAccept: async () => {
        seen.push(server.requests.length);
      },
    });
    expect(seen).toEqual([1]);
    expect(server.requests.map((r) => (r.json as { action: string }).action)).toEqual(["pre_accept", "accept"]);
  });
});

describe("calling endpoints beyond /calls", () => {
  it("getCallPermissions: GET /call_permissions?user_wa_id=…", async () => {
    const body = fixtureJson("api/call_permissions.get.response.json");
    server.setHandler(() => ({ status: 200, body }));
    const result = await calls.getCallPermissions("15550123456");
    const request = server.requests[0]!;
    expect(request.method).toBe("GET");
    expect(request.url).toBe(`/${DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/call_permissions?user_wa_id=15550123456`);
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.rawBody).toBe("");
    expect(result).toEqual(body);
    expect(result.permission.status).toBe("temporary");
  });

  it("getCallPermissions takes a number written with + and separators, and sends it as written", async () => {
    server.setHandler(() => ({ status: 200, body: fixtureJson("api/call_permissions.get.response.json") }));
    await calls.getCallPermissions("+1 (555) 012-3456");
    expect(server.requests[0]!.url).toBe(`/${DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/call_permissions?user_wa_id=%2B1%20(555)%20012-3456`);
  });

  it("getCallPermissions by BSUID: ?recipient=…", async () => {
    server.setHandler(() => ({ status: 200, body: fixtureJson("api/call_permissions.get.response.no-permission.json") }));
    const result = await calls.getCallPermissions({ recipient: "US.13491208655302741918" });
    expect(server.requests[0]!.url).toBe(
      `/${DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/call_permissions?recipient=US.13491208655302741918`,
    );
    expect(result.permission.status).toBe("no_permission");
  });

  it.each([
    ["not a number", "user_wa_id", 'Invalid getCallPermissions request: user_wa_id must match pattern "^\\+?[1-9](?:[ ().-]{0,2}[0-9]){5,14}$"'],
    // The pattern counts digits: six to fifteen, the first not 0 (E.164), whatever the separators.
    ["1-2-3", "user_wa_id", 'Invalid getCallPermissions request: user_wa_id must match pattern "^\\+?[1-9](?:[ ().-]{0,2}[0-9]){5,14}$"'],
    ["+1 555 012 3456 78901", "user_wa_id", 'Invalid getCallPermissions request: user_wa_id must match pattern "^\\+?[1-9](?:[ ().-]{0,2}[0-9]){5,14}$"'],
    ["015550123456", "user_wa_id", 'Invalid getCallPermissions request: user_wa_id must match pattern "^\\+?[1-9](?:[ ().-]{0,2}[0-9]){5,14}$"'],
    [{ recipient: "15550123456" }, "recipient", 'Invalid getCallPermissions request: recipient must match pattern "^[A-Z]{2}\\.(ENT\\.)?[A-Za-z0-9]{1,128}$"'],
  ] as const)("getCallPermissions refuses a user that breaks the query's schema (%j), before sending", async (user, path, message) => {
    const error = await calls.getCallPermissions(user).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WhatsAppValidationError);
    expect((error as WhatsAppValidationError).path).toBe(`/${path}`);
    expect((error as Error).message).toBe(message);
    expect(server.requests).toHaveLength(0);
  });

  it("getCallingSettings: GET /settings, resolves with the calling object", async () => {
    const body = fixtureJson("api/settings.get.response.json");
    server.setHandler(() => ({ status: 200, body }));
    const calling = await calls.getCallingSettings();
    expect(server.requests[0]!.method).toBe("GET");
    expect(server.requests[0]!.url).toBe(`/${DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/settings`);
    expect(calling).toEqual(body.calling);
  });

  it("getCallingSettings gives an id Meta writes as a JSON number past 2^53 as its exact digits; updateCallingSettings sends it back so", async () => {
    const text = '{"calling":{"status":"ENABLED","voicemail":{"status":"ENABLED","triggers":["REJECT"],"audio":{"default":{"announcement_media_id":9938884519013665,"timeout_seconds":20}}},"note":"a string with 12345678901234567890 in it"}}';
    server.setHandler(() => ({ status: 200, headers: { "content-type": "application/json" }, body: text }));
    const calling = await calls.getCallingSettings();
    expect(calling.voicemail?.audio?.default?.announcement_media_id).toBe("9938884519013665");
    expect(calling).toMatchObject({ status: "ENABLED", note: "a string with 12345678901234567890 in it" });
    expect(calling.voicemail?.audio?.default?.timeout_seconds).toBe(20);
    server.setHandler(() => ({ status: 200, body: { success: true } }));
    const announcement = calling.voicemail!.audio!.default!.announcement_media_id!;
    await calls.updateCallingSettings({ voicemail: { status: "ENABLED", triggers: ["REJECT"], audio: { default: { announcement_media_id: announcement, timeout_seconds: 20 } } } });
    expect(server.requests[1]!.rawBody).toContain('"announcement_media_id":"9938884519013665"');
  });

  it("updateCallingSettings sends a safe numeric announcement id as the number it is", async () => {
    server.setHandler(() => ({ status: 200, body: { success: true } }));
    await calls.updateCallingSettings({ voicemail: { status: "ENABLED", triggers: ["REJECT"], audio: { default: { announcement_media_id: 938884519013664 } } } });
    expect(server.requests[0]!.rawBody).toBe('{"calling":{"voicemail":{"status":"ENABLED","triggers":["REJECT"],"audio":{"default":{"announcement_media_id":938884519013664}}}}}');
  });

  it("getCallingSettings with SIP credentials adds the query parameter", async () => {
    server.setHandler(() => ({ status: 200, body: { calling: { status: "ENABLED" } } }));
    await calls.getCallingSettings({ includeSipCredentials: true });
    expect(server.requests[0]!.url).toBe(`/${DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/settings?include_sip_credentials=true`);
  });

  it("updateCallingSettings: POST /settings {calling}", async () => {
    const request = fixtureJson("api/settings.post.request.calling.json");
    server.setHandler(() => ({ status: 200, body: fixtureJson("api/settings.post.response.json") }));
    await expect(calls.updateCallingSettings(request.calling)).resolves.toEqual({ success: true });
    expect(server.requests[0]!.method).toBe("POST");
    expect(server.requests[0]!.url).toBe(`/${DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/settings`);
    expect(server.requests[0]!.headers["content-type"]).toBe("application/json");
    expect(server.requests[0]!.json).toEqual(request);
  });

  it("sendCallPermissionRequest: the documented interactive message", async () => {
    const request = fixtureJson("api/messages.call_permission_request.request.json");
    const response = fixtureJson("api/messages.call_permission_request.response.json");
    server.setHandler(() => ({ status: 200, body: response }));
    const result = await calls.sendCallPermissionRequest(request.to, { bodyText: request.interactive.body.text });
    expect(server.requests[0]!.url).toBe(`/${DEFAULT_API_VERSION}/${PHONE_NUMBER_ID}/messages`);
    expect(server.requests[0]!.json).toEqual(request);
    expect(result).toEqual({ messageId: response.messages[0].id, data: response });
  });

  it("sendCallButton: the documented voice_call message", async () => {
    const request = fixtureJson("api/messages.voice_call_button.request.json");
    server.setHandler(() => ({ status: 200, body: fixtureJson("api/messages.call_permission_request.response.json") }));
    const { parameters } = request.interactive.action;
    await calls.sendCallButton(request.to, {
      bodyText: request.interactive.body.text,
      displayText: parameters.display_text,
      ttlMinutes: parameters.ttl_minutes,
      payload: parameters.payload,
    });
    expect(server.requests[0]!.json).toEqual(request);
  });
});

describe("raw: the typed openapi-fetch client with auth applied", () => {
  it("sends through the same auth, base URL and version", async () => {
    const { data, response } = await calls.raw.POST("/{phone-number-id}/calls", {
      params: { path: { "phone-number-id": PHONE_NUMBER_ID } },
      body: terminateRequest,
    });
    expect(response.status).toBe(200);
    expect(data).toEqual(actionResponse);
    expectCallsRequest(0, terminateRequest);
  });
});
