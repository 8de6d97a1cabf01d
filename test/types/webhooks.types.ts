// Type-level tests: compiled by `npm run typecheck`, never run. Each `@ts-expect-error` proves that a wrong use
// does not compile; the lines without it prove that the right use does.
import type { IncomingMessage, ServerResponse } from "node:http";
import type {
  CallsWebhookNotification,
  ConnectCallEvent,
  ConnectCallWebhookItem,
  TerminateCallEvent,
  TerminateCallWebhookItem,
  WebhookContact,
  WebhookError,
  WebhookMedia,
} from "../../generated/openapi.js";
import { createCallingClient } from "../../src/index.js";
import { downloadMedia, downloadMediaBytes, fetchTranscript } from "../../src/media/index.js";
import { toNodeListener } from "../../src/node.js";
import { signWebhookPayload } from "../../src/testing/index.js";
import {
  createWebhookHandler,
  parseWebhook,
  verifySignature,
  verifySubscription,
  WEBHOOK_EVENT_TYPES,
  WebhookPayloadError,
  type WebhookDedupeStore,
  type WebhookEvent,
  type WebhookEventOf,
  type WebhookEventType,
} from "../../src/webhooks/index.js";

declare const request: Request;

// Handlers get their own event type.
createWebhookHandler({
  appSecret: "secret",
  verifyToken: "token",
  on: {
    "call.connect": (event) => event.data.session,
    "call.terminate": (event) => {
      // Open in the schema (a new status must not make Meta re-deliver a batch), and optional.
      const status: string | undefined = event.data.status;
      const errors: WebhookError[] | undefined = event.errors;
      return [status, errors];
    },
    "call.status": (event) => event.data.status === "RINGING",
    "call_permission.reply": async (event) => {
      // An open enum: the known values and any other string.
      const response: string = event.data.interactive.call_permission_reply.response;
      await Promise.resolve(response);
    },
    "account_settings.update": (event) => event.data.phone_number_settings?.calling,
    "account.update": (event) => event.data.violation_info?.violation_type,
    unknown: (event) => [event.field, event.data],
    "call.recording_available": (event) => {
      const media: WebhookMedia = event.media;
      return [event.callId, media.id, event.data.call_recording.audio.sha256];
    },
    "call.transcription_available": (event) => [event.callId, event.media.url, event.data.call_transcript.document.mime_type],
    "call.created": (event) => [event.callId, event.data.direction, event.contact?.user_id],
    "call.voicemail": (event) => [event.callId, event.media.id, event.data.audio.mime_type],
    invalid: (event) => {
      const where: [string, string, string, string] = [event.expected, event.path, event.pointer, event.message];
      // @ts-expect-error an invalid item's data is unknown until checked
      void event.data.id;
      return where;
    },
  },
});

// The wire items have names of their own (the old ones stay as deprecated aliases of the same types).
const wireConnect: ConnectCallWebhookItem = {} as ConnectCallEvent;
const wireTerminate: TerminateCallEvent = {} as TerminateCallWebhookItem;
void [wireConnect, wireTerminate];

// A calls[] item of the notification is the union of the item kinds: a literal with a session compiles (TS2353 in 0.1.0).
const notification: CallsWebhookNotification = {
  object: "whatsapp_business_account",
  entry: [
    {
      id: "1",
      changes: [
        {
          field: "calls",
          value: {
            messaging_product: "whatsapp",
            metadata: { phone_number_id: "2" },
            calls: [
              { id: "wacid.1", event: "connect", timestamp: "1", session: { sdp_type: "offer", sdp: "v=0" } },
              { id: "wacid.1", event: "terminate", status: "COMPLETED", duration: 3 },
            ],
          },
        },
      ],
    },
  ],
};
void notification;

createWebhookHandler({
  appSecret: "secret",
  verifyToken: "token",
  on: {
    // @ts-expect-error a connect event has no errors (only terminate events do)
    "call.connect": (event) => event.errors,
  },
});

createWebhookHandler({
  appSecret: "secret",
  verifyToken: "token",
  on: {
    // @ts-expect-error a status event's data has no session
    "call.status": (event) => event.data.session,
  },
});

createWebhookHandler({
  appSecret: "secret",
  verifyToken: "token",
  on: {
    // @ts-expect-error unknown event names do not compile
    "call.ringing": () => {},
  },
});

createWebhookHandler({
  appSecret: ["current", "previous"],
  verifyToken: "token",
  onEvent: (event) => {
    // @ts-expect-error callId is not on every event: narrow by type first
    void event.callId;
    if (event.type === "call.connect") {
      const data: ConnectCallEvent = event.data;
      const contact: WebhookContact | undefined = event.contact;
      void [data, contact, event.callId];
    }
    if (event.type === "call.terminate") {
      const data: TerminateCallEvent = event.data;
      void data;
    }
    if (event.type === "unknown") {
      // @ts-expect-error an unknown event's data is unknown until checked
      void event.data.id;
    }
  },
  maxBodyBytes: 8 * 1024 * 1024,
  dedupe: new Set<string>(),
  logger: console,
  onError: (error, { event }) => void [error, event?.type],
});

// @ts-expect-error the verify token is required
createWebhookHandler({ appSecret: "secret" });

// @ts-expect-error dedupe takes a store, not a number
createWebhookHandler({ appSecret: "s", verifyToken: "t", dedupe: 10_000 });

const store: WebhookDedupeStore = { claim: async () => "claimed" as const, markDone: async () => {}, release: () => {} };
// A 0.1.0 store (has/add) is still accepted.
createWebhookHandler({ appSecret: "s", verifyToken: "t", dedupe: store });
createWebhookHandler({ appSecret: "s", verifyToken: "t", dedupe: { has: async (key: string) => key === "", add: async () => {} } });
// @ts-expect-error a claim is "claimed", "done" or "busy"
const badStore: WebhookDedupeStore = { claim: () => "maybe", markDone: () => {}, release: () => {} };
void badStore;

// The handler is a web-standard function, and the node listener is (req, res) => void.
const handle: (request: Request) => Promise<Response> = createWebhookHandler({ appSecret: "s", verifyToken: "t" });
const listener: (req: IncomingMessage, res: ServerResponse) => void = toNodeListener(handle);
void listener;

async function typedReturns() {
  const valid: boolean = await verifySignature(await request.arrayBuffer(), request.headers.get("x-hub-signature-256"), ["a", "b"]);
  const challenge: string = verifySubscription(new URL(request.url), "token");
  const events: WebhookEvent[] = parseWebhook(await request.text());
  const strict: WebhookEvent[] = parseWebhook(await request.text(), { strict: true });
  void strict;
  const header: string = await signWebhookPayload("{}", "secret");
  // @ts-expect-error verifySignature is asynchronous (WebCrypto)
  const notAwaited: boolean = verifySignature("{}", header, "secret");
  // @ts-expect-error the raw body is bytes or text, not parsed JSON
  await verifySignature({ entry: [] }, header, "secret");
  void [valid, challenge, events, notAwaited];
  try {
    parseWebhook("{}");
  } catch (error) {
    if (error instanceof WebhookPayloadError) {
      const where: [string, string, 400] = [error.path, error.pointer, error.status];
      void where;
    }
  }
}
void typedReturns;

// The event-type union and its lookup.
const types: readonly WebhookEventType[] = WEBHOOK_EVENT_TYPES;
// The list names every member of the union: nothing of WebhookEventType is left out of it.
const everyTypeListed: [Exclude<WebhookEventType, (typeof WEBHOOK_EVENT_TYPES)[number]>] extends [never] ? true : false = true;
void everyTypeListed;
// @ts-expect-error not an event type
const notAType: WebhookEventType = "calls";
const connect = {} as WebhookEventOf<"call.connect">;
const sdp: string | undefined = connect.data.session?.sdp;
void [types, notAType, sdp];

// A webhook's media object goes to the media functions as it is (its id may be a JSON number).
{
  const calls = createCallingClient({ phoneNumberId: "117823401562387", accessToken: "token" });
  createWebhookHandler({
    appSecret: "secret",
    verifyToken: "verify",
    on: {
      "call.recording_available": async (event) => void (await downloadMediaBytes(calls, event.media)),
      "call.transcription_available": async (event) => void (await fetchTranscript(calls, event.media)),
      "call.voicemail": async (event) => void (await downloadMedia(calls, event.media)),
    },
  });
}
