import type {
  AccountSettingsUpdateValue,
  AccountUpdateValue,
  CallCreatedWebhookItem,
  CallPermissionReplyMessage,
  CallRecordingWebhookItem,
  CallStatusWebhookItem,
  CallTranscriptionWebhookItem,
  ConnectCallWebhookItem,
  TerminateCallWebhookItem,
  VoicemailWebhookMessage,
  WebhookContact,
  WebhookError,
  WebhookMedia,
} from "../../generated/openapi.js";
import {
  validateAccountSettingsUpdateValue,
  validateAccountUpdateValue,
  validateCallCreatedWebhookItem,
  validateCallPermissionReplyMessage,
  validateCallRecordingWebhookItem,
  validateCallStatusWebhookItem,
  validateCallTranscriptionWebhookItem,
  validateConnectCallWebhookItem,
  validateTerminateCallWebhookItem,
  validateVoicemailWebhookMessage,
  validateWebhookContact,
  validateWebhookError,
  type SchemaValidator,
} from "../../generated/webhook-validators.js";
import { isRawBody, rawBodyBytes } from "./bytes.js";
import { WebhookPayloadError } from "./errors.js";
import { isRecord, schemaFailure } from "./schema-error.js";

/** Fields every event carries where the delivery has them. */
export interface WebhookEventContext {
  /** `entry[].id`: the WhatsApp Business Account the update is about. */
  wabaId: string;
  /** The business phone number id (`value.metadata.phone_number_id`, or the settings' `phone_number_id`). */
  phoneNumberId?: string;
  /** Unix seconds, from the item (or the value, or the entry) as a number; Meta sends it as a string. */
  timestamp?: number;
}

/** What every event about one call carries. */
interface CallEventContext extends WebhookEventContext {
  /** The call id (`wacid.…`). */
  callId: string;
  /** The `contacts[]` entry of the user on the other end: its `wa_id` or `user_id` matches the item's user. */
  contact?: WebhookContact;
}

/** `calls[]` item with `event: "connect"`: the caller's SDP offer (user-initiated) or Meta's SDP answer (business-initiated). */
export interface CallConnectWebhookEvent extends CallEventContext {
  type: "call.connect";
  data: ConnectCallWebhookItem;
}

/** `calls[]` item with `event: "terminate"`: every call that ends. */
export interface CallTerminateWebhookEvent extends CallEventContext {
  type: "call.terminate";
  data: TerminateCallWebhookItem;
  /** `value.errors[]` of the change (a failed call's reasons); shared by every terminate item of that change. */
  errors?: WebhookError[];
}

/** `statuses[]` item of the `calls` field: RINGING, ACCEPTED or REJECTED of a business-initiated call. */
export interface CallStatusWebhookEvent extends CallEventContext {
  type: "call.status";
  data: CallStatusWebhookItem;
}

/** `calls[]` item with `event: "call_recording_available"`: the recording of a call, `media` to download it. */
export interface CallRecordingAvailableWebhookEvent extends CallEventContext {
  type: "call.recording_available";
  data: CallRecordingWebhookItem;
  /** `data.call_recording.audio`: `url` valid 5 minutes, then ask the Media API for `id`; `sha256` is Base64. */
  media: WebhookMedia;
}

/** `calls[]` item with `event: "call_transcription_available"`: the transcript (a JSON document) of a call. */
export interface CallTranscriptionAvailableWebhookEvent extends CallEventContext {
  type: "call.transcription_available";
  data: CallTranscriptionWebhookItem;
  /** `data.call_transcript.document`. */
  media: WebhookMedia;
}

/** `calls[]` item with `event: "call_created"`: a SIP call was attempted (no SDP: media flows over SIP). */
export interface CallCreatedWebhookEvent extends CallEventContext {
  type: "call.created";
  data: CallCreatedWebhookItem;
}

/**
 * A voicemail: a `messages[]` item of type `audio` whose id is a call id. `callId` links it to the missed or
 * rejected call (its connect and terminate events have the same `callId`).
 */
export interface CallVoicemailWebhookEvent extends CallEventContext {
  type: "call.voicemail";
  data: VoicemailWebhookMessage;
  /** `data.audio`: no `url` in Meta's sample, so fetch it with the Media API by `id`. */
  media: WebhookMedia;
}

/** `messages[]` item that is an interactive `call_permission_reply` (with or without a message-level `type`). */
export interface CallPermissionReplyWebhookEvent extends WebhookEventContext {
  type: "call_permission.reply";
  data: CallPermissionReplyMessage;
  contact?: WebhookContact;
}

/** `account_settings_update` field: the calling settings of a number changed (`calling` may be null). */
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

/**
 * An item of a signed delivery that breaks its schema in openapi.yaml. It is delivered rather than dropped (the
 * delivery is still answered 200), so that a handler can act on it: `expected` is the event it would have been
 * (`"unknown"` when even its kind cannot be told, such as an entry without `changes`), `path`/`pointer` say
 * where it broke, `message` names the rule, and `data` is the raw item. `parseWebhook(body, { strict: true })`
 * throws instead.
 */
export interface InvalidWebhookEvent extends WebhookEventContext {
  type: "invalid";
  expected: ExpectedWebhookEventType;
  /** The change's `field` (`""` when the change has none). */
  field: string;
  /** Readable place in the delivery: `entry[0].changes[0].value.calls[1].session.sdp`. Map keys are shown as `*`. */
  path: string;
  /** The same place as a JSON pointer. */
  pointer: string;
  /** What is wrong there; names the path and the rule, never a value from the payload. */
  message: string;
  /** The raw item (a `calls[]` item, a value, a change or an entry), as received. */
  data: unknown;
}

/** One update of a delivery, discriminated by `type`. */
export type WebhookEvent =
  | CallConnectWebhookEvent
  | CallTerminateWebhookEvent
  | CallStatusWebhookEvent
  | CallRecordingAvailableWebhookEvent
  | CallTranscriptionAvailableWebhookEvent
  | CallCreatedWebhookEvent
  | CallVoicemailWebhookEvent
  | CallPermissionReplyWebhookEvent
  | AccountSettingsUpdateWebhookEvent
  | AccountUpdateWebhookEvent
  | UnknownWebhookEvent
  | InvalidWebhookEvent;

export type WebhookEventType = WebhookEvent["type"];

/** The event types an `invalid` event can say it was expected to be. */
export type ExpectedWebhookEventType = Exclude<WebhookEventType, "invalid">;

/** Every event type, e.g. to check the keys of a handler table read from configuration. */
export const WEBHOOK_EVENT_TYPES = [
  "call.connect",
  "call.terminate",
  "call.status",
  "call.recording_available",
  "call.transcription_available",
  "call.created",
  "call.voicemail",
  "call_permission.reply",
  "account_settings.update",
  "account.update",
  "unknown",
  "invalid",
] as const satisfies readonly WebhookEventType[];

/** The event type for one `type`, e.g. `WebhookEventOf<"call.connect">`. */
export type WebhookEventOf<Type extends WebhookEventType> = Extract<WebhookEvent, { type: Type }>;

export interface ParseWebhookOptions {
  /**
   * Throw `WebhookPayloadError` at the first item that breaks its schema instead of delivering it as an
   * `invalid` event: for checking your own fixtures. Default false.
   */
  strict?: boolean;
}

/**
 * Turns a delivery into events: one per item of every entry, change, `calls[]`, `messages[]` and `statuses[]`, in
 * delivery order. `body` is the raw body (string, `Uint8Array`, `ArrayBuffer`) or JSON already parsed.
 *
 * Liberal in what it accepts (a signed delivery is authentic): it throws `WebhookPayloadError` only when the
 * body is not JSON or has no `entry` array. Each item is checked on its own against its schema in openapi.yaml;
 * one that breaks it becomes an `invalid` event (with `{ strict: true }`: the error is thrown) and never hides
 * its siblings. A body that is a JSON array of deliveries (as some of Meta's samples print) is read as each.
 * Parse only what `verifySignature` accepted.
 */
export function parseWebhook(body: unknown, options: ParseWebhookOptions = {}): WebhookEvent[] {
  const payload = isRawBody(body) ? parseJson(body) : body;
  const parser = new DeliveryParser(options.strict === true);
  if (Array.isArray(payload)) {
    if (!payload.some(hasEntries)) throw new WebhookPayloadError("Webhook payload has no entry array", { path: "entry", pointer: "/entry" });
    payload.forEach((notification, index) => parser.notification(notification, [index]));
  } else {
    if (!isRecord(payload)) throw new WebhookPayloadError("Webhook payload does not match the schema at the top level: must be of type object");
    if (!Array.isArray(payload["entry"])) {
      const missing = payload["entry"] === undefined;
      throw new WebhookPayloadError(
        `Webhook payload does not match the schema at entry: ${missing ? "required property is missing" : "must be of type array"}`,
        { path: "entry", pointer: "/entry" },
      );
    }
    parser.notification(payload, []);
  }
  return parser.events;
}

const hasEntries = (value: unknown) => isRecord(value) && Array.isArray(value["entry"]);

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function parseJson(body: string | Uint8Array | ArrayBuffer): unknown {
  let text: string;
  try {
    text = typeof body === "string" ? body : strictUtf8.decode(rawBodyBytes(body));
  } catch {
    throw new WebhookPayloadError("Webhook body is not valid UTF-8");
  }
  // The decoder drops a UTF-8 byte order mark from bytes; a string that starts with one is read the same way,
  // so the same delivery parses whichever form it is handed in.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.length === 0) throw new WebhookPayloadError("Webhook body is empty");
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the body, which can hold SDP; it is left out.
    throw new WebhookPayloadError("Webhook body is not valid JSON");
  }
}

type Path = readonly (string | number)[];
type Item = Record<string, unknown>;

/** The part of a change every event of it shares. */
interface ChangeContext {
  wabaId: string;
  phoneNumberId: string | undefined;
  /** `entry[].time` as seconds. */
  time: number | undefined;
  field: string;
  path: Path;
}

/** How each `calls[]` event is checked and turned into an event: behaviour as data. */
const CALL_ITEMS: Record<string, { type: ExpectedWebhookEventType; validate: SchemaValidator; media?: (item: Item) => unknown }> = {
  connect: { type: "call.connect", validate: validateConnectCallWebhookItem },
  terminate: { type: "call.terminate", validate: validateTerminateCallWebhookItem },
  call_recording_available: {
    type: "call.recording_available",
    validate: validateCallRecordingWebhookItem,
    media: (item) => (item["call_recording"] as Item)["audio"],
  },
  call_transcription_available: {
    type: "call.transcription_available",
    validate: validateCallTranscriptionWebhookItem,
    media: (item) => (item["call_transcript"] as Item)["document"],
  },
  call_created: { type: "call.created", validate: validateCallCreatedWebhookItem },
};

class DeliveryParser {
  readonly events: WebhookEvent[] = [];
  constructor(private readonly strict: boolean) {}

  notification(notification: unknown, path: Path): void {
    if (!hasEntries(notification)) {
      this.invalid("unknown", { wabaId: "", phoneNumberId: undefined, time: undefined, field: "", path }, path, notification, "must be an object with an entry array");
      return;
    }
    const entries = (notification as Item)["entry"] as unknown[];
    for (let index = 0; index < entries.length; index++) this.entry(entries[index], [...path, "entry", index]);
  }

  private entry(entry: unknown, path: Path): void {
    const context: ChangeContext = { wabaId: "", phoneNumberId: undefined, time: undefined, field: "", path };
    if (isRecord(entry) && typeof entry["id"] === "string") context.wabaId = entry["id"];
    if (!isRecord(entry) || typeof entry["id"] !== "string" || !Array.isArray(entry["changes"])) {
      const [where, reason] = !isRecord(entry)
        ? [path, "must be of type object"]
        : typeof entry["id"] !== "string"
          ? [[...path, "id"], entry["id"] === undefined ? "required property is missing" : "must be of type string"]
          : [[...path, "changes"], entry["changes"] === undefined ? "required property is missing" : "must be of type array"];
      this.invalid("unknown", context, where, entry, reason);
      return;
    }
    context.time = seconds(entry["time"]);
    const changes = entry["changes"];
    for (let index = 0; index < changes.length; index++) {
      this.change(changes[index], { ...context, path: [...path, "changes", index] });
    }
  }

  private change(change: unknown, context: ChangeContext): void {
    if (!isRecord(change) || typeof change["field"] !== "string") {
      const reason = !isRecord(change) ? "must be of type object" : change["field"] === undefined ? "required property is missing" : "must be of type string";
      this.invalid("unknown", context, isRecord(change) ? [...context.path, "field"] : context.path, change, reason);
      return;
    }
    const field = change["field"];
    const value = change["value"];
    context.field = field;
    const valuePath = [...context.path, "value"];
    const before = this.events.length;
    switch (field) {
      case "calls":
      case "messages":
        if (!isRecord(value)) {
          this.invalid("unknown", context, valuePath, value, "must be of type object");
          return;
        }
        context.path = valuePath;
        context.phoneNumberId = phoneNumberIdOf(value);
        // A broken metadata only costs the events their phoneNumberId; strict mode still refuses it.
        if (this.strict && value["metadata"] !== undefined && context.phoneNumberId === undefined) {
          this.invalid("unknown", context, [...valuePath, "metadata"], value["metadata"], isRecord(value["metadata"]) ? "phone_number_id must be a string" : "must be of type object");
        }
        if (field === "calls") this.calls(value, context);
        else this.messages(value, context);
        break;
      case "account_settings_update":
        this.value(value, { ...context, path: valuePath }, "account_settings.update", validateAccountSettingsUpdateValue, (data: AccountSettingsUpdateValue) => ({
          type: "account_settings.update",
          wabaId: context.wabaId,
          phoneNumberId: data.phone_number_settings?.phone_number_id,
          timestamp: seconds(data.timestamp) ?? context.time,
          data,
        }));
        break;
      case "account_update":
        this.value(value, { ...context, path: valuePath }, "account.update", validateAccountUpdateValue, (data: AccountUpdateValue) => ({
          type: "account.update",
          wabaId: context.wabaId,
          timestamp: context.time,
          data,
        }));
        break;
    }
    // An unknown field, or a known one that yields no event at all (an empty `calls` list): the value whole.
    if (this.events.length === before) this.events.push(unknownEvent(context, value, value));
  }

  private value<T>(value: unknown, context: ChangeContext, type: ExpectedWebhookEventType, validate: SchemaValidator, make: (data: T) => WebhookEvent) {
    if (validate(value)) this.events.push(make(value as T));
    else this.invalid(type, context, context.path, value, validate);
  }

  private calls(value: Item, context: ChangeContext): void {
    const contacts = this.contacts(value, context);
    const errors = this.list(value, "errors", context, "call.terminate");
    let validErrors: WebhookError[] | undefined;
    if (errors) {
      validErrors = [];
      for (let index = 0; index < errors.length; index++) {
        const error = errors[index];
        if (validateWebhookError(error)) validErrors.push(error as WebhookError);
        else this.invalid("call.terminate", context, [...context.path, "errors", index], error, validateWebhookError);
      }
    }
    const calls = this.list(value, "calls", context, "unknown");
    if (calls) {
      for (let index = 0; index < calls.length; index++) {
        const item = calls[index];
        const kind = isRecord(item) && typeof item["event"] === "string" ? CALL_ITEMS[item["event"]] : undefined;
        if (!kind) {
          if (isRecord(item) && typeof item["event"] === "string") this.events.push(unknownEvent(context, value, item));
          else if (isRecord(item)) this.invalid("unknown", context, [...context.path, "calls", index, "event"], item, item["event"] === undefined ? "required property is missing" : "must be of type string");
          else this.invalid("unknown", context, [...context.path, "calls", index], item, "must be of type object");
          continue;
        }
        if (!kind.validate(item)) {
          this.invalid(kind.type, context, [...context.path, "calls", index], item, kind.validate);
          continue;
        }
        const call = item as Item & { id: string; timestamp?: string | number };
        const event = {
          type: kind.type,
          wabaId: context.wabaId,
          phoneNumberId: context.phoneNumberId,
          timestamp: seconds(call.timestamp) ?? context.time,
          callId: call.id,
          data: call,
          contact: contacts.find(call["from"], call["to"], call["from_user_id"], call["to_user_id"]),
        } as CallEventContext & { type: string; data: unknown; errors?: WebhookError[]; media?: unknown };
        if (kind.type === "call.terminate") event.errors = validErrors;
        if (kind.media) event.media = kind.media(call);
        this.events.push(event as WebhookEvent);
      }
    }
    const statuses = this.list(value, "statuses", context, "call.status");
    if (statuses) {
      for (let index = 0; index < statuses.length; index++) {
        const data = statuses[index];
        if (!validateCallStatusWebhookItem(data)) {
          this.invalid("call.status", context, [...context.path, "statuses", index], data, validateCallStatusWebhookItem);
          continue;
        }
        const status = data as CallStatusWebhookItem;
        this.events.push({
          type: "call.status",
          wabaId: context.wabaId,
          phoneNumberId: context.phoneNumberId,
          timestamp: seconds(status.timestamp) ?? context.time,
          callId: status.id,
          data: status,
          contact: contacts.find(status.recipient_id, undefined, status.recipient_user_id, undefined),
        });
      }
    }
  }

  private messages(value: Item, context: ChangeContext): void {
    const contacts = this.contacts(value, context);
    const messages = this.list(value, "messages", context, "unknown");
    if (messages) {
      for (let index = 0; index < messages.length; index++) {
        const message = messages[index];
        const interactive = isRecord(message) ? message["interactive"] : undefined;
        if (isRecord(interactive) && interactive["type"] === "call_permission_reply") {
          if (!validateCallPermissionReplyMessage(message)) {
            this.invalid("call_permission.reply", context, [...context.path, "messages", index], message, validateCallPermissionReplyMessage);
            continue;
          }
          const data = message as CallPermissionReplyMessage;
          this.events.push({
            type: "call_permission.reply",
            wabaId: context.wabaId,
            phoneNumberId: context.phoneNumberId,
            timestamp: seconds(data.timestamp) ?? context.time,
            data,
            contact: contacts.find(data.from, undefined, data.from_user_id, undefined),
          });
        } else if (isVoicemail(message)) {
          if (!validateVoicemailWebhookMessage(message)) {
            this.invalid("call.voicemail", context, [...context.path, "messages", index], message, validateVoicemailWebhookMessage);
            continue;
          }
          const data = message as VoicemailWebhookMessage;
          this.events.push({
            type: "call.voicemail",
            wabaId: context.wabaId,
            phoneNumberId: context.phoneNumberId,
            timestamp: seconds(data.timestamp) ?? context.time,
            callId: data.id,
            data,
            media: data.audio,
            contact: contacts.find(data.from, undefined, data.from_user_id, undefined),
          });
        } else {
          this.events.push(unknownEvent(context, value, message));
        }
      }
    }
    const statuses = this.list(value, "statuses", context, "unknown");
    if (statuses) for (const status of statuses) this.events.push(unknownEvent(context, value, status));
  }

  /** `value[name]` when it is an array; undefined when absent; an `invalid` event when it is something else. */
  private list(value: Item, name: string, context: ChangeContext, expected: ExpectedWebhookEventType): unknown[] | undefined {
    const list = value[name];
    if (list === undefined || Array.isArray(list)) return list;
    this.invalid(expected, context, [...context.path, name], list, "must be of type array");
    return undefined;
  }

  /** The contacts of a value, indexed once by `wa_id` and `user_id` (so a lookup costs the same for any number of them). */
  private contacts(value: Item, context: ChangeContext): ContactIndex {
    const list = this.list(value, "contacts", context, "unknown");
    const index = new ContactIndex();
    if (!list) return index;
    for (let position = 0; position < list.length; position++) {
      const contact = list[position];
      if (validateWebhookContact(contact)) index.add(contact as WebhookContact);
      else this.invalid("unknown", context, [...context.path, "contacts", position], contact, validateWebhookContact);
    }
    return index;
  }

  private invalid(expected: ExpectedWebhookEventType, context: ChangeContext, path: Path, data: unknown, reason: SchemaValidator | string): void {
    const failure =
      typeof reason === "string"
        ? schemaFailure(path, data, { instancePath: "", schemaPath: "", keyword: "custom", params: {}, message: reason })
        : schemaFailure(path, data, reason.errors?.[0]);
    if (this.strict) throw new WebhookPayloadError(failure.message, { path: failure.path, pointer: failure.pointer });
    this.events.push({
      type: "invalid",
      expected,
      wabaId: context.wabaId,
      phoneNumberId: context.phoneNumberId,
      timestamp: context.time,
      field: context.field,
      path: failure.path,
      pointer: failure.pointer,
      message: failure.message,
      data,
    });
  }
}

/** A voicemail is an inbound audio message whose id is a call id; nothing else marks it. */
function isVoicemail(message: unknown): boolean {
  if (!isRecord(message) || message["type"] !== "audio") return false;
  const id = message["id"];
  return typeof id === "string" && id.startsWith("wacid.");
}

class ContactIndex {
  private readonly byKey = new Map<string, WebhookContact>();
  private count = 0;
  private only: WebhookContact | undefined;

  add(contact: WebhookContact): void {
    this.count++;
    this.only = this.count === 1 ? contact : undefined;
    // Phone numbers come as strings or integers; they are compared as digits. The first contact of a key wins.
    if (contact.wa_id !== undefined) this.keep(`p${String(contact.wa_id)}`, contact);
    if (contact.user_id !== undefined) this.keep(`u${contact.user_id}`, contact);
  }

  private keep(key: string, contact: WebhookContact) {
    if (!this.byKey.has(key)) this.byKey.set(key, contact);
  }

  /** The contact whose `wa_id` is one of the phone numbers or whose `user_id` is one of the BSUIDs; else the only one. */
  find(phone: unknown, otherPhone: unknown, userId: unknown, otherUserId: unknown): WebhookContact | undefined {
    if (this.count === 0) return undefined;
    return (
      this.lookup("p", phone) ?? this.lookup("p", otherPhone) ?? this.lookup("u", userId) ?? this.lookup("u", otherUserId) ?? this.only
    );
  }

  private lookup(prefix: string, id: unknown): WebhookContact | undefined {
    return typeof id === "string" || typeof id === "number" ? this.byKey.get(prefix + String(id)) : undefined;
  }
}

function unknownEvent(context: ChangeContext, value: unknown, data: unknown): UnknownWebhookEvent {
  return {
    type: "unknown",
    wabaId: context.wabaId,
    phoneNumberId: isRecord(value) ? phoneNumberIdOf(value) : undefined,
    timestamp: context.time,
    field: context.field,
    data,
  };
}

function phoneNumberIdOf(value: Item): string | undefined {
  const metadata = value["metadata"];
  const id = isRecord(metadata) ? metadata["phone_number_id"] : undefined;
  return typeof id === "string" ? id : undefined;
}

/** Unix seconds from a string of digits or a number; anything else (an unchecked entry `time`) gives undefined. */
function seconds(timestamp: unknown): number | undefined {
  if (typeof timestamp === "number") return Number.isFinite(timestamp) ? timestamp : undefined;
  if (typeof timestamp !== "string" || timestamp === "") return undefined;
  const value = Number(timestamp);
  return Number.isFinite(value) ? value : undefined;
}
