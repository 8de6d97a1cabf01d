// The fixtures from Meta's documented formats, checked against the schemas in openapi.yaml, compiled here with
// ajv from the document itself; deliberately broken copies must fail.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createSpecAjv, SPEC_SCHEMA_ID } from "../../scripts/generate.js";
import { loadSpec } from "../../scripts/lib/spec.js";
import * as generated from "../../generated/webhook-validators.js";
import * as requests from "../../generated/request-validators.js";
import { ruleOf } from "../../src/client/validators.js";
import {
  allOfKeyword,
  maxLengthKeyword,
  minLengthKeyword,
  notKeyword,
  patternKeyword,
  propertiesKeyword,
  refKeyword,
  requiredKeyword,
  schemaValidator,
  type SchemaValidator,
} from "../../src/schema/check.js";
import { Ajv } from "ajv";
import { fixtureFiles, fixtureJson } from "../helpers/fixtures.js";

const spec = loadSpec();
const ajv = createSpecAjv(spec);
const validator = (schema: string) => {
  const validate = ajv.getSchema(`${SPEC_SCHEMA_ID}#/components/schemas/${schema}`);
  if (!validate) throw new Error(`no schema ${schema}`);
  return validate;
};
const check = (schema: string, value: unknown) => {
  const validate = validator(schema);
  const valid = validate(value) as boolean;
  return { valid, errors: validate.errors };
};
const clone = <T>(value: T): T => structuredClone(value);

const webhookSchemaOf = (file: string) =>
  file.includes("/calls.") ? "CallsWebhookNotification" : "MessagesWebhookNotification";
const webhookFixtures = fixtureFiles("webhooks", /^(calls|messages)\..*\.json$/);

const requestSchemas: Record<string, string> = {
  "api/calls.connect.request.json": "ConnectCallRequest",
  "api/calls.pre_accept.request.json": "PreAcceptCallRequest",
  "api/calls.accept.request.json": "AcceptCallRequest",
  "api/calls.reject.request.json": "RejectCallRequest",
  "api/calls.terminate.request.json": "TerminateCallRequest",
  "api/settings.post.request.calling.json": "UpdateSettingsRequest",
  "api/messages.call_permission_request.request.json": "CallPermissionRequestMessage",
  "api/messages.voice_call_button.request.json": "VoiceCallButtonMessage",
};
const responseSchemas: Record<string, string> = {
  "api/calls.connect.response.json": "ConnectCallResponse",
  "api/calls.action.response.json": "SuccessResponse",
  "api/calls.action.response.minimal.json": "SuccessResponse",
  "api/call_permissions.get.response.json": "CallPermissionsResponse",
  "api/call_permissions.get.response.no-permission.json": "CallPermissionsResponse",
  "api/settings.get.response.json": "PhoneNumberSettings",
  "api/settings.post.response.json": "SuccessResponse",
  "api/messages.call_permission_request.response.json": "SendMessageResponse",
};

describe("every shared fixture has a schema here", () => {
  it("covers every request, response and error file of the manifest", () => {
    const manifest = fixtureJson<{ files: { file: string; kind: string }[] }>("manifest.json");
    for (const { file, kind } of manifest.files) {
      if (kind === "request") expect(requestSchemas, file).toHaveProperty([file]);
      if (kind === "response") expect(responseSchemas, file).toHaveProperty([file]);
      if (kind === "error") expect(fixtureFiles("api/errors")).toContain(file);
      if (kind.startsWith("webhook:")) expect(webhookFixtures).toContain(file);
    }
  });
});

describe("webhook fixtures validate against the spec's webhook schemas", () => {
  it.each(webhookFixtures)("%s", (file) => {
    const payload = fixtureJson(file);
    expect(check(webhookSchemaOf(file), payload)).toEqual({ valid: true, errors: null });
    expect(check("WebhookNotification", payload)).toEqual({ valid: true, errors: null });
    // And each item against the generated validator of its kind, as parseWebhook checks it.
    const value = payload.entry[0].changes[0].value;
    for (const call of value.calls ?? []) {
      const validate = call.event === "connect" ? generated.validateConnectCallWebhookItem : generated.validateTerminateCallWebhookItem;
      expect(validate(call), JSON.stringify(validate.errors)).toBe(true);
    }
    for (const status of value.statuses ?? []) expect(generated.validateCallStatusWebhookItem(status)).toBe(true);
    for (const message of value.messages ?? []) expect(generated.validateCallPermissionReplyMessage(message)).toBe(true);
    for (const contact of value.contacts ?? []) expect(generated.validateWebhookContact(contact)).toBe(true);
    for (const error of value.errors ?? []) expect(generated.validateWebhookError(error)).toBe(true);
  });

  const connect = () => fixtureJson("webhooks/calls.connect.user-initiated.json");
  const call = (payload: any) => payload.entry[0].changes[0].value.calls[0];
  // Each item kind keeps what gives it its meaning; the generated validator and the document agree on the path.
  const broken: [string, string, keyof typeof generated, () => unknown, string][] = [
    ["a call without id", "ConnectCallWebhookItem", "validateConnectCallWebhookItem", () => { const c = call(connect()); delete c.id; return c; }, ""],
    ["a call without event", "ConnectCallWebhookItem", "validateConnectCallWebhookItem", () => { const c = call(connect()); delete c.event; return c; }, ""],
    ["a numeric SDP", "ConnectCallWebhookItem", "validateConnectCallWebhookItem", () => { const c = call(connect()); c.session.sdp = 42; return c; }, "/session/sdp"],
    ["an sdp_type that is not a string", "ConnectCallWebhookItem", "validateConnectCallWebhookItem", () => { const c = call(connect()); c.session.sdp_type = 1; return c; }, "/session/sdp_type"],
    ["a timestamp with letters", "ConnectCallWebhookItem", "validateConnectCallWebhookItem", () => { const c = call(connect()); c.timestamp = "yesterday"; return c; }, "/timestamp"],
    ["a direction that is not a string", "ConnectCallWebhookItem", "validateConnectCallWebhookItem", () => { const c = call(connect()); c.direction = true; return c; }, "/direction"],
    ["a caller that is neither a string nor an integer", "ConnectCallWebhookItem", "validateConnectCallWebhookItem", () => { const c = call(connect()); c.from = { number: 1 }; return c; }, "/from"],
    ["a status item whose status is not a string", "CallStatusWebhookItem", "validateCallStatusWebhookItem", () => { const p = fixtureJson("webhooks/calls.status.ringing.json"); return { ...p.entry[0].changes[0].value.statuses[0], status: null }; }, "/status"],
    ["a status item without status", "CallStatusWebhookItem", "validateCallStatusWebhookItem", () => { const p = fixtureJson("webhooks/calls.status.ringing.json"); const s = p.entry[0].changes[0].value.statuses[0]; delete s.status; return s; }, ""],
    ["a webhook error without code", "WebhookError", "validateWebhookError", () => { const p = fixtureJson("webhooks/calls.terminate.failed.user-initiated.json"); const e = p.entry[0].changes[0].value.errors[0]; delete e.code; return e; }, ""],
    ["a permission reply without response", "CallPermissionReplyMessage", "validateCallPermissionReplyMessage", () => { const p = fixtureJson("webhooks/messages.call_permission_reply.reject.json"); const m = p.entry[0].changes[0].value.messages[0]; delete m.interactive.call_permission_reply.response; return m; }, "/interactive/call_permission_reply"],
    ["a recording without its audio", "CallRecordingWebhookItem", "validateCallRecordingWebhookItem", () => ({ id: "wacid.1", event: "call_recording_available", call_recording: { type: "audio" } }), "/call_recording"],
    ["a voicemail whose id is not a call id", "VoicemailWebhookMessage", "validateVoicemailWebhookMessage", () => ({ id: "wamid.1", type: "audio", audio: { id: "1" } }), "/id"],
    ["an account update without event", "AccountUpdateValue", "validateAccountUpdateValue", () => ({ phone_number: "1" }), ""],
  ];
  it.each(broken)("refuses %s, naming the path", (_name, schema, validatorName, make, path) => {
    const item = make();
    const { valid, errors } = check(schema, item);
    expect(valid).toBe(false);
    expect(errors![0]!.instancePath).toBe(path);
    const validate = generated[validatorName] as generated.SchemaValidator;
    expect(validate(item)).toBe(false);
    expect(validate.errors![0]!.instancePath).toBe(path);
  });

  it("is liberal where Meta's pages disagree or say less than the old schemas required", () => {
    const accepts = (schema: string, validatorName: keyof typeof generated, item: unknown) => {
      expect(check(schema, item), schema).toEqual({ valid: true, errors: null });
      expect((generated[validatorName] as generated.SchemaValidator)(item), validatorName).toBe(true);
    };
    const c = call(connect());
    c.timestamp = 1767268800; // Integer, as the tables say
    delete c.direction; // missing in one documented example
    delete c.from; // BSUID rollout
    c.from_user_id = "US.13491208655302741918";
    c.something_new = { nested: true }; // unknown properties pass
    accepts("ConnectCallWebhookItem", "validateConnectCallWebhookItem", c);
    const bare = call(connect());
    delete bare.timestamp; // an item means the same without it
    delete bare.session; // "Optional" in Meta's table
    accepts("ConnectCallWebhookItem", "validateConnectCallWebhookItem", bare);
    // Values Meta may add later pass, rather than making it re-deliver a whole batch for days.
    accepts("ConnectCallWebhookItem", "validateConnectCallWebhookItem", { ...call(connect()), direction: "TRANSFERRED", session: { sdp_type: "pranswer", sdp: "v=0" }, from_user_id: "BR.NEWFORMAT-2027" });
    const terminate = call(fixtureJson("webhooks/calls.terminate.completed.user-initiated.json"));
    accepts("TerminateCallWebhookItem", "validateTerminateCallWebhookItem", { ...terminate, duration: "182", status: "REJECTED" });
    const { status: _status, ...noStatus } = terminate;
    accepts("TerminateCallWebhookItem", "validateTerminateCallWebhookItem", noStatus);
    const ringing = fixtureJson("webhooks/calls.status.ringing.json").entry[0].changes[0].value.statuses[0];
    accepts("CallStatusWebhookItem", "validateCallStatusWebhookItem", { ...ringing, recipient_id: 15550123456, status: "MISSED" });
    const { recipient_id: _recipient, timestamp: _timestamp, ...bsuidOnly } = ringing;
    accepts("CallStatusWebhookItem", "validateCallStatusWebhookItem", { ...bsuidOnly, recipient_user_id: "US.1" });
    accepts("WebhookContact", "validateWebhookContact", { wa_id: 15550123456 });
    accepts("WebhookContact", "validateWebhookContact", { user_id: "US.1", parent_user_id: "US.ENT.2", profile: { username: "dana" } });
    // Meta's permission-reply samples: no message-level type, no context, no is_permanent or expiry on a reject.
    accepts("CallPermissionReplyMessage", "validateCallPermissionReplyMessage", {
      from_user_id: "US.1",
      id: "wamid.1",
      timestamp: "1",
      interactive: { type: "call_permission_reply", call_permission_reply: { response: "reject", response_source: "automatic" } },
    });
    // account_settings_update: calling null ("null otherwise"), the type spelled as in the table, no metadata.
    accepts("AccountSettingsUpdateValue", "validateAccountSettingsUpdateValue", {
      messaging_product: "whatsapp",
      timestamp: 1671644824,
      type: "PHONE_NUMBER_SETTINGS",
      phone_number_settings: { phone_number_id: "1", calling: null },
    });
    accepts("AccountSettingsUpdateValue", "validateAccountSettingsUpdateValue", { type: "[phone_number_settings]", phone_number_settings: { phone_number_id: "1" } });
    accepts("AccountUpdateValue", "validateAccountUpdateValue", {
      phone_number: "16505552771",
      event: "ACCOUNT_RESTRICTION",
      restriction_info: [{ restriction_type: "RESTRICTED_USER_INITIATED_CALLING_CALL_BUTTON_HIDDEN", remediation: "text" }],
    });
    const unknownField = { object: "whatsapp_business_account", entry: [{ id: "1", changes: [{ field: "template_category_update", value: { anything: 1 } }] }] };
    expect(check("WebhookNotification", unknownField).valid).toBe(true);
    const unknownEvent = connect();
    call(unknownEvent).event = "transfer";
    delete call(unknownEvent).session;
    expect(check("WebhookNotification", unknownEvent).valid).toBe(true);
  });
});

describe("request fixtures validate against their action schema", () => {
  it.each(Object.entries(requestSchemas))("%s → %s", (file, schema) => {
    const body = fixtureJson(file);
    expect(check(schema, body)).toEqual({ valid: true, errors: null });
    if (file.startsWith("api/calls.")) expect(check("CallActionRequest", body).valid).toBe(true);
  });

  const accept = () => fixtureJson("api/calls.accept.request.json");
  const broken: [string, string, () => unknown][] = [
    ["accept with sdp_type offer", "AcceptCallRequest", () => { const b = accept(); b.session.sdp_type = "offer"; return b; }],
    ["accept without call_id", "AcceptCallRequest", () => { const b = accept(); delete b.call_id; return b; }],
    ["accept without session", "AcceptCallRequest", () => { const b = accept(); delete b.session; return b; }],
    ["accept with 513 characters of callback data", "AcceptCallRequest", () => { const b = accept(); b.biz_opaque_callback_data = "x".repeat(513); return b; }],
    ["pre_accept with sdp_type offer", "PreAcceptCallRequest", () => { const b = fixtureJson("api/calls.pre_accept.request.json"); b.session.sdp_type = "offer"; return b; }],
    ["connect without to or recipient", "ConnectCallRequest", () => { const b = fixtureJson("api/calls.connect.request.json"); delete b.to; return b; }],
    ["connect with sdp_type answer", "ConnectCallRequest", () => { const b = fixtureJson("api/calls.connect.request.json"); b.session.sdp_type = "answer"; return b; }],
    ["connect with action create", "CallActionRequest", () => { const b = fixtureJson("api/calls.connect.request.json"); b.action = "create"; return b; }],
    ["reject without messaging_product", "RejectCallRequest", () => { const b = fixtureJson("api/calls.reject.request.json"); delete b.messaging_product; return b; }],
    ["terminate with messaging_product sms", "TerminateCallRequest", () => { const b = fixtureJson("api/calls.terminate.request.json"); b.messaging_product = "sms"; return b; }],
    ["a JSON-encoded SDP (the legacy double encoding)", "AcceptCallRequest", () => { const b = accept(); b.session.sdp = JSON.stringify({ sdp: b.session.sdp, type: "answer" }); return b; }],
    ["settings with opening time 2500", "UpdateSettingsRequest", () => { const b = fixtureJson("api/settings.post.request.calling.json"); b.calling.call_hours.weekly_operating_hours[0].open_time = "2500"; return b; }],
    ["a call button with ttl 0", "VoiceCallButtonMessage", () => { const b = fixtureJson("api/messages.voice_call_button.request.json"); b.interactive.action.parameters.ttl_minutes = 0; return b; }],
  ];
  it.each(broken)("refuses %s", (_name, schema, make) => {
    expect(check(schema, make()).valid).toBe(false);
  });
});

describe("response and error fixtures validate", () => {
  it.each(Object.entries(responseSchemas))("%s → %s", (file, schema) => {
    expect(check(schema, fixtureJson(file))).toEqual({ valid: true, errors: null });
  });

  it.each(fixtureFiles("api/errors"))("%s → GraphErrorResponse", (file) => {
    expect(check("GraphErrorResponse", fixtureJson(file))).toEqual({ valid: true, errors: null });
  });

  it("refuses broken error envelopes and responses", () => {
    const error = fixtureJson("api/errors/error.100.invalid-sdp.json");
    expect(check("GraphErrorResponse", { ...error, error: { ...error.error, code: "100" } }).valid).toBe(false);
    expect(check("GraphErrorResponse", { message: "flat" }).valid).toBe(false);
    expect(check("ConnectCallResponse", { messaging_product: "whatsapp", calls: [] }).valid).toBe(false);
    expect(check("SuccessResponse", { success: false }).valid).toBe(false);
  });
});

describe("the examples in openapi.yaml match their own schemas", () => {
  type Media = { schema?: { $ref?: string }; examples?: Record<string, { value: unknown }> };
  const collected: [string, string, unknown][] = [];
  const visit = (where: string, content: Record<string, Media> | undefined) => {
    const media = content?.["application/json"];
    const ref = media?.schema?.$ref;
    if (!ref || !media.examples) return;
    for (const [name, example] of Object.entries(media.examples)) collected.push([`${where} ${name}`, ref.split("/").pop()!, example.value]);
  };
  const operations = [
    ...Object.entries(spec.paths).map(([path, item]) => [path, item] as const),
    ...Object.entries(spec.webhooks).map(([name, item]) => [`webhook ${name}`, item] as const),
  ];
  for (const [where, item] of operations) {
    for (const [method, operation] of Object.entries(item as Record<string, any>)) {
      if (!operation || typeof operation !== "object" || !("responses" in operation)) continue;
      visit(`${method} ${where} request`, operation.requestBody?.content);
      for (const [status, response] of Object.entries(operation.responses as Record<string, any>)) {
        if (!response.$ref) visit(`${method} ${where} ${status}`, response.content);
      }
    }
  }
  for (const [name, response] of Object.entries((spec.components as any).responses as Record<string, any>)) {
    visit(`response ${name}`, response.content);
  }

  it("finds examples for requests, responses, errors and webhooks", () => {
    expect(collected.length).toBeGreaterThanOrEqual(25);
  });

  it.each(collected)("%s → %s", (_where, schema, value) => {
    expect(check(schema, value)).toEqual({ valid: true, errors: null });
  });
});

// generated/webhook-validators.ts and generated/request-validators.ts check with src/schema/check.ts over the
// schemas as data; ajv, compiled from openapi.yaml itself, is the reference: on any item, valid or mutated, both
// give the same verdict, the same first path and rule, and for requests the same message (the client's).
const paths = (node: unknown, prefix: (string | number)[] = []): (string | number)[][] =>
  typeof node !== "object" || node === null
    ? []
    : (Array.isArray(node) ? node.map((_, index) => index) : Object.keys(node)).flatMap((key) => [
        [...prefix, key],
        ...paths((node as Record<string | number, unknown>)[key], [...prefix, key]),
      ]);
const at = (node: unknown, path: (string | number)[]) => path.reduce<any>((parent, key) => parent[key], node);

function agreesWithAjv(validate: SchemaValidator, schema: string, original: unknown, options: { messages?: boolean; numRuns?: number } = {}) {
  const reference = validator(schema);
  expect([validate(original), reference(original)]).toEqual([true, true]);
  fc.assert(
    // A mutation deletes a value, replaces it with any JSON value or with another value of the item (one of the
    // right shape, often), or repeats an array's first element.
    fc.property(fc.nat(), fc.nat(), fc.constantFrom("delete", "replace", "copy", "repeat"), fc.jsonValue({ maxDepth: 2 }), (where, from, kind, replacement) => {
      const item = structuredClone(original) as Record<string, unknown>;
      const all = paths(item);
      const path = all[where % all.length]!;
      const parent = at(item, path.slice(0, -1));
      const target = parent[path.at(-1)!];
      if (kind === "delete") delete parent[path.at(-1)!];
      else if (kind === "replace") parent[path.at(-1)!] = replacement;
      else if (kind === "copy") parent[path.at(-1)!] = structuredClone(at(original, all[from % all.length]!));
      else if (Array.isArray(target) && target.length > 0) target.push(structuredClone(target[0]));
      const ours = validate(item);
      const theirs = reference(item) as boolean;
      expect(ours).toBe(theirs);
      if (ours) return;
      const [mine, ajvs] = [validate.errors![0]!, reference.errors![0]!];
      expect([mine.instancePath, mine.keyword]).toEqual([ajvs.instancePath, ajvs.keyword]);
      if (options.messages) expect(ruleOf(mine)).toBe(ajvs.message);
    }),
    { numRuns: options.numRuns ?? 2_000 },
  );
}

describe("the webhook item validators agree with ajv", () => {
  const items: [keyof typeof generated, string, unknown][] = [
    ["validateConnectCallWebhookItem", "ConnectCallWebhookItem", fixtureJson("webhooks/calls.connect.user-initiated.json").entry[0].changes[0].value.calls[0]],
    ["validateTerminateCallWebhookItem", "TerminateCallWebhookItem", fixtureJson("webhooks/calls.terminate.completed.user-initiated.json").entry[0].changes[0].value.calls[0]],
    ["validateCallStatusWebhookItem", "CallStatusWebhookItem", fixtureJson("webhooks/calls.status.ringing.json").entry[0].changes[0].value.statuses[0]],
    ["validateCallPermissionReplyMessage", "CallPermissionReplyMessage", fixtureJson("webhooks/messages.call_permission_reply.accept-temporary.json").entry[0].changes[0].value.messages[0]],
    ["validateWebhookContact", "WebhookContact", { wa_id: "1", user_id: "US.1", profile: { name: "n", username: "u" } }],
    ["validateWebhookError", "WebhookError", fixtureJson("webhooks/calls.terminate.failed.user-initiated.json").entry[0].changes[0].value.errors[0]],
    ["validateCallRecordingWebhookItem", "CallRecordingWebhookItem", { id: "wacid.1", event: "call_recording_available", timestamp: "1", call_recording: { type: "audio", audio: { id: "1", sha256: "x", mime_type: "audio/ogg", url: "https://x" } } }],
    ["validateVoicemailWebhookMessage", "VoicemailWebhookMessage", { id: "wacid.1", from: "1", type: "audio", audio: { id: "1" } }],
    ["validateAccountSettingsUpdateValue", "AccountSettingsUpdateValue", { type: "phone_number_settings", timestamp: "1", phone_number_settings: { phone_number_id: "1", calling: { status: "ENABLED", call_hours: { weekly_operating_hours: [{ day_of_week: "MONDAY", open_time: "0400", close_time: "1020" }] }, sip: { servers: [{ hostname: "h", port: 5061, request_uri_user_params: { tgrp: "x" } }] } } } }],
    ["validateAccountUpdateValue", "AccountUpdateValue", { event: "ACCOUNT_RESTRICTION", restriction_info: [{ restriction_type: "X", expiration: 1 }] }],
  ];
  it.each(items)("%s", (validatorName, schema, original) => {
    agreesWithAjv(generated[validatorName] as SchemaValidator, schema, original);
  });
});

describe("the request validators agree with ajv", () => {
  const SDP = fixtureJson("api/calls.accept.request.json").session.sdp;
  const recording = { status: "ENABLED", purpose: "quality assurance", announcement_language: "en" };
  const bodies: [keyof typeof requests, string, unknown][] = [
    ...Object.entries(requestSchemas).map(([file, schema]) => [`validate${schema}` as keyof typeof requests, schema, fixtureJson(file)] as [keyof typeof requests, string, unknown]),
    ["validateConnectCallRequest", "ConnectCallRequest", { ...fixtureJson<object>("api/calls.connect.request.json"), to: undefined, recipient: "US.13491208655302741918", biz_opaque_callback_data: "order-1", recording, transcription: { ...recording, status: "DISABLED" } }],
    ["validateAcceptCallRequest", "AcceptCallRequest", { messaging_product: "whatsapp", call_id: "wacid.1", action: "accept", session: { sdp_type: "answer", sdp: SDP }, recording }],
    ["validateCallPermissionRequestMessage", "CallPermissionRequestMessage", { messaging_product: "whatsapp", recipient: "US.1", type: "interactive", interactive: { type: "call_permission_request", action: { name: "call_permission_request" } } }],
    [
      "validateUpdateSettingsRequest",
      "UpdateSettingsRequest",
      {
        calling: {
          ...fixtureJson("api/settings.post.request.calling.json").calling,
          sip: { status: "ENABLED", servers: [{ hostname: "sip.example.com", port: 5061, request_uri_user_params: { tgrp: "wacall" } }] },
          srtp_key_exchange_protocol: "DTLS",
          video: { status: "DISABLED" },
          voicemail: { status: "ENABLED", triggers: ["REJECT", "TIMEOUT"], audio: { default: { announcement_media_id: 938884519013664, timeout_seconds: 20 } } },
        },
      },
    ],
  ];
  it.each(bodies)("%s (%#)", (validatorName, schema, original) => {
    agreesWithAjv(requests[validatorName] as SchemaValidator, schema, JSON.parse(JSON.stringify(original)), { messages: true, numRuns: 3_000 });
  });
});
describe("string lengths are code points, as ajv counts them", () => {
  // The checker decides by UTF-16 units when they settle it and counts code points only between a limit and twice
  // it: strings of astral characters (two units each), lone surrogates (one) and plain ones around both limits.
  const texts = fc.array(fc.constantFrom("a", "😀", "\ud800", "\udc00", "é"), { maxLength: 12 }).map((parts) => parts.join(""));
  it.each([
    ["minLength", 1],
    ["minLength", 4],
    ["maxLength", 1],
    ["maxLength", 5],
  ] as const)("%s %i", (keyword, limit) => {
    const schema = { type: "string", [keyword]: limit };
    const ours = schemaValidator({ Text: schema }, { minLength: minLengthKeyword, maxLength: maxLengthKeyword }, "Text");
    const theirs = new Ajv({ strict: false }).compile(schema);
    fc.assert(
      fc.property(texts, (text) => {
        expect([text, ours(text)]).toEqual([text, theirs(text)]);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("a schema that refers to itself", () => {
  it("is checked at every depth, with the path of the deepest problem", () => {
    const node = { type: "object", required: ["name"], properties: { name: { type: "string" }, child: { $ref: "Node" } } };
    const validate = schemaValidator({ Node: node }, { $ref: refKeyword, required: requiredKeyword, properties: propertiesKeyword }, "Node");
    expect(validate({ name: "a", child: { name: "b", child: { name: "c" } } })).toBe(true);
    expect(validate({ name: "a", child: { name: "b", child: { name: 3 } } })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ instancePath: "/child/child/name", keyword: "type" });
    expect(validate({ name: "a", child: { child: {} } })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ instancePath: "/child", keyword: "required", params: { missingProperty: "name" } });
  });
});

describe("x-message", () => {
  const keywords = { $ref: refKeyword, not: notKeyword, pattern: patternKeyword, properties: propertiesKeyword, allOf: allOfKeyword };
  const schemas = {
    Sdp: { allOf: [{ type: "string" }, { not: { type: "string", pattern: "offer" }, "x-message": "is an offer" }] },
    Body: { type: "object", properties: { sdp: { $ref: "Sdp" }, other: { not: { type: "number" } } } },
  };

  it("words the failure of the not beside it, and ruleOf says it", () => {
    const validate = schemaValidator(schemas, keywords, "Body");
    expect(validate({ sdp: "an offer" })).toBe(false);
    expect(validate.errors).toEqual([{ instancePath: "/sdp", schemaPath: "/properties/sdp/allOf/1/not", keyword: "not", params: {}, message: "is an offer" }]);
    expect(ruleOf(validate.errors![0])).toBe("is an offer");
  });

  it("leaves every other error in ajv's words", () => {
    const validate = schemaValidator(schemas, keywords, "Body");
    expect(validate({ sdp: 3 })).toBe(false);
    expect(validate.errors![0]).not.toHaveProperty("message");
    expect(ruleOf(validate.errors![0])).toBe("must be string");
    expect(validate({ other: 3 })).toBe(false);
    expect(validate.errors).toEqual([{ instancePath: "/other", schemaPath: "/properties/other/not", keyword: "not", params: {} }]);
    expect(ruleOf(validate.errors![0])).toBe("must NOT be valid");
  });

  it("is what openapi.yaml writes on the SDP schemas, carried into the generated request table", () => {
    const schemasOfSpec = spec.components.schemas as Record<string, { allOf: Record<string, unknown>[] }>;
    const written = ["OfferSdp", "AnswerSdp"].map((name) => schemasOfSpec[name]!.allOf[1]!["x-message"]);
    expect(written.every((text: unknown) => typeof text === "string" && text.length > 20)).toBe(true);
    for (const [action, validate, body] of [
      ["connect", requests.validateConnectCallRequest, { messaging_product: "whatsapp", to: "14085551234", action: "connect", session: { sdp_type: "offer", sdp: "v=0\r\na=setup:active\r\n" } }],
      ["accept", requests.validateAcceptCallRequest, { messaging_product: "whatsapp", call_id: "wacid.1", action: "accept", session: { sdp_type: "answer", sdp: "v=0\r\na=setup:actpass\r\n" } }],
    ] as const) {
      expect([action, validate(body)]).toEqual([action, false]);
      expect(ruleOf(validate.errors![0])).toBe(written[action === "connect" ? 0 : 1]);
    }
  });
});
