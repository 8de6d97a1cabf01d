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
import { exactIntegers, isInexactInteger } from "../json.js";
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
  if (!isRawBody(body)) return parsed(body, options);
  const text = textOf(body);
  rereadable = true;
  try {
    return parsed(jsonOf(text), options);
  } catch (error) {
    if (error !== LOST_DIGITS) throw error;
  } finally {
    rereadable = false;
  }
  return parsed(jsonOf(exactIntegers(text)), options);
}

/**
 * Whether the delivery being walked was read from its text, which can be read again: an id sent as a JSON number
 * past 2^53 lost digits in JSON.parse, so the walk stops (LOST_DIGITS) and starts over on the text read with such
 * numbers kept as their digits. That is rare: a delivery pays one test per id it reads, not a scan of its text.
 */
let rereadable = false;
const LOST_DIGITS = Symbol("lost digits");

/** Stops a walk that can start over on an exact reading when `id` is an integer JSON.parse did not keep exact. */
function exact(id: unknown): void {
  if (rereadable && isInexactInteger(id)) throw LOST_DIGITS;
}

function parsed(payload: unknown, options: ParseWebhookOptions): WebhookEvent[] {
  const events: WebhookEvent[] = [];
  const strict = options.strict === true;
  if (Array.isArray(payload)) {
    if (!payload.some(hasEntries)) throw new WebhookPayloadError("Webhook payload has no entry array", { path: "entry", pointer: "/entry" });
    payload.forEach((item, index) => notification(item, newContext(events, strict, [index])));
  } else {
    if (!isRecord(payload)) throw new WebhookPayloadError("Webhook payload does not match the schema at the top level: must be of type object");
    if (!Array.isArray(payload["entry"])) {
      throw new WebhookPayloadError(`Webhook payload does not match the schema at entry: ${typeReason(payload["entry"], "array")}`, { path: "entry", pointer: "/entry" });
    }
    notification(payload, newContext(events, strict, []));
  }
  return events;
}

// The parser is plain functions over one context per delivery (the events so far, and where the walk is: what the
// events of the current change share). It is updated in place as the walk moves, and a path is only made for an
// `invalid` event: no closure, and no copy of the context or of a path, per entry, change or item (a batch has one
// change per call).

function notification(notification: unknown, context: Context): void {
  if (!hasEntries(notification)) return invalid("unknown", context, [], notification, "must be an object with an entry array");
  const entries = notification["entry"] as unknown[];
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index];
    const id = isRecord(entry) ? idOf(entry["id"]) : undefined;
    enter(context, index, -1);
    context.wabaId = id ?? "";
    context.time = undefined;
    if (!isRecord(entry) || id === undefined || !Array.isArray(entry["changes"])) {
      const [where, reason] = !isRecord(entry)
        ? [[], "must be of type object"]
        : id === undefined
          ? [["id"], entry["id"] === undefined ? "required property is missing" : "must be a string or an integer below 2^53"]
          : [["changes"], typeReason(entry["changes"], "array")];
      invalid("unknown", context, where, entry, reason);
      continue;
    }
    context.time = seconds(entry["time"]);
    const changes = entry["changes"];
    for (let position = 0; position < changes.length; position++) {
      enter(context, index, position);
      change(changes[position], context);
    }
  }
}

function change(change: unknown, context: Context): void {
  if (!isRecord(change) || typeof change["field"] !== "string") {
    const record = isRecord(change);
    return invalid("unknown", context, record ? ["field"] : [], change, record ? typeReason(change["field"], "string") : "must be of type object");
  }
  const { field, value } = change;
  const events = context.events;
  context.field = field;
  context.inValue = true;
  const before = events.length;
  if (field === "calls" || field === "messages") {
    if (!isRecord(value)) return invalid("unknown", context, [], value, "must be of type object");
    context.phoneNumberId = phoneNumberIdOf(value);
    const metadata = value["metadata"];
    // A broken metadata only costs the events their phoneNumberId; strict mode still refuses it.
    if (context.strict && metadata !== undefined && context.phoneNumberId === undefined) {
      invalid("unknown", context, ["metadata"], metadata, isRecord(metadata) ? "phone_number_id must be a string or an integer" : "must be of type object");
    }
    (field === "calls" ? calls : messages)(value, context);
  } else if (field === "account_settings_update" || field === "account_update") {
    const settings = field === "account_settings_update";
    const [type, validate] = settings ? (["account_settings.update", validateAccountSettingsUpdateValue] as const) : (["account.update", validateAccountUpdateValue] as const);
    if (!validate(value)) invalid(type, context, [], value, validate);
    else {
      const data = value as AccountSettingsUpdateValue;
      push(context, {
        type,
        wabaId: context.wabaId,
        ...(settings && { phoneNumberId: idOf(data.phone_number_settings?.phone_number_id) }),
        timestamp: (settings ? seconds(data.timestamp) : undefined) ?? context.time,
        data,
      });
    }
  }
  // An unknown field, or a known one that yields no event at all (an empty `calls` list): the value whole.
  if (events.length === before) push(context, unknownEvent(context, value, value));
}

function calls(value: Item, context: Context): void {
  const contacts = contactsOf(value, context);
  const errorList = list(value, "errors", context, "call.terminate");
  // Checked once per change: they belong to the change, so every terminate item of it carries them.
  let errors: unknown[] | undefined;
  if (Array.isArray(value["errors"])) {
    errors = [];
    for (let index = 0; index < errorList.length; index++) {
      if (checked("call.terminate", validateWebhookError, errorList[index], context, "errors", index)) errors.push(errorList[index]);
    }
  }
  const items = list(value, "calls", context, "unknown");
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    const event = isRecord(item) ? item["event"] : undefined;
    if (typeof event !== "string") {
      const record = isRecord(item);
      invalid("unknown", context, record ? ["calls", index, "event"] : ["calls", index], item, record ? typeReason(event, "string") : "must be of type object");
      continue;
    }
    const kind = Object.hasOwn(CALL_ITEMS, event) ? CALL_ITEMS[event]! : undefined;
    if (!kind) {
      push(context, unknownEvent(context, value, item));
      continue;
    }
    const [type, validate, holder, media] = kind;
    if (!checked(type, validate, item, context, "calls", index)) continue;
    const call = item as Item;
    const contact = findContact(contacts, call["from"], call["to"], call["from_user_id"], call["to_user_id"]);
    if (type === "call.terminate") itemEvent(type, context, call, contact, call["id"], "errors", errors);
    else if (holder) itemEvent(type, context, call, contact, call["id"], "media", (call[holder] as Item)[media!]);
    else itemEvent(type, context, call, contact, call["id"]);
  }
  const statuses = list(value, "statuses", context, "call.status");
  for (let index = 0; index < statuses.length; index++) {
    const status = statuses[index] as Item;
    if (checked("call.status", validateCallStatusWebhookItem, status, context, "statuses", index)) {
      itemEvent("call.status", context, status, findContact(contacts, status["recipient_id"], undefined, status["recipient_user_id"], undefined), status["id"]);
    }
  }
}

function messages(value: Item, context: Context): void {
  const contacts = contactsOf(value, context);
  const items = list(value, "messages", context, "unknown");
  for (let index = 0; index < items.length; index++) {
    const message = items[index] as Item;
    const interactive = isRecord(message) ? message["interactive"] : undefined;
    const voicemail = !(isRecord(interactive) && interactive["type"] === "call_permission_reply");
    if (voicemail && !isVoicemail(message)) {
      push(context, unknownEvent(context, value, message));
      continue;
    }
    const type = voicemail ? "call.voicemail" : "call_permission.reply";
    if (!checked(type, voicemail ? validateVoicemailWebhookMessage : validateCallPermissionReplyMessage, message, context, "messages", index)) continue;
    const contact = findContact(contacts, message["from"], undefined, message["from_user_id"], undefined);
    if (voicemail) itemEvent(type, context, message, contact, message["id"], "media", message["audio"]);
    else itemEvent(type, context, message, contact, undefined);
  }
  for (const status of list(value, "statuses", context, "unknown")) push(context, unknownEvent(context, value, status));
}

function push(context: Context, event: object): void {
  context.events.push(event as WebhookEvent);
}

/**
 * An item that breaks its schema (`reason`: the validator that refused it, or the rule): an `invalid` event.
 * `below` is where the item is under the walk's current place (the delivery, an entry, a change or its value).
 */
function invalid(expected: ExpectedWebhookEventType, context: Context, below: Path, data: unknown, reason: SchemaValidator | string): void {
  const path: (string | number)[] = [...context.prefix];
  if (context.entry >= 0) path.push("entry", context.entry);
  if (context.change >= 0) path.push("changes", context.change);
  if (context.inValue) path.push("value");
  path.push(...below);
  const { path: where, pointer, message } = schemaFailure(path, data, typeof reason === "string" ? reason : reason.errors?.[0]);
  if (context.strict) throw new WebhookPayloadError(message, { path: where, pointer });
  push(context, { type: "invalid", expected, wabaId: context.wabaId, phoneNumberId: context.phoneNumberId, timestamp: context.time, field: context.field, path: where, pointer, message, data });
}

/** Whether `data`, item `index` of `value[name]`, passes `validate`; an `invalid` event when not. */
function checked(expected: ExpectedWebhookEventType, validate: SchemaValidator, data: unknown, context: Context, name: string, index: number): boolean {
  if (validate(data)) return true;
  invalid(expected, context, [name, index], data, validate);
  return false;
}

/** `value[name]` when it is an array; empty when absent; empty and an `invalid` event when it is something else. */
function list(value: Item, name: string, context: Context, expected: ExpectedWebhookEventType): unknown[] {
  const items = value[name];
  if (items === undefined) return NONE;
  if (Array.isArray(items)) return items;
  invalid(expected, context, [name], items, "must be of type array");
  return NONE;
}

const NONE: unknown[] = [];

/**
 * The event of a call item, a status, a voicemail or a permission reply (which has no call id), with the extra
 * property of its type. Each shape is made whole by one literal: adding a property to an object after it is made
 * changes its hidden class, which made parsing a batch ~1.5× slower after a full garbage collection.
 */
function itemEvent(type: ExpectedWebhookEventType, context: Context, data: Item, contact: WebhookContact | undefined, callId: unknown, extra?: "errors" | "media", value?: unknown): void {
  const { wabaId, phoneNumberId } = context;
  const timestamp = seconds(data["timestamp"]) ?? context.time;
  // A media id is what a download needs exact.
  if (extra === "media" && isRecord(value)) exact(value["id"]);
  push(
    context,
    callId === undefined
      ? { type, wabaId, phoneNumberId, timestamp, data, contact }
      : extra === "errors"
        ? { type, wabaId, phoneNumberId, timestamp, callId, data, contact, errors: value }
        : extra === "media"
          ? { type, wabaId, phoneNumberId, timestamp, callId, data, contact, media: value }
          : { type, wabaId, phoneNumberId, timestamp, callId, data, contact },
  );
}

const hasEntries = (value: unknown): value is Item => isRecord(value) && Array.isArray(value["entry"]);

const typeReason = (value: unknown, type: string) => (value === undefined ? "required property is missing" : `must be of type ${type}`);

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function textOf(body: string | Uint8Array | ArrayBuffer): string {
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
  return text;
}

function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the body, which can hold SDP; it is left out.
    throw new WebhookPayloadError("Webhook body is not valid JSON");
  }
}

type Path = readonly (string | number)[];
type Item = Record<string, unknown>;

/** The events so far, and what the events of the current change share (and where it is, for the `invalid` ones). */
interface Context {
  readonly events: WebhookEvent[];
  readonly strict: boolean;
  /** The delivery's place in the body: `[index]` when the body is an array of deliveries. */
  readonly prefix: Path;
  /** `entry[entry].changes[change].value` (`inValue`), each -1 (false) until the walk is in one. */
  entry: number;
  change: number;
  inValue: boolean;
  wabaId: string;
  phoneNumberId: string | undefined;
  /** `entry[].time` as seconds. */
  time: number | undefined;
  field: string;
}

function newContext(events: WebhookEvent[], strict: boolean, prefix: Path): Context {
  return { events, strict, prefix, entry: -1, change: -1, inValue: false, wabaId: "", phoneNumberId: undefined, time: undefined, field: "" };
}

/** Moves the walk to `entry[entry]` (`change` -1) or one of its changes: nothing of the previous change is kept. */
function enter(context: Context, entry: number, change: number): void {
  context.entry = entry;
  context.change = change;
  context.inValue = false;
  context.field = "";
  context.phoneNumberId = undefined;
}

/**
 * The `calls[]` items by `event`: their event type, their validator, and where their media is (the object
 * holding it, and its key in that object).
 */
const CALL_ITEMS: Record<string, readonly [ExpectedWebhookEventType, SchemaValidator, string?, string?]> = {
  connect: ["call.connect", validateConnectCallWebhookItem],
  terminate: ["call.terminate", validateTerminateCallWebhookItem],
  call_recording_available: ["call.recording_available", validateCallRecordingWebhookItem, "call_recording", "audio"],
  call_transcription_available: ["call.transcription_available", validateCallTranscriptionWebhookItem, "call_transcript", "document"],
  call_created: ["call.created", validateCallCreatedWebhookItem],
};

/** A voicemail is an inbound audio message whose id is a call id; nothing else marks it. */
function isVoicemail(message: unknown): boolean {
  if (!isRecord(message) || message["type"] !== "audio") return false;
  const id = message["id"];
  return typeof id === "string" && id.startsWith("wacid.");
}

/** The checked `contacts[]` of a value; several are indexed once by key (`p<wa_id>`, `u<user_id>`; the first contact of a key wins). */
interface Contacts {
  list: WebhookContact[];
  byKey: Map<string, WebhookContact> | undefined;
}

function contactsOf(value: Item, context: Context): Contacts {
  const items = list(value, "contacts", context, "unknown");
  const contacts: Contacts = { list: [], byKey: undefined };
  for (let index = 0; index < items.length; index++) {
    if (checked("unknown", validateWebhookContact, items[index], context, "contacts", index)) contacts.list.push(items[index] as WebhookContact);
  }
  if (contacts.list.length > 1) {
    const byKey = (contacts.byKey = new Map());
    // Phone numbers come as strings or integers; they are compared as digits.
    for (const contact of contacts.list) {
      for (const key of [contact.wa_id === undefined ? undefined : `p${contact.wa_id}`, contact.user_id === undefined ? undefined : `u${contact.user_id}`]) {
        if (key !== undefined && !byKey.has(key)) byKey.set(key, contact);
      }
    }
  }
  return contacts;
}

/**
 * The contact whose `wa_id` is one of the phone numbers or whose `user_id` is one of the BSUIDs, tried in this
 * order; the only one when there is just one (so a lookup costs the same for any number of them).
 */
function findContact(contacts: Contacts, phone: unknown, otherPhone: unknown, userId: unknown, otherUserId: unknown): WebhookContact | undefined {
  const { byKey } = contacts;
  if (!byKey) return contacts.list[0];
  const lookup = (prefix: string, id: unknown) => (typeof id === "string" || typeof id === "number" ? byKey.get(prefix + id) : undefined);
  return lookup("p", phone) ?? lookup("p", otherPhone) ?? lookup("u", userId) ?? lookup("u", otherUserId);
}

function unknownEvent(context: Context, value: unknown, data: unknown): UnknownWebhookEvent {
  return {
    type: "unknown",
    wabaId: context.wabaId,
    phoneNumberId: isRecord(value) ? phoneNumberIdOf(value) : undefined,
    // An item of a kind this package does not know (a new call event) still says when it happened.
    timestamp: (isRecord(data) ? seconds(data["timestamp"]) : undefined) ?? context.time,
    field: context.field,
    data,
  };
}

function phoneNumberIdOf(value: Item): string | undefined {
  const metadata = value["metadata"];
  return isRecord(metadata) ? idOf(metadata["phone_number_id"]) : undefined;
}

/** A Graph id as a string: Meta sends a string of digits, and a number (WebhookId) is read as its digits. */
function idOf(id: unknown): string | undefined {
  if (typeof id === "string") return id;
  exact(id);
  return Number.isSafeInteger(id) ? String(id) : undefined;
}

/** Unix seconds from a string of digits or a number; anything else (an unchecked entry `time`) gives undefined. */
function seconds(timestamp: unknown): number | undefined {
  if (typeof timestamp === "number") return Number.isFinite(timestamp) ? timestamp : undefined;
  if (typeof timestamp !== "string" || timestamp === "") return undefined;
  const value = Number(timestamp);
  return Number.isFinite(value) ? value : undefined;
}
