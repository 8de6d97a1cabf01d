// Calling settings in openapi.yaml: strict in what the package sends (CallingSettingsUpdate, compiled into
// validateUpdateSettingsRequest), liberal in what Meta returns (CallingSettings: GET /settings and the
// account_settings_update webhook). The payloads follow Meta's call-settings, SIP and API reference pages
// (../shared/reference/calling-api-2026.md §3, §4, §8).
import { describe, expect, it } from "vitest";
import { createSpecAjv, SPEC_SCHEMA_ID } from "../../scripts/generate.js";
import { loadSpec } from "../../scripts/lib/spec.js";
import { validateUpdateSettingsRequest } from "../../generated/request-validators.js";
import type { CallingSettings, CallingSettingsUpdate } from "../../generated/openapi.js";

const ajv = createSpecAjv(loadSpec());
function check(schema: string, value: unknown) {
  const validate = ajv.getSchema(`${SPEC_SCHEMA_ID}#/components/schemas/${schema}`)!;
  const valid = validate(value) as boolean;
  return { valid, path: valid ? undefined : validate.errors?.[0]?.instancePath };
}
/** The spec's ajv and the validator shipped in generated/ must agree on every request. */
function checkRequest(calling: unknown) {
  const body = { calling };
  const result = check("UpdateSettingsRequest", body);
  expect(validateUpdateSettingsRequest(body), JSON.stringify(body)).toBe(result.valid);
  return result;
}
const ok = { valid: true, path: undefined };

const voicemail = {
  status: "ENABLED",
  triggers: ["REJECT", "TIMEOUT"],
  audio: { default: { announcement_media_id: 938884519013664, timeout_seconds: 20 } },
};

describe("POST /settings: what is sent is checked", () => {
  it.each<[string, unknown]>([
    ["Meta's enable sample", { status: "ENABLED", call_icon_visibility: "DEFAULT", callback_permission_status: "ENABLED" }],
    ["Meta's voicemail sample", { voicemail }],
    ["voicemail disabled, nothing else", { voicemail: { status: "DISABLED" } }],
    ["voicemail on reject only, no timeout", { voicemail: { status: "ENABLED", triggers: ["REJECT"], audio: { default: { announcement_media_id: "938884519013664" } } } }],
    ["voicemail with a timeout of 0", { voicemail: { ...voicemail, audio: { default: { announcement_media_id: 1, timeout_seconds: 0 } } } }],
    ["call icons for two countries", { call_icons: { restrict_to_user_countries: ["BR", "MX"] } }],
    ["call icons for everyone", { call_icons: { restrict_to_user_countries: [] } }],
    ["G.711 codecs", { audio: { additional_codecs: ["PCMA", "PCMU"] } }],
    ["OPUS only", { audio: { additional_codecs: [] } }],
    ["video", { video: { status: "DISABLED" } }],
    ["SRTP as the SIP guide spells it", { srtp_key_exchange_protocol: "SDES" }],
    ["SRTP as the Settings API reference spells it", { srtp_key_exchange_protocol: "DTLS-SRTP" }],
    [
      "SIP server with request-URI parameters",
      { sip: { status: "ENABLED", servers: [{ hostname: "sip.example.com", port: 5061, request_uri_user_params: { tgrp: "wacall", "trunk-context": "byoc.example.com" } }] } },
    ],
    ["SIP password reset step", { status: "DISABLED", sip: { status: "DISABLED", servers: [] } }],
    [
      "call hours with a holiday",
      {
        call_hours: {
          status: "ENABLED",
          timezone_id: "America/Sao_Paulo",
          weekly_operating_hours: [{ day_of_week: "MONDAY", open_time: "0400", close_time: "1020" }],
          holiday_schedule: [{ date: "2026-12-25", start_time: "0000", end_time: "2359" }],
        },
      },
    ],
  ])("sends %s", (_, calling) => {
    expect(checkRequest(calling)).toEqual(ok);
  });

  it.each<[string, unknown, string]>([
    ["a lower-case status", { status: "enabled" }, "/calling/status"],
    ["an unknown status", { status: "ON" }, "/calling/status"],
    ["HIDE_IN_CHAT (named only in the FAQ)", { call_icon_visibility: "HIDE_IN_CHAT" }, "/calling/call_icon_visibility"],
    ["DISABLE ALL with a space", { call_icon_visibility: "DISABLE ALL" }, "/calling/call_icon_visibility"],
    ["an HH:MM time", { call_hours: { status: "ENABLED", weekly_operating_hours: [{ day_of_week: "MONDAY", open_time: "04:00", close_time: "1020" }] } }, "/calling/call_hours/weekly_operating_hours/0/open_time"],
    ["a time as a number", { call_hours: { status: "ENABLED", weekly_operating_hours: [{ day_of_week: "MONDAY", open_time: 400, close_time: "1020" }] } }, "/calling/call_hours/weekly_operating_hours/0/open_time"],
    ["hour 24", { call_hours: { status: "ENABLED", weekly_operating_hours: [{ day_of_week: "MONDAY", open_time: "2400", close_time: "2359" }] } }, "/calling/call_hours/weekly_operating_hours/0/open_time"],
    ["a lower-case day", { call_hours: { status: "ENABLED", weekly_operating_hours: [{ day_of_week: "monday", open_time: "0400", close_time: "1020" }] } }, "/calling/call_hours/weekly_operating_hours/0/day_of_week"],
    ["21 holidays", { call_hours: { status: "ENABLED", holiday_schedule: Array.from({ length: 21 }, () => ({ date: "2026-12-25", start_time: "0000", end_time: "2359" })) } }, "/calling/call_hours/holiday_schedule"],
    ["a lower-case country", { call_icons: { restrict_to_user_countries: ["br"] } }, "/calling/call_icons/restrict_to_user_countries/0"],
    ["a country twice", { call_icons: { restrict_to_user_countries: ["BR", "BR"] } }, "/calling/call_icons/restrict_to_user_countries"],
    ["an unknown codec", { audio: { additional_codecs: ["G729"] } }, "/calling/audio/additional_codecs/0"],
    ["a codec twice", { audio: { additional_codecs: ["PCMA", "PCMA"] } }, "/calling/audio/additional_codecs"],
    ["an unknown SRTP protocol", { srtp_key_exchange_protocol: "ZRTP" }, "/calling/srtp_key_exchange_protocol"],
    ["SIP enabled without a server", { sip: { status: "ENABLED", servers: [] } }, "/calling/sip/servers"],
    ["SIP enabled, servers left out", { sip: { status: "ENABLED" } }, "/calling/sip"],
    ["a SIP server without hostname", { sip: { status: "DISABLED", servers: [{ port: 5061 }] } }, "/calling/sip/servers/0"],
    ["a SIP port as a string", { sip: { status: "DISABLED", servers: [{ hostname: "sip.example.com", port: "5061" }] } }, "/calling/sip/servers/0/port"],
    ["a SIP port out of range", { sip: { status: "DISABLED", servers: [{ hostname: "sip.example.com", port: 70000 }] } }, "/calling/sip/servers/0/port"],
    ["a request-URI parameter over 128 characters", { sip: { status: "DISABLED", servers: [{ hostname: "h", request_uri_user_params: { tgrp: "x".repeat(129) } }] } }, "/calling/sip/servers/0/request_uri_user_params/tgrp"],
    ["voicemail without status", { voicemail: { triggers: ["REJECT"] } }, "/calling/voicemail"],
    ["voicemail enabled without triggers", { voicemail: { status: "ENABLED", audio: voicemail.audio } }, "/calling/voicemail"],
    ["voicemail enabled with no trigger", { voicemail: { ...voicemail, triggers: [] } }, "/calling/voicemail/triggers"],
    ["voicemail enabled without audio", { voicemail: { status: "ENABLED", triggers: ["REJECT"] } }, "/calling/voicemail"],
    ["an unknown trigger", { voicemail: { ...voicemail, triggers: ["BUSY"] } }, "/calling/voicemail/triggers/0"],
    ["TIMEOUT without timeout_seconds", { voicemail: { ...voicemail, audio: { default: { announcement_media_id: 1 } } } }, "/calling/voicemail/audio/default"],
    ["timeout_seconds 31", { voicemail: { ...voicemail, audio: { default: { announcement_media_id: 1, timeout_seconds: 31 } } } }, "/calling/voicemail/audio/default/timeout_seconds"],
    ["no announcement", { voicemail: { ...voicemail, audio: { default: { timeout_seconds: 20 } } } }, "/calling/voicemail/audio/default"],
    ["an announcement id with letters", { voicemail: { ...voicemail, audio: { default: { announcement_media_id: "media-1", timeout_seconds: 20 } } } }, "/calling/voicemail/audio/default/announcement_media_id"],
    ["video in lower case", { video: { status: "enabled" } }, "/calling/video/status"],
  ])("refuses %s", (_, calling, path) => {
    expect(checkRequest(calling)).toEqual({ valid: false, path });
  });

  it("sends the calling settings and nothing beside them (one feature setting per request)", () => {
    const body = { calling: { status: "ENABLED" }, payload_encryption: { status: "ENABLED" } };
    expect(check("UpdateSettingsRequest", body)).toEqual({ valid: false, path: "" });
    expect(validateUpdateSettingsRequest(body)).toBe(false);
  });
});

describe("GET /settings and account_settings_update: what Meta reports is read", () => {
  it.each<[string, unknown]>([
    ["call hours written HH:MM (the API reference's call-hours block)", { call_hours: { status: "ENABLED", timezone_id: "Asia/Kolkata", weekly_operating_hours: [{ day_of_week: "MONDAY", open_time: "04:00", close_time: "10:20" }], holiday_schedule: [{ date: "2026-01-01", start_time: "00:00", end_time: "23:59" }] } }],
    ["times as the tables type them (Integer)", { call_hours: { weekly_operating_hours: [{ day_of_week: "MONDAY", open_time: 400, close_time: 1020 }] } }],
    ["lower-case enums of the generated reference", { status: "enabled", call_icon_visibility: "visible", audio: { status: "disabled" }, video: { status: "disabled" } }],
    ["DISABLE ALL with a space", { call_icon_visibility: "DISABLE ALL" }],
    ["values no page lists yet", { status: "PAUSED", call_icon_visibility: "SOMETHING_NEW", srtp_key_exchange_protocol: "ZRTP", voicemail: { status: "ENABLED", triggers: ["BUSY"] }, audio: { additional_codecs: ["G722"] } }],
    ["SIP with the guide's credential name and app id", { sip: { status: "ENABLED", servers: [{ app_id: "1249108362853614", hostname: "sip.example.com", sip_user_password: "secret" }] } }],
    ["SIP with the reference's credential name and a string port", { sip: { status: "ENABLED", servers: [{ app_id: 1249108362853614, hostname: "sip.example.com", port: "5061", password: "secret" }] } }],
    ["restrictions under the sample's name", { restrictions: { restrictions_list: [{ type: "RESTRICTED_USER_INITIATED_CALLING", reason: "Low pickup rate", expiration: 1767873720 }] } }],
    ["restrictions under the table's name", { restrictions: { restriction_list: [{ type: "RESTRICTED_BUSINESS_INITIATED_CALLING", expiration: "1767873720" }] } }],
    ["restrictions under the generated reference's name, Nov 2025 value", { restrictions: { restrictions: [{ type: "RESTRICTED_BIZ_INITIATED_AND_USER_INITIATED_CALLING", expiration: 1767873720 }] } }],
    ["ip addresses", { ip_addresses: { default: ["157.240.0.1", "2a03:2880::1"] } }],
    ["documented nulls", { call_hours: null, sip: null, audio: null, voicemail: null, call_icons: null, restrictions: null }],
    ["a voicemail announcement id as a string", { voicemail: { status: "ENABLED", triggers: ["TIMEOUT"], audio: { default: { announcement_media_id: "938884519013664", timeout_seconds: 20 } } } }],
    ["fields no page lists", { something_new: { status: "ENABLED" } }],
  ])("reads %s", (_, calling) => {
    expect(check("CallingSettings", calling)).toEqual(ok);
    expect(check("PhoneNumberSettings", { calling })).toEqual(ok);
  });

  it("reads calling: null and a response without calling", () => {
    expect(check("PhoneNumberSettings", { calling: null })).toEqual(ok);
    expect(check("PhoneNumberSettings", { payload_encryption: { status: "ENABLED" } })).toEqual(ok);
  });

  it("still needs objects where objects are documented", () => {
    expect(check("CallingSettings", { sip: "ENABLED" })).toEqual({ valid: false, path: "/sip" });
    expect(check("CallingSettings", { call_hours: { weekly_operating_hours: "MONDAY" } })).toEqual({ valid: false, path: "/call_hours/weekly_operating_hours" });
  });
});

describe("call-permission request message", () => {
  const message = (who: Record<string, string>) => ({
    messaging_product: "whatsapp",
    recipient_type: "individual",
    ...who,
    type: "interactive",
    interactive: { type: "call_permission_request", action: { name: "call_permission_request" }, body: { text: "May we call you?" } },
  });

  it("names the user by phone number, by BSUID, or both", () => {
    expect(check("CallPermissionRequestMessage", message({ to: "15550123456" }))).toEqual(ok);
    expect(check("CallPermissionRequestMessage", message({ recipient: "US.13491208655302741918" }))).toEqual(ok);
    expect(check("CallPermissionRequestMessage", message({ recipient: "US.ENT.13491208655302741918" }))).toEqual(ok);
    expect(check("CallPermissionRequestMessage", message({ to: "15550123456", recipient: "US.13491208655302741918" }))).toEqual(ok);
  });

  it("refuses a message with neither, or a recipient that is not a BSUID", () => {
    expect(check("CallPermissionRequestMessage", message({}))).toEqual({ valid: false, path: "" });
    // ajv checks the "to or recipient" choice first, so the error is reported at the message itself.
    expect(check("CallPermissionRequestMessage", message({ recipient: "15550123456" })).valid).toBe(false);
    expect(check("CallPermissionRequestMessage", message({ to: "15550123456", recipient: "15550123456" }))).toEqual({ valid: false, path: "/recipient" });
  });
});

// Checked by `npm run typecheck`: the update type is closed, the reported type open.
type Update = CallingSettingsUpdate;
const update: Update = { status: "ENABLED", srtp_key_exchange_protocol: "SDES-SRTP", voicemail: { status: "DISABLED" } };
// @ts-expect-error -- requests send only documented values
const typo: Update = { call_icon_visibility: "HIDE_IN_CHAT" };
// @ts-expect-error -- and upper case
const lower: Update = { status: "enabled" };
const reported: CallingSettings = { status: "enabled", call_icon_visibility: "DISABLE ALL", call_hours: null };
const status: "ENABLED" | "DISABLED" | (string & {}) | undefined = reported.status;
void [update, typo, lower, status];
