import { runInNewContext } from "node:vm";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { WhatsAppError } from "../../src/errors.js";
import { parseWebhook, WebhookPayloadError } from "../../src/webhooks/index.js";
import { batchDelivery, describeEvent, expectedBatchOrder, expectedFixtureEvents, valueOf } from "./expected-events.js";
import { deliveryFixtures, encode, fixtureBytes, fixtureJson, PHONE_NUMBER_ID, WABA_ID } from "./helpers.js";

function payloadError(body: unknown, options: { strict?: boolean } = {}): WebhookPayloadError {
  try {
    parseWebhook(body, options);
  } catch (error) {
    if (error instanceof WebhookPayloadError) return error;
    throw error;
  }
  throw new Error("expected a WebhookPayloadError");
}

describe("parseWebhook", () => {
  it.each(deliveryFixtures)("gives the expected events for %s, from bytes, text and parsed JSON", (file) => {
    const bytes = fixtureBytes(file);
    const expected = expectedFixtureEvents[file];
    expect(parseWebhook(bytes)).toEqual(expected);
    expect(parseWebhook(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))).toEqual(expected);
    expect(parseWebhook(new TextDecoder().decode(bytes))).toEqual(expected);
    expect(parseWebhook(fixtureJson(file))).toEqual(expected);
  });

  it("gives every entry, change, call and status of a batched delivery, in delivery order", () => {
    const events = parseWebhook(JSON.stringify(batchDelivery()));
    expect(events.map(describeEvent)).toEqual(expectedBatchOrder);
    expect(events.map((event) => event.wabaId)).toEqual([...Array(6).fill(WABA_ID), ...Array(7).fill("200000000000001")]);
    const terminates = events.filter((event) => event.type === "call.terminate");
    // value.errors belongs to the change, so each terminate item of that change carries it.
    expect(terminates.map((event) => event.errors?.map((error) => error.code))).toEqual([[138021], [138021]]);
  });

  it("takes the timestamp from the item, then the entry's time; the phone number id from the settings", () => {
    const events = parseWebhook(JSON.stringify(batchDelivery()));
    const byType = (type: string) => events.filter((event) => event.type === type);
    expect(byType("call.status").map((event) => event.timestamp)).toEqual([1767272403, 1767272410]);
    expect(byType("account_settings.update")[0]).toMatchObject({ timestamp: 1767270001, phoneNumberId: PHONE_NUMBER_ID });
    expect(byType("account.update")[0]).toEqual({
      type: "account.update",
      wabaId: "200000000000001",
      timestamp: 1767270000,
      data: { event: "ACCOUNT_VIOLATION", violation_info: { violation_type: "LOW_USER_INITIATED_CALLING_QUALITY" } },
    });
    expect(events.at(-2)).toEqual({
      type: "unknown",
      wabaId: "200000000000001",
      phoneNumberId: "999",
      timestamp: 1767270000,
      field: "flows",
      data: { event: "FLOW_STATUS_CHANGE", metadata: { phone_number_id: "999" } },
    });
  });

  it("accepts integer timestamps as documented in Meta's tables", () => {
    const payload = fixtureJson("webhooks/calls.status.ringing.json");
    payload.entry[0].changes[0].value.statuses[0].timestamp = 1767272403;
    expect(parseWebhook(payload)[0]?.timestamp).toBe(1767272403);
  });

  it("passes a calls[] item whose event is a name of Object.prototype through as unknown (the parser before this threw a TypeError)", () => {
    const value = valueOf("webhooks/calls.connect.business-initiated.json");
    for (const event of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      const item = { ...value.calls[0], event };
      const events = parseWebhook({ object: "whatsapp_business_account", entry: [{ id: WABA_ID, changes: [{ field: "calls", value: { ...value, calls: [item] } }] }] });
      expect(events).toEqual([{ type: "unknown", wabaId: WABA_ID, phoneNumberId: PHONE_NUMBER_ID, timestamp: Number(item.timestamp), field: "calls", data: item }]);
    }
  });

  it("reads ids Meta writes as JSON numbers past 2^53 exact from the raw body: entry, phone number and media ids", () => {
    const sample = (file: string) => readFileSync(new URL(`../fixtures/reference-samples/${file}`, import.meta.url), "utf8");
    // The placeholders of Meta's samples become 17-digit numbers, as its tables type the ids (Integer).
    const text = sample("2026.messages.voicemail.json")
      .replace('"<WABA_ID>"', "10299999999999999")
      .replace('"<BUSINESS_PHONE_NUMBER_ID>"', "10288888888888889")
      .replace('"id": "1002764438271669"', '"id": 10277777777777777');
    for (const body of [text, new TextEncoder().encode(text)]) {
      const [voicemail] = parseWebhook(body);
      expect(voicemail).toMatchObject({ type: "call.voicemail", wabaId: "10299999999999999", phoneNumberId: "10288888888888889", media: { id: "10277777777777777" } });
      expect(parseWebhook(body, { strict: true })[0]).toMatchObject({ media: { id: "10277777777777777" } });
    }
    const recording = sample("2026.calls.call_recording_available.json").replace('"id": "1002764438271669"', '"id": 10277777777777777');
    expect(parseWebhook(recording)[0]).toMatchObject({ type: "call.recording_available", media: { id: "10277777777777777", sha256: "Y9vvGyeo3n76ptkXu3CwDBsnzbRFqpjHskQdMGSVqas=" } });
    // Already parsed, the digits are gone: the entry is an invalid event (strict: thrown), and nothing is made up.
    const lost = JSON.parse(text);
    expect(parseWebhook(lost)[0]).toMatchObject({ type: "invalid", path: "entry[0].id", message: expect.stringContaining("below 2^53") });
    expect(() => parseWebhook(lost, { strict: true })).toThrow(WebhookPayloadError);
    // Safe numeric ids: the context ids as their digits, the media object as sent (a number the media functions take).
    const safe = text.replace("10299999999999999", "104996122399160").replace("10288888888888889", "117823401562387").replace("10277777777777777", "1002764438271669");
    expect(parseWebhook(safe)[0]).toMatchObject({ wabaId: "104996122399160", phoneNumberId: "117823401562387", media: { id: 1002764438271669 } });
  });

  it("gives an unknown item the timestamp it carries, as a number (else the entry's time)", () => {
    const item = { id: "wacid.new", event: "call_forwarded", timestamp: "1767268800" };
    const delivery = (calls: unknown[], time?: number) => ({
      object: "whatsapp_business_account",
      entry: [{ id: WABA_ID, ...(time === undefined ? {} : { time }), changes: [{ field: "calls", value: { messaging_product: "whatsapp", metadata: { phone_number_id: PHONE_NUMBER_ID }, calls } }] }],
    });
    expect(parseWebhook(delivery([item]))).toEqual([{ type: "unknown", wabaId: WABA_ID, phoneNumberId: PHONE_NUMBER_ID, timestamp: 1767268800, field: "calls", data: item }]);
    expect(parseWebhook(delivery([{ ...item, timestamp: 1767268801 }]))[0]?.timestamp).toBe(1767268801);
    expect(parseWebhook(delivery([{ ...item, timestamp: "soon" }], 1767268700))[0]?.timestamp).toBe(1767268700);
    expect(parseWebhook(delivery([{ id: "wacid.new", event: "call_forwarded" }]))[0]).not.toHaveProperty("timestamp", expect.anything());
  });

  it("matches the contact by phone number or BSUID, falls back to the only contact, else leaves it out", () => {
    const value = valueOf("webhooks/calls.connect.business-initiated.json");
    const call = value.calls[0];
    const other = { wa_id: "15550000000", profile: { name: "Someone else" } };
    const bsuidUser = { user_id: "US.13491208655302741918", profile: { username: "dana" } };
    const contactFor = (contacts: unknown[], item: Record<string, unknown> = call) =>
      (parseWebhook({ object: "whatsapp_business_account", entry: [{ id: WABA_ID, changes: [{ field: "calls", value: { ...value, contacts, calls: [item] } }] }] })[0] as {
        contact?: unknown;
      }).contact;
    expect(contactFor([other, { wa_id: "15550123456" }])).toEqual({ wa_id: "15550123456" });
    expect(contactFor([other, bsuidUser], { ...call, to: undefined, to_user_id: "US.13491208655302741918" })).toEqual(bsuidUser);
    expect(contactFor([other])).toEqual(other);
    expect(contactFor([other, { wa_id: "15550000001" }])).toBeUndefined();
    expect(contactFor([])).toBeUndefined();
  });

  it("reads Graph ids sent as JSON numbers as their digits, and a null session as none: no event of the call is lost", () => {
    const payload = fixtureJson("webhooks/calls.connect.user-initiated.json");
    payload.entry[0].id = Number(WABA_ID);
    const value = payload.entry[0].changes[0].value;
    value.metadata.phone_number_id = Number(PHONE_NUMBER_ID);
    const nullSession = { ...value.calls[0], id: "wacid.null-session", session: null };
    value.calls.push(nullSession);
    const settings = { field: "account_settings_update", value: { type: "phone_number_settings", phone_number_settings: { phone_number_id: Number(PHONE_NUMBER_ID), calling: null } } };
    payload.entry[0].changes.push(settings);
    // strict: each of these shapes passes its schema, rather than being delivered as an invalid event.
    const events = parseWebhook(JSON.stringify(payload), { strict: true });
    expect(events.map((event) => [event.type, event.wabaId, event.phoneNumberId])).toEqual([
      ["call.connect", WABA_ID, PHONE_NUMBER_ID],
      ["call.connect", WABA_ID, PHONE_NUMBER_ID],
      ["account_settings.update", WABA_ID, PHONE_NUMBER_ID],
    ]);
    expect(events[1]).toMatchObject({ callId: "wacid.null-session", data: nullSession });
    // An id past 2^53 has lost its digits in JSON.parse: it is not read as an id.
    payload.entry[0].id = 2 ** 53 + 2;
    expect(parseWebhook(payload).map((event) => [event.type, event.type === "invalid" && event.message])).toEqual([
      ["invalid", "Webhook payload does not match the schema at entry[0].id: must be a string or an integer below 2^53"],
    ]);
  });

  it.each([
    [
      "a call without id",
      (payload: any) => delete payload.entry[0].changes[0].value.calls[0].id,
      "entry[0].changes[0].value.calls[0].id",
      "/entry/0/changes/0/value/calls/0/id",
      "required property is missing",
      "call.connect",
    ],
    [
      "a timestamp of the wrong type",
      (payload: any) => (payload.entry[0].changes[0].value.calls[0].timestamp = true),
      "entry[0].changes[0].value.calls[0].timestamp",
      "/entry/0/changes/0/value/calls/0/timestamp",
      "must be of type string or number",
      "call.connect",
    ],
    [
      "an SDP type that is not a string",
      (payload: any) => (payload.entry[0].changes[0].value.calls[0].session.sdp_type = 1),
      "entry[0].changes[0].value.calls[0].session.sdp_type",
      "/entry/0/changes/0/value/calls/0/session/sdp_type",
      "must be of type string",
      "call.connect",
    ],
    [
      "an SDP that is not a string",
      (payload: any) => (payload.entry[0].changes[0].value.calls[0].session.sdp = 42),
      "entry[0].changes[0].value.calls[0].session.sdp",
      "/entry/0/changes/0/value/calls/0/session/sdp",
      "must be of type string",
      "call.connect",
    ],
    [
      "changes that are not an array",
      (payload: any) => (payload.entry[0].changes = { field: "calls" }),
      "entry[0].changes",
      "/entry/0/changes",
      "must be of type array",
      "unknown",
    ],
    [
      "a value that is not an object",
      (payload: any) => (payload.entry[0].changes[0].value = "calls"),
      "entry[0].changes[0].value",
      "/entry/0/changes/0/value",
      "must be of type object",
      "unknown",
    ],
  ])("with strict: true, throws WebhookPayloadError naming the path for %s; by default, delivers it as an invalid event", (_label, breakPayload, path, pointer, reason, expected) => {
    const payload = fixtureJson("webhooks/calls.connect.user-initiated.json");
    breakPayload(payload);
    const error = payloadError(JSON.stringify(payload), { strict: true });
    expect(error).toBeInstanceOf(WhatsAppError);
    expect(error.name).toBe("WebhookPayloadError");
    expect(error.status).toBe(400);
    expect(error.path).toBe(path);
    expect(error.pointer).toBe(pointer);
    const message = `Webhook payload does not match the schema at ${path}: ${reason}`;
    expect(error.message).toBe(message);
    expect(error.message).not.toMatch(/v=0|a=ice|a=fingerprint/);
    const events = parseWebhook(JSON.stringify(payload));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "invalid", expected, wabaId: WABA_ID, path, pointer, message });
    expect(events[0]!.type === "invalid" && events[0]!.message).not.toMatch(/v=0|a=ice|a=fingerprint/);
  });

  it("delivers a broken item as an invalid event with the raw item, and its siblings as usual", () => {
    const payload = fixtureJson("webhooks/calls.connect.user-initiated.json");
    const value = payload.entry[0].changes[0].value;
    const good = value.calls[0];
    const broken = { ...good, id: "wacid.broken", session: { sdp_type: "offer", sdp: 42 } };
    const other = { ...good, id: "wacid.second" };
    value.calls = [good, broken, other];
    const events = parseWebhook(payload);
    expect(events.map((event) => event.type)).toEqual(["call.connect", "invalid", "call.connect"]);
    expect(events[1]).toEqual({
      type: "invalid",
      expected: "call.connect",
      wabaId: WABA_ID,
      phoneNumberId: PHONE_NUMBER_ID,
      field: "calls",
      path: "entry[0].changes[0].value.calls[1].session.sdp",
      pointer: "/entry/0/changes/0/value/calls/1/session/sdp",
      message: "Webhook payload does not match the schema at entry[0].changes[0].value.calls[1].session.sdp: must be of type string",
      data: broken,
    });
    expect(events[2]).toMatchObject({ type: "call.connect", callId: "wacid.second" });
  });

  it("places each broken entry and change exactly, and gives it only what its own entry and change say", () => {
    // The walk keeps one context per delivery and moves it: nothing of a change may reach the next one's events.
    const payload = fixtureJson("webhooks/calls.connect.user-initiated.json");
    const goodChange = payload.entry[0].changes[0];
    const noField = { value: { metadata: { phone_number_id: "999" } } };
    const notAValue = { field: "calls", value: [] };
    const second = {
      object: "whatsapp_business_account",
      entry: [
        { id: "waba-2", time: 1767268900, changes: [goodChange, noField, notAValue] },
        { time: 1767269000, changes: [goodChange] },
      ],
    };
    const events = parseWebhook([payload, second]);
    expect(events.map((event) => event.type)).toEqual(["call.connect", "call.connect", "invalid", "invalid", "invalid"]);
    expect(events[1]).toMatchObject({ wabaId: "waba-2", phoneNumberId: PHONE_NUMBER_ID });
    const at = (path: string, pointer: string, reason: string) => ({ path, pointer, message: `Webhook payload does not match the schema at ${path}: ${reason}` });
    expect(events.slice(2)).toEqual([
      { type: "invalid", expected: "unknown", wabaId: "waba-2", phoneNumberId: undefined, timestamp: 1767268900, field: "", data: noField, ...at("[1].entry[0].changes[1].field", "/1/entry/0/changes/1/field", "required property is missing") },
      { type: "invalid", expected: "unknown", wabaId: "waba-2", phoneNumberId: undefined, timestamp: 1767268900, field: "calls", data: [], ...at("[1].entry[0].changes[2].value", "/1/entry/0/changes/2/value", "must be of type object") },
      { type: "invalid", expected: "unknown", wabaId: "", phoneNumberId: undefined, timestamp: undefined, field: "", data: second.entry[1], ...at("[1].entry[1].id", "/1/entry/1/id", "required property is missing") },
    ]);
  });

  it.each(["a=ice-pwd:A0q/VFrQEZRqLbgxWKzJxMrkN8EU297q", "plain_snake_case_secret"])(
    "hides a map key taken from the payload (%s) in the path and the pointer",
    (key) => {
      const sip = { servers: [{ hostname: "sip.example.com", request_uri_user_params: { transport: "tls", [key]: 1 } }] };
      const payload = {
        object: "whatsapp_business_account",
        entry: [{ id: WABA_ID, changes: [{ field: "account_settings_update", value: { type: "phone_number_settings", phone_number_settings: { calling: { sip } } } }] }],
      };
      const error = payloadError(payload, { strict: true });
      expect(error.path).toBe("entry[0].changes[0].value.phone_number_settings.calling.sip.servers[0].request_uri_user_params.*");
      expect(error.pointer).toBe("/entry/0/changes/0/value/phone_number_settings/calling/sip/servers/0/request_uri_user_params/*");
      expect(error.message).toBe(`Webhook payload does not match the schema at ${error.path}: must be of type string`);
      expect(`${error.message} ${error.stack}`).not.toContain(key);
      const [event] = parseWebhook(payload);
      expect(event).toMatchObject({ type: "invalid", expected: "account_settings.update", path: error.path, pointer: error.pointer });
      expect(event!.type === "invalid" && event!.message).not.toContain(key);
    },
  );

  it.each([
    ["bad JSON", '{"object":"whatsapp_business_account","entry":[', "Webhook body is not valid JSON", ""],
    ["an empty body", "", "Webhook body is empty", ""],
    ["empty bytes", new Uint8Array(0), "Webhook body is empty", ""],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0x7d]), "Webhook body is not valid UTF-8", ""],
    ["a JSON array without deliveries", "[]", "Webhook payload has no entry array", "entry"],
    ["a JSON array of objects without entry", '[{"object":"x"}]', "Webhook payload has no entry array", "entry"],
    ["JSON null", "null", "Webhook payload does not match the schema at the top level: must be of type object", ""],
    ["a JSON string", '"entry"', "Webhook payload does not match the schema at the top level: must be of type object", ""],
    [
      "an object without entry",
      '{"object":"whatsapp_business_account"}',
      "Webhook payload does not match the schema at entry: required property is missing",
      "entry",
    ],
    [
      "an entry that is not an array",
      '{"object":"whatsapp_business_account","entry":{}}',
      "Webhook payload does not match the schema at entry: must be of type array",
      "entry",
    ],
  ])("throws WebhookPayloadError for %s (the only shapes refused)", (_label, body, message, path) => {
    const error = payloadError(body);
    expect([error.message, error.path]).toEqual([message, path]);
  });

  it("never echoes the body in a JSON error (which could hold SDP)", () => {
    const text = new TextDecoder().decode(fixtureBytes("webhooks/calls.connect.user-initiated.json"));
    const error = payloadError(text.slice(0, 1500));
    expect(error.message).toBe("Webhook body is not valid JSON");
    expect(error.cause).toBeUndefined();
  });

  it("passes an unknown field through whole, without an error", () => {
    const events = parseWebhook(
      encode('{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"security","value":{"x":[1,2]}}]}]}'),
    );
    expect(events).toEqual([{ type: "unknown", wabaId: "1", field: "security", data: { x: [1, 2] } }]);
  });
});

// Row 3 of issue 11: contactOf was O(items × contacts); one signed 4 MiB delivery (41k calls, 694k empty contacts)
// blocked the event loop for minutes. The contacts are indexed once now. Bounded by the test timeout, not timed:
// 20,000 calls × 200,000 contacts was 4·10⁹ comparisons that way.
it("matches contacts in time linear in calls plus contacts: 20,000 calls and 200,000 contacts", { timeout: 10_000 }, () => {
  const value = valueOf("webhooks/calls.connect.user-initiated.json");
  const calls = Array.from({ length: 20_000 }, (_, index) => ({ ...value.calls[0], id: `wacid.${index}`, from: `1555${index}` }));
  const contacts: object[] = Array.from({ length: 200_000 }, () => ({}));
  contacts.push({ wa_id: "155519999", profile: { name: "Last" } });
  const events = parseWebhook({ object: "whatsapp_business_account", entry: [{ id: WABA_ID, changes: [{ field: "calls", value: { ...value, calls, contacts } }] }] });
  expect(events).toHaveLength(20_000);
  expect(events.filter((event) => event.type === "call.connect" && event.contact !== undefined).map((event) => "callId" in event && event.callId)).toEqual(["wacid.19999"]);
});

describe("bytes and strings read alike (issue 11 decisions)", () => {
  it("accepts a UTF-8 byte order mark in a string as it does in bytes", () => {
    const text = new TextDecoder().decode(fixtureBytes("webhooks/calls.status.ringing.json"));
    const expected = parseWebhook(text);
    expect(parseWebhook(`\uFEFF${text}`)).toEqual(expected);
    expect(parseWebhook(new Uint8Array([0xef, 0xbb, 0xbf, ...encode(text)]))).toEqual(expected);
  });

  it("reads a Uint8Array and an ArrayBuffer made in another realm (vm context)", () => {
    const bytes = fixtureBytes("webhooks/calls.status.ringing.json");
    const foreign = runInNewContext("(source) => { const view = new Uint8Array(source.length); for (let i = 0; i < source.length; i++) view[i] = source[i]; return view; }")(
      Array.from(bytes),
    ) as Uint8Array;
    expect(foreign instanceof Uint8Array).toBe(false);
    expect(parseWebhook(foreign)).toEqual(parseWebhook(bytes));
    expect(parseWebhook(foreign.buffer)).toEqual(parseWebhook(bytes));
  });
});

describe("numbers sent as integers", () => {
  it("matches a contact whose wa_id is an integer to a caller sent as a string, and keeps both as sent", () => {
    const payload = fixtureJson("webhooks/calls.connect.user-initiated.json");
    const value = payload.entry[0].changes[0].value;
    value.contacts = [{ wa_id: 15550000000 }, { wa_id: 15550123456, profile: { name: "Dana Okafor" } }];
    const [event] = parseWebhook(payload);
    expect(event).toMatchObject({ type: "call.connect", contact: { wa_id: 15550123456, profile: { name: "Dana Okafor" } } });
    expect(event!.type === "call.connect" && event!.data.from).toBe("15550123456");
  });
});
