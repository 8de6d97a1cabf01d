// Compiled by `npm run typecheck`, never run: each @ts-expect-error proves that a wrong call does not compile.
import {
  createCallingClient,
  WhatsAppApiError,
  type CallActionRequest,
  type ConnectCallEvent,
  type components,
  type paths,
  type webhooks,
} from "../../src/index.js";

const calls = createCallingClient({ phoneNumberId: "1", accessToken: () => Promise.resolve("t") });
const sdp = "v=0\r\n";

export async function rightCalls() {
  await calls.preAccept("wacid.1", sdp);
  await calls.accept("wacid.1", sdp, { bizOpaqueCallbackData: "x", signal: AbortSignal.timeout(1000) });
  await calls.answer("wacid.1", sdp, { afterPreAccept: async () => {} });
  await calls.reject("wacid.1");
  await calls.terminate("wacid.1", { timeoutMs: 5000 });
  const { callId } = await calls.connect("15550123456", sdp);
  await calls.connect({ recipient: "US.1" }, sdp);
  const permission = await calls.getCallPermissions("15550123456");
  const status: "no_permission" | "temporary" | "permanent" = permission.permission.status;
  await calls.updateCallingSettings({ status: "ENABLED", call_icon_visibility: "DEFAULT" });
  const { messageId } = await calls.sendCallButton("15550123456", { bodyText: "Call us", ttlMinutes: 60 });
  calls.setAccessToken(async () => "next");
  calls.setPhoneNumberId("2");
  return [callId, status, messageId];
}

export async function wrongCalls() {
  // @ts-expect-error an SDP on reject
  await calls.reject("wacid.1", sdp);
  // @ts-expect-error terminate takes no SDP either
  await calls.terminate("wacid.1", sdp);
  // @ts-expect-error connect without a recipient
  await calls.connect(sdp);
  // @ts-expect-error connect to an object with neither to nor recipient
  await calls.connect({}, sdp);
  // @ts-expect-error accept needs an SDP answer
  await calls.accept("wacid.1");
  // @ts-expect-error options use camelCase, not the wire name
  await calls.accept("wacid.1", sdp, { biz_opaque_callback_data: "x" });
  // @ts-expect-error settings enums come from openapi.yaml
  await calls.updateCallingSettings({ status: "ON" });
  // @ts-expect-error a call button needs its body text
  await calls.sendCallButton("15550123456", {});
  // @ts-expect-error the token is a string or a function, not a number
  createCallingClient({ phoneNumberId: "1", accessToken: 42 });
  // @ts-expect-error phoneNumberId is required
  createCallingClient({ accessToken: "t" });
}

export async function rawIsTyped() {
  const phone = { path: { "phone-number-id": "1" } };
  await calls.raw.POST("/{phone-number-id}/calls", {
    params: phone,
    body: { messaging_product: "whatsapp", call_id: "wacid.1", action: "terminate" },
  });
  await calls.raw.POST("/{phone-number-id}/calls", {
    params: phone,
    // @ts-expect-error an unknown action through raw
    body: { messaging_product: "whatsapp", call_id: "wacid.1", action: "hangup" },
  });
  await calls.raw.POST("/{phone-number-id}/calls", {
    params: phone,
    // @ts-expect-error connect through raw without to or recipient
    body: { messaging_product: "whatsapp", action: "connect", session: { sdp_type: "offer", sdp } },
  });
  await calls.raw.POST("/{phone-number-id}/calls", {
    params: phone,
    // @ts-expect-error accept through raw with an SDP offer
    body: { messaging_product: "whatsapp", call_id: "wacid.1", action: "accept", session: { sdp_type: "offer", sdp } },
  });
  // @ts-expect-error a path that is not in openapi.yaml
  await calls.raw.POST("/{phone-number-id}/hangup", { params: phone });
}

export function narrowing(body: CallActionRequest, error: unknown) {
  if (body.action === "accept") {
    const answer: "answer" = body.session.sdp_type;
    return answer;
  }
  if (body.action === "reject") {
    // @ts-expect-error reject has no session
    return body.session;
  }
  if (error instanceof WhatsAppApiError) {
    const code: number | undefined = error.code;
    const category: "auth" | "permission" | "rate_limit" | "invalid_request" | "calling" | "server" | "unknown" = error.category;
    return [code, category, error.isRateLimit(), error.requiresTokenRefresh()];
  }
  return undefined;
}

// The generated types are exported: paths, components, webhooks and the root schema types.
export type CallsPost = paths["/{phone-number-id}/calls"]["post"];
export type Settings = components["schemas"]["CallingSettings"];
export type CallsWebhook = webhooks["calls"];
export const sdpOf = (event: ConnectCallEvent) => event.session?.sdp;

// Recording and transcription (issue 10): the generated wire objects, purpose and language required when enabled.
const recording = { status: "ENABLED", purpose: "quality assurance", announcement_language: "en_US" } as const;
export async function recordingAndTranscription() {
  await calls.accept("wacid.1", sdp, { recording });
  await calls.connect("15550123456", sdp, { recording, transcription: { status: "DISABLED" } });
  await calls.answer("wacid.1", sdp, { recording, transcription: { ...recording, announcement_language: "es" }, to: "15550123456" });
  await calls.preAccept("wacid.1", sdp, { to: "15550123456" });
  // @ts-expect-error enabled without a purpose
  await calls.accept("wacid.1", sdp, { recording: { status: "ENABLED", announcement_language: "en" } });
  // @ts-expect-error enabled without an announcement language
  await calls.connect("15550123456", sdp, { transcription: { status: "ENABLED", purpose: "qa" } });
  // @ts-expect-error a language openapi.yaml does not list
  await calls.accept("wacid.1", sdp, { recording: { ...recording, announcement_language: "xx" } });
  // @ts-expect-error a status that does not exist
  await calls.accept("wacid.1", sdp, { recording: { ...recording, status: "ON" } });
  // @ts-expect-error pre_accept takes no recording (Meta lists it on connect and accept only)
  await calls.preAccept("wacid.1", sdp, { recording });
  // @ts-expect-error the wire names, not camelCase: announcement_language
  await calls.accept("wacid.1", sdp, { recording: { status: "ENABLED", purpose: "qa", announcementLanguage: "en" } });
  // @ts-expect-error connect names its recipient in the first argument, not with a `to` option
  await calls.connect("15550123456", sdp, { to: "15550123456" });
}

// The fetch option takes what the global fetch takes; hooks see each attempt and may add headers.
export function fetchAndHooks() {
  createCallingClient({ phoneNumberId: "1", accessToken: "t", fetch: globalThis.fetch });
  createCallingClient({
    phoneNumberId: "1",
    accessToken: "t",
    fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, "x-proxy": "1" } }),
    maxResponseBytes: 65_536,
    hooks: {
      onRequest: ({ action, attempt }) => ({ traceparent: `00-${action}-${attempt}` }),
      onResponse: ({ outcome, status, durationMs }) => {
        const known: "success" | "error" | "retry" | "refresh" | "timeout" | "aborted" = outcome;
        return [known, status, durationMs];
      },
    },
  });
  // @ts-expect-error a fetch that takes a Request only is not what the client calls
  createCallingClient({ phoneNumberId: "1", accessToken: "t", fetch: (request: Request) => fetch(request) });
  // @ts-expect-error headers a hook adds are strings
  createCallingClient({ phoneNumberId: "1", accessToken: "t", hooks: { onRequest: () => ({ traceparent: 1 }) } });
}
