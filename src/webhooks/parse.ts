import type {
  AccountSettingsUpdateValue,
  AccountUpdateValue,
  CallPermissionReplyMessage,
  CallStatusEvent,
  CallsWebhookValue,
  CallWebhookEvent,
  ConnectCallEvent,
  MessagesWebhookValue,
  TerminateCallEvent,
  UnixTimestamp,
  WebhookContact,
  WebhookEntry,
  WebhookError,
  WebhookNotification,
  WebhookPhoneNumber,
} from "../../generated/openapi.js";
import { validateWebhookNotification, type SchemaError } from "../../generated/validators.js";
import { isRawBody, rawBodyBytes } from "./bytes.js";
import { WebhookPayloadError } from "./errors.js";

/** Fields every event carries where the delivery has them. */
export interface WebhookEventContext {
  /** `entry[].id`: the WhatsApp Business Account the update is about. */
  wabaId: string;
  /** The business phone number id (`value.metadata.phone_number_id`, or the settings' `phone_number_id`). */
  phoneNumberId?: string;
  /** Unix seconds, from the item (or the value, or the entry) as a number; Meta sends it as a string. */
  timestamp?: number;
}

/** `calls[]` item with `event: "connect"`: the caller's SDP offer (user-initiated) or Meta's SDP answer (business-initiated). */
export interface CallConnectWebhookEvent extends WebhookEventContext {
  type: "call.connect";
  callId: string;
  data: ConnectCallEvent;
  /** The `contacts[]` entry of the user on the other end, when the delivery has one. */
  contact?: WebhookContact;
}

/** `calls[]` item with `event: "terminate"`: every call that ends. */
export interface CallTerminateWebhookEvent extends WebhookEventContext {
  type: "call.terminate";
  callId: string;
  data: TerminateCallEvent;
  /** `value.errors[]` of the change (a failed call's reasons); shared by every terminate item of that change. */
  errors?: WebhookError[];
  contact?: WebhookContact;
}

/** `statuses[]` item of the `calls` field: RINGING, ACCEPTED or REJECTED of a business-initiated call. */
export interface CallStatusWebhookEvent extends WebhookEventContext {
  type: "call.status";
  callId: string;
  data: CallStatusEvent;
  contact?: WebhookContact;
}

/** `messages[]` item that is an interactive `call_permission_reply`. */
export interface CallPermissionReplyWebhookEvent extends WebhookEventContext {
  type: "call_permission.reply";
  data: CallPermissionReplyMessage;
  contact?: WebhookContact;
}

/** `account_settings_update` field: the calling settings of a number changed. */
export interface AccountSettingsUpdateWebhookEvent extends WebhookEventContext {
  type: "account_settings.update";
  data: AccountSettingsUpdateValue;
}

/** `account_update` field: a calling-quality warning (`ACCOUNT_VIOLATION`) or pause (`ACCOUNT_RESTRICTION`). */
export interface AccountUpdateWebhookEvent extends WebhookEventContext {
  type: "account.update";
  data: AccountUpdateValue;
}

/**
 * Anything else, passed through: the change's `value` of a field this package does not describe, or the item
 * (of `calls[]`, `messages[]` or `statuses[]`) of a known field that is not a calling event, such as a text
 * message. A change of a known field that yields no event at all is passed through whole, so nothing is dropped.
 */
export interface UnknownWebhookEvent extends WebhookEventContext {
  type: "unknown";
  field: string;
  data: unknown;
}

/** One update of a delivery, discriminated by `type`. */
export type WebhookEvent =
  | CallConnectWebhookEvent
  | CallTerminateWebhookEvent
  | CallStatusWebhookEvent
  | CallPermissionReplyWebhookEvent
  | AccountSettingsUpdateWebhookEvent
  | AccountUpdateWebhookEvent
  | UnknownWebhookEvent;

export type WebhookEventType = WebhookEvent["type"];

/** Every event type, e.g. to check the keys of a handler table read from configuration. */
export const WEBHOOK_EVENT_TYPES = [
  "call.connect",
  "call.terminate",
  "call.status",
  "call_permission.reply",
  "account_settings.update",
  "account.update",
  "unknown",
] as const satisfies readonly WebhookEventType[];

/** The event type for one `type`, e.g. `WebhookEventOf<"call.connect">`. */
export type WebhookEventOf<Type extends WebhookEventType> = Extract<WebhookEvent, { type: Type }>;

/**
 * Turns a delivery into events: one per item of every entry, change, `calls[]`, `messages[]` and `statuses[]`, in
 * delivery order. `body` is the raw body (string, `Uint8Array`, `ArrayBuffer`) or JSON already parsed.
 *
 * The payload is checked with the validator compiled from openapi.yaml; anything that breaks the schema, is not
 * JSON, is empty, or is not an object with `entry` throws `WebhookPayloadError` naming the first offending path.
 * Parse only what `verifySignature` accepted.
 */
export function parseWebhook(body: unknown): WebhookEvent[] {
  const payload = isRawBody(body) ? parseJson(body) : body;
  if (!validateWebhookNotification(payload)) {
    throw schemaError(validateWebhookNotification.errors?.[0], payload);
  }
  return (payload as WebhookNotification).entry.flatMap(eventsOfEntry);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function parseJson(body: string | Uint8Array | ArrayBuffer): unknown {
  let text: string;
  try {
    text = typeof body === "string" ? body : strictUtf8.decode(rawBodyBytes(body));
  } catch {
    throw new WebhookPayloadError("Webhook body is not valid UTF-8");
  }
  if (text.length === 0) throw new WebhookPayloadError("Webhook body is empty");
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the body, which can hold SDP; it is left out.
    throw new WebhookPayloadError("Webhook body is not valid JSON");
  }
}

function eventsOfEntry(entry: WebhookEntry): WebhookEvent[] {
  return entry.changes.flatMap((change) => {
    const value: unknown = change.value;
    const events = eventsOfChange(entry, change.field, value);
    return events.length > 0 ? events : [unknownEvent(entry, change.field, value, value)];
  });
}

function eventsOfChange(entry: WebhookEntry, field: string, value: unknown): WebhookEvent[] {
  switch (field) {
    case "calls":
      return callsEvents(entry, value as CallsWebhookValue);
    case "messages":
      return messagesEvents(entry, value as MessagesWebhookValue);
    case "account_settings_update": {
      const data = value as AccountSettingsUpdateValue;
      return [
        {
          type: "account_settings.update",
          wabaId: entry.id,
          phoneNumberId: data.phone_number_settings?.phone_number_id,
          timestamp: seconds(data.timestamp ?? entry.time),
          data,
        },
      ];
    }
    case "account_update":
      return [{ type: "account.update", wabaId: entry.id, timestamp: seconds(entry.time), data: value as AccountUpdateValue }];
    default:
      return [];
  }
}

function callsEvents(entry: WebhookEntry, value: CallsWebhookValue): WebhookEvent[] {
  const context = (timestamp: UnixTimestamp | undefined) => ({
    wabaId: entry.id,
    phoneNumberId: value.metadata.phone_number_id,
    timestamp: seconds(timestamp ?? entry.time),
  });
  const calls = (value.calls ?? []).map((item: CallWebhookEvent): WebhookEvent => {
    if (item.event === "connect") {
      const data = item as ConnectCallEvent;
      return {
        type: "call.connect",
        ...context(data.timestamp),
        callId: data.id,
        data,
        contact: contactOf(value.contacts, [data.from, data.to], [data.from_user_id, data.to_user_id]),
      };
    }
    if (item.event === "terminate") {
      const data = item as TerminateCallEvent;
      return {
        type: "call.terminate",
        ...context(data.timestamp),
        callId: data.id,
        data,
        errors: value.errors,
        contact: contactOf(value.contacts, [data.from, data.to], [data.from_user_id, data.to_user_id]),
      };
    }
    return unknownEvent(entry, "calls", value, item);
  });
  const statuses = (value.statuses ?? []).map(
    (data): WebhookEvent => ({
      type: "call.status",
      ...context(data.timestamp),
      callId: data.id,
      data,
      contact: contactOf(value.contacts, [data.recipient_id], [data.recipient_user_id]),
    }),
  );
  return [...calls, ...statuses];
}

function messagesEvents(entry: WebhookEntry, value: MessagesWebhookValue): WebhookEvent[] {
  const messages = (value.messages ?? []).map((message): WebhookEvent => {
    if (message.type === "interactive" && message.interactive?.type === "call_permission_reply") {
      // The validator checked this message against CallPermissionReplyMessage (the schema's if/then).
      const data = message as CallPermissionReplyMessage;
      return {
        type: "call_permission.reply",
        wabaId: entry.id,
        phoneNumberId: value.metadata.phone_number_id,
        timestamp: seconds(data.timestamp ?? entry.time),
        data,
        contact: contactOf(value.contacts, [data.from], [message.from_user_id]),
      };
    }
    return unknownEvent(entry, "messages", value, message);
  });
  const statuses = (value.statuses ?? []).map((status) => unknownEvent(entry, "messages", value, status));
  return [...messages, ...statuses];
}

function unknownEvent(entry: WebhookEntry, field: string, value: unknown, data: unknown): UnknownWebhookEvent {
  const metadata = isObject(value) ? value["metadata"] : undefined;
  const phoneNumberId = isObject(metadata) ? metadata["phone_number_id"] : undefined;
  return {
    type: "unknown",
    wabaId: entry.id,
    phoneNumberId: typeof phoneNumberId === "string" ? phoneNumberId : undefined,
    timestamp: seconds(entry.time),
    field,
    data,
  };
}

/** The user's `contacts[]` entry: matched by phone number or BSUID, else the only contact there is. */
function contactOf(
  contacts: WebhookContact[] | undefined,
  phoneNumbers: (WebhookPhoneNumber | undefined)[],
  userIds: (string | undefined)[],
): WebhookContact | undefined {
  if (!contacts || contacts.length === 0) return undefined;
  // Phone numbers come as strings or integers; compare their digits.
  const matches = (id: WebhookPhoneNumber | undefined, candidates: (WebhookPhoneNumber | undefined)[]) =>
    id !== undefined && candidates.some((candidate) => candidate !== undefined && String(candidate) === String(id));
  return (
    contacts.find((contact) => matches(contact.wa_id, phoneNumbers) || matches(contact.user_id, userIds)) ??
    (contacts.length === 1 ? contacts[0] : undefined)
  );
}

/** UnixTimestamp is validated as digits (string) or an integer, so the conversion cannot give NaN. */
function seconds(timestamp: UnixTimestamp | undefined): number | undefined {
  return timestamp === undefined ? undefined : Number(timestamp);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Property names of the schema are snake_case; a key of any other form on an error path came from the payload.
const SCHEMA_NAME = /^([a-z][a-z0-9_]*|[0-9]+)$/;
const HIDDEN_KEY = "*";

function schemaError(error: SchemaError | undefined, payload: unknown): WebhookPayloadError {
  if (!error) return new WebhookPayloadError("Webhook payload does not match the schema");
  const segments = error.instancePath
    .split("/")
    .slice(1)
    .map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"));
  // Under `additionalProperties` (a map such as request_uri_user_params) the failing key is the payload's own.
  const mapKey = /\/additionalProperties\/[^/]+$/.test(error.schemaPath) ? segments.length - 1 : -1;
  const shown = segments.map((segment, index) => (index === mapKey || !SCHEMA_NAME.test(segment) ? HIDDEN_KEY : segment));
  const missing = error.keyword === "required" ? error.params["missingProperty"] : undefined;
  if (typeof missing === "string") {
    segments.push(missing);
    shown.push(missing);
  }
  const pointer = shown.map((segment) => `/${segment.replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
  const path = readablePath(segments, shown, payload);
  const reason = typeof missing === "string" ? "required property is missing" : describeRule(error);
  return new WebhookPayloadError(
    `Webhook payload does not match the schema at ${path === "" ? "the top level" : path}: ${reason}`,
    { path, pointer },
  );
}

/**
 * `entry[0].changes[0].value.metadata`: walks the payload so that array indexes and object keys are told apart;
 * `shown` is what may be printed of each segment (map keys from the payload are hidden).
 */
function readablePath(segments: string[], shown: string[], payload: unknown): string {
  let node = payload;
  let path = "";
  segments.forEach((segment, index) => {
    path += Array.isArray(node) ? `[${shown[index]}]` : `${path === "" ? "" : "."}${shown[index]}`;
    node = Array.isArray(node) ? node[Number(segment)] : isObject(node) && Object.hasOwn(node, segment) ? node[segment] : undefined;
  });
  return path;
}

/** Ajv's wording, except where its parameters say more; only schema facts are used, never the payload's values. */
function describeRule(error: SchemaError): string {
  const allowed = error.params["allowedValues"];
  if (error.keyword === "enum" && Array.isArray(allowed)) return `must be one of ${allowed.map((value) => JSON.stringify(value)).join(", ")}`;
  if (error.keyword === "const") return `must be ${JSON.stringify(error.params["allowedValue"])}`;
  if (error.keyword === "type") return `must be of type ${String(error.params["type"]).replaceAll(",", " or ")}`;
  return error.message ?? `breaks the "${error.keyword}" rule`;
}
