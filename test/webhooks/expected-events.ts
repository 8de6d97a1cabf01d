import type { WebhookEvent } from "../../src/webhooks/index.js";
import {
  BUSINESS_CALL_ID,
  deliveryFixtures,
  FAILED_CALL_ID,
  fixtureJson,
  PHONE_NUMBER_ID,
  USER_CALL_ID,
  WABA_ID,
} from "./helpers.js";

export const valueOf = (file: string) => fixtureJson(file).entry[0].changes[0].value;
const danaContact = { profile: { name: "Dana Okafor" }, wa_id: "15550123456" };

/** The events each shared fixture must give, written out. */
export const expectedFixtureEvents: Record<(typeof deliveryFixtures)[number], WebhookEvent[]> = {
  "webhooks/calls.connect.user-initiated.json": [
    {
      type: "call.connect",
      wabaId: WABA_ID,
      phoneNumberId: PHONE_NUMBER_ID,
      timestamp: 1767268800,
      callId: USER_CALL_ID,
      data: valueOf("webhooks/calls.connect.user-initiated.json").calls[0],
      contact: danaContact,
    },
  ],
  "webhooks/calls.connect.business-initiated.json": [
    {
      type: "call.connect",
      wabaId: WABA_ID,
      phoneNumberId: PHONE_NUMBER_ID,
      timestamp: 1767272402,
      callId: BUSINESS_CALL_ID,
      data: valueOf("webhooks/calls.connect.business-initiated.json").calls[0],
      contact: { wa_id: "15550123456" },
    },
  ],
  "webhooks/calls.status.ringing.json": [
    {
      type: "call.status",
      wabaId: WABA_ID,
      phoneNumberId: PHONE_NUMBER_ID,
      timestamp: 1767272403,
      callId: BUSINESS_CALL_ID,
      data: {
        id: BUSINESS_CALL_ID,
        timestamp: "1767272403",
        type: "call",
        status: "RINGING",
        recipient_id: "15550123456",
        biz_opaque_callback_data: "ticket-48213",
      },
    },
  ],
  "webhooks/calls.terminate.completed.user-initiated.json": [
    {
      type: "call.terminate",
      wabaId: WABA_ID,
      phoneNumberId: PHONE_NUMBER_ID,
      timestamp: 1767268987,
      callId: USER_CALL_ID,
      data: {
        id: USER_CALL_ID,
        to: "15550199001",
        from: "15550123456",
        event: "terminate",
        direction: "USER_INITIATED",
        biz_opaque_callback_data: "agent-7f3c",
        timestamp: "1767268987",
        status: "COMPLETED",
        start_time: "1767268804",
        end_time: "1767268986",
        duration: 182,
      },
      contact: danaContact,
    },
  ],
  "webhooks/calls.terminate.failed.user-initiated.json": [
    {
      type: "call.terminate",
      wabaId: WABA_ID,
      phoneNumberId: PHONE_NUMBER_ID,
      timestamp: 1767269700,
      callId: FAILED_CALL_ID,
      data: valueOf("webhooks/calls.terminate.failed.user-initiated.json").calls[0],
      errors: [
        {
          code: 138021,
          message: "Media receive timeout",
          href: "https://developers.facebook.com/documentation/business-messaging/whatsapp/calling/troubleshooting",
          error_data: { details: "The WhatsApp client terminated the call because no media was received." },
        },
      ],
    },
  ],
  "webhooks/messages.call_permission_reply.accept-temporary.json": [
    {
      type: "call_permission.reply",
      wabaId: WABA_ID,
      phoneNumberId: PHONE_NUMBER_ID,
      timestamp: 1767268920,
      data: valueOf("webhooks/messages.call_permission_reply.accept-temporary.json").messages[0],
      contact: danaContact,
    },
  ],
  "webhooks/messages.call_permission_reply.reject.json": [
    {
      type: "call_permission.reply",
      wabaId: WABA_ID,
      phoneNumberId: PHONE_NUMBER_ID,
      timestamp: 1767268920,
      data: valueOf("webhooks/messages.call_permission_reply.reject.json").messages[0],
      contact: danaContact,
    },
  ],
};

/**
 * One delivery with two entries, several changes, two calls, two statuses and every kind of field, as Meta may
 * batch them; `expectedBatchOrder` is what must come out, in this order.
 */
export function batchDelivery() {
  const connect = valueOf("webhooks/calls.connect.user-initiated.json");
  const terminate = valueOf("webhooks/calls.terminate.completed.user-initiated.json");
  const failed = valueOf("webhooks/calls.terminate.failed.user-initiated.json");
  const status = valueOf("webhooks/calls.status.ringing.json");
  const permission = valueOf("webhooks/messages.call_permission_reply.accept-temporary.json");
  const accepted = { ...status.statuses[0], status: "ACCEPTED", timestamp: "1767272410" };
  return {
    object: "whatsapp_business_account",
    entry: [
      {
        id: WABA_ID,
        changes: [
          { field: "calls", value: connect },
          { field: "calls", value: { ...status, statuses: [status.statuses[0], accepted] } },
          {
            field: "calls",
            value: { ...terminate, calls: [terminate.calls[0], failed.calls[0], { id: "wacid.other", event: "transfer" }], errors: failed.errors },
          },
        ],
      },
      {
        id: "200000000000001",
        time: 1767270000,
        changes: [
          {
            field: "messages",
            value: {
              ...permission,
              messages: [
                { from: "15550123456", id: "wamid.text", timestamp: "1767268921", type: "text", text: { body: "hi" } },
                permission.messages[0],
              ],
              statuses: [{ id: "wamid.sent", status: "delivered" }],
            },
          },
          {
            field: "account_settings_update",
            value: {
              messaging_product: "whatsapp",
              timestamp: "1767270001",
              type: "phone_number_settings",
              phone_number_settings: { phone_number_id: PHONE_NUMBER_ID, calling: { status: "ENABLED" } },
            },
          },
          { field: "account_update", value: { event: "ACCOUNT_VIOLATION", violation_info: { violation_type: "LOW_USER_INITIATED_CALLING_QUALITY" } } },
          { field: "flows", value: { event: "FLOW_STATUS_CHANGE", metadata: { phone_number_id: "999" } } },
          { field: "calls", value: { messaging_product: "whatsapp", metadata: { phone_number_id: PHONE_NUMBER_ID }, calls: [] } },
        ],
      },
    ],
  };
}

export const expectedBatchOrder = [
  ["call.connect", USER_CALL_ID],
  ["call.status", `${BUSINESS_CALL_ID}:RINGING`],
  ["call.status", `${BUSINESS_CALL_ID}:ACCEPTED`],
  ["call.terminate", USER_CALL_ID],
  ["call.terminate", FAILED_CALL_ID],
  ["unknown", "calls:wacid.other"],
  ["unknown", "messages:wamid.text"],
  ["call_permission.reply", "wamid.GAsxNTU1MDEyMzQ1NhUCABEYEjIyOTg4NTJGN0NBM0UzMTE4OQA="],
  ["unknown", "messages:wamid.sent"],
  ["account_settings.update", PHONE_NUMBER_ID],
  ["account.update", "ACCOUNT_VIOLATION"],
  ["unknown", "flows:999"],
  ["unknown", `calls:${PHONE_NUMBER_ID}`],
];

export function describeEvent(event: WebhookEvent): [string, string] {
  switch (event.type) {
    case "call.status":
      return [event.type, `${event.callId}:${event.data.status}`];
    case "call.connect":
    case "call.terminate":
    case "call.recording_available":
    case "call.transcription_available":
    case "call.created":
    case "call.voicemail":
      return [event.type, event.callId];
    case "invalid":
      return [event.type, `${event.expected}:${event.path}`];
    case "call_permission.reply":
      return [event.type, event.data.id];
    case "account_settings.update":
      return [event.type, event.phoneNumberId ?? ""];
    case "account.update":
      return [event.type, event.data.event];
    case "unknown": {
      const data = event.data as { id?: string; metadata?: { phone_number_id?: string } };
      return [event.type, `${event.field}:${data.id ?? data.metadata?.phone_number_id ?? ""}`];
    }
  }
}

