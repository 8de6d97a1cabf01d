import type { Client } from "openapi-fetch";
import { ENDPOINTS, type EndpointName } from "../generated/operations.js";
import type {
  AcceptCallRequest,
  CallingSettings,
  CallingSettingsUpdate,
  CallPermissionRequestMessage,
  CallPermissionsResponse,
  CallRecordingRequest,
  CallTranscriptionRequest,
  ConnectCallRequest,
  ConnectCallResponse,
  PreAcceptCallRequest,
  RejectCallRequest,
  SendMessageResponse,
  SuccessResponse,
  TerminateCallRequest,
  VoiceCallButtonMessage,
  paths,
} from "../generated/openapi.js";
import { answerCall } from "./client/answer.js";
import { setClientContext } from "./client/context.js";
import { checkOptions, checkPhoneNumberId, checkTimeout, checkTokenSource } from "./client/options.js";
import { createRawClient } from "./client/raw.js";
import type { RetryInfo, RetryOptions } from "./client/retry.js";
import { Tokens, type AccessTokenSource } from "./client/token.js";
import { checkBody } from "./client/validators.js";
import { WhatsAppValidationError } from "./errors.js";
import { WhatsAppResponseError } from "./client/errors.js";
import { createLog, type Logger } from "./logging.js";
import { exchange, jsonObject, type FetchFunction, type RequestHooks, type TransportConfig } from "./transport.js";

export type { AccessTokenSource, RetryInfo, RetryOptions };
export type { AttemptInfo, AttemptOutcome, AttemptResult, FetchFunction, RequestHooks } from "./transport.js";

export interface CallingClientOptions {
  /** The id of the business phone number (not the number itself). */
  phoneNumberId: string;
  /** A token, or a function (sync or async) read at the start of every request. */
  accessToken: AccessTokenSource;
  /** Graph API version, the first path segment. Default: DEFAULT_API_VERSION, from openapi.yaml. */
  apiVersion?: string | undefined;
  /** Graph API host; the version is appended. Default https://graph.facebook.com. */
  baseUrl?: string | undefined;
  /** A fetch to use instead of the global one, called as the global one is: `(url, init)`; `init.headers` is a plain object. */
  fetch?: FetchFunction | undefined;
  /** Deadline of one request, retries included, in milliseconds. Default 15000. */
  timeoutMs?: number | undefined;
  /**
   * Give every fetch a signal its deadline aborts, so that a request that times out closes its connection at
   * once. Default false: until a request of the client times out, its fetches carry only your `signal`, since
   * linking a signal into a fetch costs Node 20 about 8 % of a loopback request (BENCHMARKS.md); the connection
   * of that first timed-out request then stays open, and keeps a Node process from exiting, until its answer
   * comes or undici gives up (5 minutes). Set it in scripts, CLIs and tests, or pass a `signal` you abort on
   * shutdown.
   */
  abortOnTimeout?: boolean | undefined;
  /** Retries of 429, 5xx and network failures, as each operation's rule in openapi.yaml allows, or false. Default { retries: 2, minDelayMs: 250, maxDelayMs: 4000 }. */
  retry?: RetryOptions | false | undefined;
  /** Called before each retry. */
  onRetry?: ((info: RetryInfo) => void) | undefined;
  /** Gets a new token after a 401 with a token code (190); called once for all requests in flight. */
  refreshAccessToken?: (() => Promise<string>) | undefined;
  /** Gets a summary of each request; never tokens, headers, bodies or SDP. `(message, details)` and pino's `(details, message)` both work. */
  logger?: Logger | undefined;
  /** The most bytes of an answer that are read (after decompression). Default DEFAULT_MAX_RESPONSE_BYTES (1 MiB). */
  maxResponseBytes?: number | undefined;
  /** Told about every attempt (for metrics and tracing); `onRequest` may add headers such as `traceparent`. */
  hooks?: RequestHooks | undefined;
}

/** Options every method takes. */
export interface RequestOptions {
  /** Aborts the request; the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** This request's deadline instead of the client's `timeoutMs`. */
  timeoutMs?: number | undefined;
}

/**
 * Recording or transcription of a call, as sent (the generated wire object), with `purpose` and
 * `announcement_language` required when `status` is `ENABLED`.
 */
export type Announced<T extends { status: string; purpose?: string; announcement_language?: string }> =
  | (T & Required<Pick<T, "purpose" | "announcement_language">> & { status: "ENABLED" })
  | (T & { status: "DISABLED" });
export type RecordingOption = Announced<CallRecordingRequest>;
export type TranscriptionOption = Announced<CallTranscriptionRequest>;

export interface PreAcceptOptions extends RequestOptions {
  /**
   * The caller's phone number, sent as `to`. Not sent by default: Meta's guides leave it out, its generated
   * reference requires it (see `x-decision-to` in openapi.yaml).
   */
  to?: string | undefined;
}

export interface AcceptOptions extends PreAcceptOptions {
  /** Echoed in the terminate webhook; at most 512 characters. */
  bizOpaqueCallbackData?: string | undefined;
  /** Record the call (announced to both parties); the recording comes in a `call_recording_available` webhook. */
  recording?: RecordingOption | undefined;
  /** Transcribe the call (announced); the transcript comes in a `call_transcription_available` webhook. */
  transcription?: TranscriptionOption | undefined;
}

export interface AnswerOptions extends AcceptOptions {
  /**
   * Runs between pre_accept and accept, e.g. to wait until ICE and DTLS are connected. Its `signal` aborts when
   * answer()'s deadline passes or the caller's signal aborts.
   */
  afterPreAccept?: ((context: { callId: string; signal: AbortSignal }) => void | Promise<void>) | undefined;
}

export interface ConnectOptions extends RequestOptions {
  /** Echoed in status and terminate webhooks; at most 512 characters. */
  bizOpaqueCallbackData?: string | undefined;
  /** Record the call (announced to both parties); the recording comes in a `call_recording_available` webhook. */
  recording?: RecordingOption | undefined;
  /** Transcribe the call (announced); the transcript comes in a `call_transcription_available` webhook. */
  transcription?: TranscriptionOption | undefined;
}

/** Who to call: a phone number, or a business-scoped user id (`{ recipient }`), or both (`to` wins). */
export type CallRecipient = string | { to: string; recipient?: string } | { to?: string; recipient: string };

export interface ConnectResult {
  /** The new call's id (`wacid.…`); the connect webhook with Meta's SDP answer carries the same id. */
  callId: string;
  data: ConnectCallResponse;
}

export interface SendMessageResult {
  /** The message id (`wamid.…`). */
  messageId: string;
  data: SendMessageResponse;
}

export interface CallButtonOptions extends RequestOptions {
  bodyText: string;
  /** Button label, at most 20 characters. WhatsApp's default is "Call Now". */
  displayText?: string | undefined;
  /** How long the button works, 1 to 43200 minutes. WhatsApp's default is 10080 (7 days). */
  ttlMinutes?: number | undefined;
  /** Comes back as `cta_payload` in the connect and terminate webhooks; at most 512 characters. */
  payload?: string | undefined;
}

export interface CallPermissionRequestOptions extends RequestOptions {
  /** The text above the request; recommended. */
  bodyText?: string | undefined;
}

export interface CallingClient {
  /** Set up media of a user-initiated call before answering it (action pre_accept, sdp_type answer). */
  preAccept(callId: string, sdpAnswer: string, options?: PreAcceptOptions): Promise<SuccessResponse>;
  /** Answer a user-initiated call with the same SDP answer as pre_accept (action accept). */
  accept(callId: string, sdpAnswer: string, options?: AcceptOptions): Promise<SuccessResponse>;
  /**
   * pre_accept, then accept, with the same SDP answer, within one deadline (`timeoutMs`) for both. If anything
   * fails after pre_accept got through, or pre_accept ends without a clear answer (timeout, lost connection, 5xx),
   * the call is terminated (best effort, with a deadline of its own, ANSWER_CLEANUP_TIMEOUT_MS) so the caller is
   * not left ringing; the error's `step` names the failed step and `callTerminated` says whether the terminate
   * got through.
   */
  answer(callId: string, sdpAnswer: string, options?: AnswerOptions): Promise<SuccessResponse>;
  /** Decline a user-initiated call. */
  reject(callId: string, options?: RequestOptions): Promise<SuccessResponse>;
  /** End a call in either direction. */
  terminate(callId: string, options?: RequestOptions): Promise<SuccessResponse>;
  /** Place a business-initiated call with an SDP offer. Never retried automatically (a 401/190 refresh aside). */
  connect(to: CallRecipient, sdpOffer: string, options?: ConnectOptions): Promise<ConnectResult>;
  /** The user's call permission and the limits of the related actions. A string is a phone number. */
  getCallPermissions(user: string | { recipient: string }, options?: RequestOptions): Promise<CallPermissionsResponse>;
  /** The number's calling settings (the `calling` object of GET /settings; empty when Meta sends none). */
  getCallingSettings(options?: RequestOptions & { includeSipCredentials?: boolean }): Promise<CallingSettings>;
  /** Change calling settings; every field is optional. */
  updateCallingSettings(calling: CallingSettingsUpdate, options?: RequestOptions): Promise<SuccessResponse>;
  /** Ask a user for call permission (interactive call_permission_request). Never retried automatically. */
  sendCallPermissionRequest(to: string, options?: CallPermissionRequestOptions): Promise<SendMessageResult>;
  /** Send a message with a WhatsApp call button (interactive voice_call). Never retried automatically. */
  sendCallButton(to: string, options: CallButtonOptions): Promise<SendMessageResult>;
  /** Replace the token; requests already started keep theirs. */
  setAccessToken(accessToken: AccessTokenSource): void;
  /** Switch to another business number for the next requests. */
  setPhoneNumberId(phoneNumberId: string): void;
  /** The phone number id requests go to now. */
  readonly phoneNumberId: string;
  /** The Graph API version in every URL. */
  readonly apiVersion: string;
  /** The openapi-fetch client typed by the generated paths, with auth, deadline and retries applied. */
  readonly raw: Client<paths>;
}

/**
 * The name a request goes by in logs, errors and hooks (`action`): a call's action on the wire, or the method's
 * name. These methods send to an endpoint of another name (two of them to the same one).
 */
const ENDPOINT_OF = {
  getCallingSettings: "getSettings",
  updateCallingSettings: "updateSettings",
  sendCallPermissionRequest: "sendCallingMessage",
  sendCallButton: "sendCallingMessage",
} as const satisfies Record<string, EndpointName>;
type Action = "connect" | "pre_accept" | "accept" | "reject" | "terminate" | "getCallPermissions" | keyof typeof ENDPOINT_OF;

export function createCallingClient(options: CallingClientOptions): CallingClient {
  const config = checkOptions(options);
  const base = config.versionedBaseUrl;
  let phoneNumberId = config.phoneNumberId;
  const userFetch = options.fetch;
  const transport: TransportConfig = {
    fetch: userFetch ?? ((input, init) => globalThis.fetch(input, init)),
    tokens: new Tokens(config.accessToken, options.refreshAccessToken),
    retry: config.retry,
    maxResponseBytes: config.maxResponseBytes,
    onRetry: options.onRetry,
    hooks: options.hooks,
    log: createLog(options.logger),
    abortableUntil: config.abortOnTimeout ? Infinity : 0,
  };

  /** The one request of every method: check the body, send it, and give back a 2xx JSON object or throw. */
  async function send<Result = SuccessResponse>(
    action: Action,
    body: object | undefined,
    requestOptions: RequestOptions | undefined,
    query = "",
  ): Promise<Result> {
    if (body !== undefined) checkBody(action, body);
    const timeoutMs = checkTimeout(requestOptions?.timeoutMs, "timeoutMs") ?? config.timeoutMs;
    const endpoint = ENDPOINTS[(ENDPOINT_OF as Record<string, EndpointName>)[action] ?? (action as EndpointName)];
    const path = endpoint.path.replace("{phone-number-id}", phoneNumberId);
    const { call_id: callId, session } = (body ?? {}) as { call_id?: string; session?: { sdp?: string } };
    const outgoing = { method: endpoint.method, url: base + path + query, path, body: body && JSON.stringify(body), action, callId, retry: endpoint.retry, sdp: session?.sdp };
    return jsonObject(await exchange(transport, outgoing, requestOptions?.signal, timeoutMs), action, callId) as Result;
  }

  const acceptBody = (callId: string, sdp: string, o: AcceptOptions | undefined): AcceptCallRequest => ({
    messaging_product: "whatsapp",
    call_id: callId,
    action: "accept",
    ...optional("to", o?.to),
    session: { sdp_type: "answer", sdp },
    ...optional("biz_opaque_callback_data", o?.bizOpaqueCallbackData),
    ...optional("recording", o?.recording),
    ...optional("transcription", o?.transcription),
  });

  /** A message send, which must give back the message id. */
  async function message(action: "sendCallPermissionRequest" | "sendCallButton", body: CallPermissionRequestMessage | VoiceCallButtonMessage, o?: RequestOptions) {
    const data = await send<SendMessageResponse>(action, body, o);
    const messageId = data.messages?.[0]?.id;
    if (typeof messageId !== "string") throw new WhatsAppResponseError(`${action} succeeded but the answer has no message id`, { status: 200, action });
    return { messageId, data };
  }

  const client: CallingClient = {
    preAccept: (callId, sdp, o) =>
      send("pre_accept", { messaging_product: "whatsapp", call_id: callId, action: "pre_accept", ...optional("to", o?.to), session: { sdp_type: "answer", sdp } } satisfies PreAcceptCallRequest, o),
    accept: (callId, sdp, o) => send("accept", acceptBody(callId, sdp, o), o),
    reject: (callId, o) => send("reject", { messaging_product: "whatsapp", call_id: callId, action: "reject" } satisfies RejectCallRequest, o),
    terminate: (callId, o) => send("terminate", { messaging_product: "whatsapp", call_id: callId, action: "terminate" } satisfies TerminateCallRequest, o),

    async answer(callId, sdp, o = {}) {
      // Check both requests before sending the first, so that a bad argument cannot leave a call pre-accepted.
      checkBody("accept", acceptBody(callId, sdp, o));
      // One deadline for the whole answer: Meta gives a webhook about 20 seconds.
      return answerCall(client, transport.log, checkTimeout(o.timeoutMs, "timeoutMs") ?? config.timeoutMs, callId, sdp, o);
    },

    async connect(to, sdp, o) {
      const recipient = typeof to === "string" ? { to } : to;
      const body = {
        messaging_product: "whatsapp",
        ...optional("to", recipient?.to),
        ...optional("recipient", recipient?.recipient),
        action: "connect",
        session: { sdp_type: "offer", sdp },
        ...optional("biz_opaque_callback_data", o?.bizOpaqueCallbackData),
        ...optional("recording", o?.recording),
        ...optional("transcription", o?.transcription),
      } as ConnectCallRequest;
      const data = await send<ConnectCallResponse>("connect", body, o);
      const callId = data.calls?.[0]?.id;
      if (typeof callId !== "string") throw new WhatsAppResponseError("connect succeeded but the answer has no call id", { status: 200, action: "connect" });
      return { callId, data };
    },

    async getCallPermissions(user, o) {
      const id = typeof user === "string" ? user : user?.recipient;
      if (!id) throw new WhatsAppValidationError("getCallPermissions needs a phone number or { recipient }", { action: "getCallPermissions" });
      const parameter = typeof user === "string" ? "user_wa_id" : "recipient";
      checkBody("getCallPermissions", { [parameter]: id });
      return send<CallPermissionsResponse>("getCallPermissions", undefined, o, `?${parameter}=${encodeURIComponent(id)}`);
    },

    getCallingSettings: async (o) =>
      (await send<{ calling?: CallingSettings }>("getCallingSettings", undefined, o, o?.includeSipCredentials ? "?include_sip_credentials=true" : "")).calling ?? {},

    updateCallingSettings: (calling, o) => send("updateCallingSettings", { calling }, o),

    sendCallPermissionRequest: (to, o) =>
      message(
        "sendCallPermissionRequest",
        {
          messaging_product: "whatsapp",
          recipient_type: "individual",
          to,
          type: "interactive",
          interactive: { type: "call_permission_request", action: { name: "call_permission_request" }, ...(o?.bodyText === undefined ? {} : { body: { text: o.bodyText } }) },
        },
        o,
      ),

    sendCallButton(to, o) {
      const parameters = { ...optional("display_text", o?.displayText), ...optional("ttl_minutes", o?.ttlMinutes), ...optional("payload", o?.payload) };
      const action = { name: "voice_call" as const, ...(Object.keys(parameters).length > 0 ? { parameters } : {}) };
      return message("sendCallButton", { messaging_product: "whatsapp", recipient_type: "individual", to, type: "interactive", interactive: { type: "voice_call", body: { text: o?.bodyText }, action } }, o);
    },

    setAccessToken(accessToken) {
      transport.tokens.source = checkTokenSource(accessToken);
    },

    setPhoneNumberId(next) {
      phoneNumberId = checkPhoneNumberId(next);
    },

    get phoneNumberId() {
      return phoneNumberId;
    },

    apiVersion: config.apiVersion,
    raw: createRawClient(base, (outgoing, signal) => exchange(transport, outgoing, signal, config.timeoutMs)),
  };
  // For whatsapp-calling/media, which takes the client: the phone number id is read when a request starts.
  setClientContext(client, { transport, baseUrl: base, phoneNumberId: () => phoneNumberId, timeoutMs: config.timeoutMs });
  return client;
}

/** `{ key: value }` when value is defined, else `{}`: the wire has no nulls for absent options. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
