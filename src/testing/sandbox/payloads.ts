// The webhooks the sandbox sends, in the shapes of openapi.yaml (types from generated/, nothing written again):
// every field Meta fills in on a real delivery is filled in here too (timestamps, durations, contacts,
// biz_opaque_callback_data, errors at the value level as in Meta's real 138021 delivery).
import type {
  AccountSettingsUpdateWebhookNotification,
  CallCreatedWebhookItem,
  CallPermissionReply,
  CallingSettings,
  CallRecordingWebhookItem,
  CallStatusEvent,
  CallTranscriptionWebhookItem,
  CallsWebhookNotification,
  CallsWebhookValue,
  ConnectCallEvent,
  MessagesWebhookNotification,
  MessagesWebhookValue,
  TerminateCallEvent,
  VoicemailWebhookMessage,
  WebhookContact,
  WebhookError,
  WebhookMedia,
} from "../../../generated/openapi.js";
import { ERROR_CATALOGUE } from "../../../generated/error-catalogue.js";
import type { CallEnd, SandboxCall } from "./calls.js";

/** The business side of every delivery. */
export interface BusinessIdentity {
  readonly wabaId: string;
  readonly phoneNumberId: string;
  readonly displayPhoneNumber: string;
}

const seconds = (ms: number) => String(Math.floor(ms / 1000));

/** One change of the business's number, as Meta delivers it: `value` with the number's metadata. */
function envelope<F extends string, V extends object>(business: BusinessIdentity, field: F, value: V) {
  const metadata = { display_phone_number: business.displayPhoneNumber, phone_number_id: business.phoneNumberId };
  return {
    object: "whatsapp_business_account",
    entry: [{ id: business.wabaId, changes: [{ field, value: { messaging_product: "whatsapp" as const, metadata, ...value } }] }],
  };
}

function callsEnvelope(business: BusinessIdentity, value: Omit<CallsWebhookValue, "messaging_product" | "metadata">): CallsWebhookNotification {
  return envelope(business, "calls", value);
}

function messagesEnvelope(business: BusinessIdentity, value: Omit<MessagesWebhookValue, "messaging_product" | "metadata">): MessagesWebhookNotification {
  return envelope(business, "messages", value);
}

function contactOf(call: SandboxCall, name: string | undefined): WebhookContact {
  return name === undefined ? { wa_id: call.user } : { profile: { name }, wa_id: call.user };
}

/** `from` and `to` of a call item: the user calls the business, or the business calls the user. */
function parties(call: SandboxCall, business: BusinessIdentity) {
  return call.direction === "USER_INITIATED"
    ? { from: call.user, to: business.displayPhoneNumber }
    : { from: business.displayPhoneNumber, to: call.user };
}

/** What a call's connect and terminate items share: who, when, which way, and what Meta echoes back (only the fields that were set). */
function callItem<E extends "connect" | "terminate" | "call_created">(business: BusinessIdentity, call: SandboxCall, event: E, now: number) {
  return {
    id: call.id,
    ...parties(call, business),
    event,
    timestamp: seconds(now),
    direction: call.direction,
    ...(call.bizOpaqueCallbackData === undefined ? {} : { biz_opaque_callback_data: call.bizOpaqueCallbackData }),
    ...(call.deeplinkPayload === undefined ? {} : { deeplink_payload: call.deeplinkPayload }),
    ...(call.ctaPayload === undefined ? {} : { cta_payload: call.ctaPayload }),
  };
}

export function connectWebhook(
  business: BusinessIdentity,
  call: SandboxCall,
  session: { sdp_type: "offer" | "answer"; sdp: string },
  userName: string | undefined,
  now: number,
): CallsWebhookNotification {
  const item: ConnectCallEvent = { ...callItem(business, call, "connect", now), session };
  return callsEnvelope(business, { contacts: [contactOf(call, userName)], calls: [item] });
}

/** A call attempted over SIP: the connect's fields without a `session` (calling-api-2026.md §4). */
export function callCreatedWebhook(business: BusinessIdentity, call: SandboxCall, userName: string | undefined, now: number): CallsWebhookNotification {
  const item: CallCreatedWebhookItem = callItem(business, call, "call_created", now);
  return callsEnvelope(business, { contacts: [contactOf(call, userName)], calls: [item] });
}

/** The webhook error object for a code of the catalogue, as Meta's real 138021 delivery had it. */
export function webhookError(code: number, details: string | undefined): WebhookError {
  const title = ERROR_CATALOGUE[code]?.title ?? "Calling error";
  return {
    code,
    title,
    message: title,
    href: "https://developers.facebook.com/documentation/business-messaging/whatsapp/calling/troubleshooting",
    error_data: { details: details ?? ERROR_CATALOGUE[code]?.description ?? title },
  };
}

export function terminateWebhook(
  business: BusinessIdentity,
  call: SandboxCall,
  end: CallEnd,
  userName: string | undefined,
  now: number,
): CallsWebhookNotification {
  const picked = call.acceptedAt;
  const errors = end.errorCode === undefined ? undefined : [webhookError(end.errorCode, end.errorDetails)];
  const item: TerminateCallEvent = {
    ...callItem(business, call, "terminate", now),
    status: end.status,
    // Only a call that was picked up has a start, an end and a duration.
    ...(picked === undefined
      ? {}
      : { start_time: seconds(picked), end_time: seconds(now), duration: Math.max(0, Math.floor(now / 1000) - Math.floor(picked / 1000)) }),
    ...(errors === undefined ? {} : { errors }),
  };
  return callsEnvelope(business, {
    contacts: [contactOf(call, userName)],
    calls: [item],
    ...(errors === undefined ? {} : { errors }),
  });
}

/**
 * After a recorded call: its recording, in Meta's sample's shape (no `to`, `direction` or `status`; `from` is the
 * user, for calls in either direction, as the only sample has it).
 */
export function recordingWebhook(business: BusinessIdentity, call: SandboxCall, audio: WebhookMedia, now: number): CallsWebhookNotification {
  const item: CallRecordingWebhookItem = { id: call.id, from: call.user, timestamp: seconds(now), event: "call_recording_available", call_recording: { type: "audio", audio } };
  return callsEnvelope(business, { calls: [item] });
}

/** After a transcribed call: its transcript document (`call_transcript`, which has no `type`). */
export function transcriptionWebhook(business: BusinessIdentity, call: SandboxCall, document: WebhookMedia, now: number): CallsWebhookNotification {
  const item: CallTranscriptionWebhookItem = { id: call.id, from: call.user, timestamp: seconds(now), event: "call_transcription_available", call_transcript: { document } };
  return callsEnvelope(business, { calls: [item] });
}

export function statusWebhook(
  business: BusinessIdentity,
  call: SandboxCall,
  status: "RINGING" | "ACCEPTED" | "REJECTED",
  now: number,
): CallsWebhookNotification {
  const item: CallStatusEvent = {
    id: call.id,
    timestamp: seconds(now),
    type: "call",
    status,
    recipient_id: call.user,
    ...(call.bizOpaqueCallbackData === undefined ? {} : { biz_opaque_callback_data: call.bizOpaqueCallbackData }),
  };
  return callsEnvelope(business, { statuses: [item] });
}

export function permissionReplyWebhook(
  business: BusinessIdentity,
  user: string,
  userName: string | undefined,
  messageId: string,
  requestId: string,
  reply: CallPermissionReply,
  now: number,
): MessagesWebhookNotification {
  return messagesEnvelope(business, {
    contacts: [userName === undefined ? { wa_id: user } : { profile: { name: userName }, wa_id: user }],
    messages: [
      {
        from: user,
        id: messageId,
        timestamp: seconds(now),
        context: { from: business.displayPhoneNumber, id: requestId },
        type: "interactive",
        interactive: { type: "call_permission_reply", call_permission_reply: reply },
      },
    ],
  });
}

/** A voicemail: an audio message whose id is the call id (calling-api-2026.md §3, Meta's sample has no `url`). */
export function voicemailWebhook(business: BusinessIdentity, call: SandboxCall, audio: Omit<WebhookMedia, "url">, now: number): MessagesWebhookNotification {
  const message: VoicemailWebhookMessage = { id: call.id, from: call.user, timestamp: seconds(now), type: "audio", audio };
  return messagesEnvelope(business, { contacts: [contactOf(call, call.userName)], messages: [message] });
}

/** Sent when the calling settings change, the business's own changes included. */
export function settingsUpdateWebhook(business: BusinessIdentity, calling: CallingSettings, now: number): AccountSettingsUpdateWebhookNotification {
  return {
    object: "whatsapp_business_account",
    entry: [
      {
        id: business.wabaId,
        changes: [
          {
            field: "account_settings_update",
            value: {
              messaging_product: "whatsapp",
              timestamp: seconds(now),
              type: "phone_number_settings",
              phone_number_settings: { phone_number_id: business.phoneNumberId, calling },
            },
          },
        ],
      },
    ],
  };
}
