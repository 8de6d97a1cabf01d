// The fixtures from Meta's documented formats, checked against the schemas in openapi.yaml, compiled here with
// ajv from the document itself; deliberately broken copies must fail.
import { describe, expect, it } from "vitest";
import { createSpecAjv, SPEC_SCHEMA_ID } from "../../scripts/generate.js";
import { loadSpec } from "../../scripts/lib/spec.js";
import * as generated from "../../generated/validators.js";
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
    expect(generated.validateWebhookNotification(payload)).toBe(true);
  });

  const connect = () => fixtureJson("webhooks/calls.connect.user-initiated.json");
  const call = (payload: any) => payload.entry[0].changes[0].value.calls[0];
  const broken: [string, () => unknown, string][] = [
    ["no metadata", () => { const p = connect(); delete p.entry[0].changes[0].value.metadata; return p; }, "/entry/0/changes/0/value"],
    ["metadata without phone_number_id", () => { const p = connect(); delete p.entry[0].changes[0].value.metadata.phone_number_id; return p; }, "/entry/0/changes/0/value/metadata"],
    ["a call without id", () => { const p = connect(); delete call(p).id; return p; }, "/entry/0/changes/0/value/calls/0"],
    ["a numeric SDP", () => { const p = connect(); call(p).session.sdp = 42; return p; }, "/entry/0/changes/0/value/calls/0/session/sdp"],
    ["an sdp_type that is not a string", () => { const p = connect(); call(p).session.sdp_type = 1; return p; }, "/entry/0/changes/0/value/calls/0/session/sdp_type"],
    ["a timestamp with letters", () => { const p = connect(); call(p).timestamp = "yesterday"; return p; }, "/entry/0/changes/0/value/calls/0/timestamp"],
    ["a direction that is not a string", () => { const p = connect(); call(p).direction = true; return p; }, "/entry/0/changes/0/value/calls/0/direction"],
    ["a caller that is neither a string nor an integer", () => { const p = connect(); call(p).from = { number: 1 }; return p; }, "/entry/0/changes/0/value/calls/0/from"],
    ["entry that is not an array", () => { const p = connect(); p.entry = {}; return p; }, "/entry"],
    ["no entry", () => ({ object: "whatsapp_business_account" }), ""],
    ["a terminate without status", () => { const p = fixtureJson("webhooks/calls.terminate.completed.user-initiated.json"); delete call(p).status; return p; }, "/entry/0/changes/0/value/calls/0"],
    ["a status that is not a string", () => { const p = fixtureJson("webhooks/calls.status.ringing.json"); p.entry[0].changes[0].value.statuses[0].status = null; return p; }, "/entry/0/changes/0/value/statuses/0/status"],
    ["a webhook error without code", () => { const p = fixtureJson("webhooks/calls.terminate.failed.user-initiated.json"); delete p.entry[0].changes[0].value.errors[0].code; return p; }, "/entry/0/changes/0/value/errors/0"],
    ["a permission reply without response", () => { const p = fixtureJson("webhooks/messages.call_permission_reply.reject.json"); delete p.entry[0].changes[0].value.messages[0].interactive.call_permission_reply.response; return p; }, "/entry/0/changes/0/value/messages/0/interactive/call_permission_reply"],
  ];
  it.each(broken)("refuses %s, naming the path", (_name, make, path) => {
    const payload = make();
    const { valid, errors } = check("WebhookNotification", payload);
    expect(valid).toBe(false);
    expect(errors![0]!.instancePath).toBe(path);
    expect(generated.validateWebhookNotification(payload)).toBe(false);
    expect(generated.validateWebhookNotification.errors![0]!.instancePath).toBe(path);
  });

  it("is tolerant where Meta's pages disagree", () => {
    const p = connect();
    const c = call(p);
    c.timestamp = 1767268800; // Integer, as the tables say
    delete c.direction; // missing in one documented example
    delete c.from; // BSUID rollout
    c.from_user_id = "US.13491208655302741918";
    c.something_new = { nested: true }; // unknown properties pass
    delete p.entry[0].changes[0].value.contacts;
    expect(check("WebhookNotification", p).valid).toBe(true);
    const unknownEvent = connect();
    call(unknownEvent).event = "transfer"; // unknown events are not errors
    delete call(unknownEvent).session;
    expect(check("WebhookNotification", unknownEvent).valid).toBe(true);
    const unknownField = { object: "whatsapp_business_account", entry: [{ id: "1", changes: [{ field: "template_category_update", value: { anything: 1 } }] }] };
    expect(check("WebhookNotification", unknownField).valid).toBe(true);
    const terminate = fixtureJson("webhooks/calls.terminate.completed.user-initiated.json");
    call(terminate).duration = "182"; // a string duration
    expect(check("WebhookNotification", terminate).valid).toBe(true);
    // Numbers typed Integer in Meta's tables and sent as strings in its examples: both forms pass.
    const numeric = connect();
    call(numeric).from = 15550123456;
    call(numeric).to = 15550199001;
    numeric.entry[0].changes[0].value.contacts[0].wa_id = 15550123456;
    expect(check("WebhookNotification", numeric).valid).toBe(true);
    const ringing = fixtureJson("webhooks/calls.status.ringing.json");
    ringing.entry[0].changes[0].value.statuses[0].recipient_id = 15550123456;
    expect(check("WebhookNotification", ringing).valid).toBe(true);
    // Values Meta may add later pass, rather than making it re-deliver a whole batch for days.
    const future = connect();
    call(future).direction = "TRANSFERRED";
    call(future).session.sdp_type = "pranswer";
    call(future).from_user_id = "BR.NEWFORMAT-2027";
    expect(check("WebhookNotification", future).valid).toBe(true);
    const newStatus = fixtureJson("webhooks/calls.status.ringing.json");
    newStatus.entry[0].changes[0].value.statuses[0].status = "MISSED";
    expect(check("WebhookNotification", newStatus).valid).toBe(true);
    const newTerminate = fixtureJson("webhooks/calls.terminate.completed.user-initiated.json");
    call(newTerminate).status = "REJECTED";
    expect(check("WebhookNotification", newTerminate).valid).toBe(true);
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
