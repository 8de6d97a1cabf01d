import createClient, { type Client } from "openapi-fetch";
import { API_VERSION_PATTERN, DEFAULT_API_VERSION, GRAPH_API_BASE_URL, PHONE_NUMBER_ID_PATTERN } from "../generated/api-version.js";
import type {
  AcceptCallRequest,
  CallingSettings,
  CallPermissionRequestMessage,
  CallPermissionsResponse,
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
import {
  validateAcceptCallRequest,
  validateCallPermissionRequestMessage,
  validateConnectCallRequest,
  validatePreAcceptCallRequest,
  validateRejectCallRequest,
  validateTerminateCallRequest,
  validateUpdateSettingsRequest,
  validateVoiceCallButtonMessage,
  type SchemaValidator,
} from "../generated/request-validators.js";
import {
  WhatsAppApiError,
  WhatsAppError,
  WhatsAppResponseError,
  WhatsAppTimeoutError,
  WhatsAppTokenError,
  WhatsAppValidationError,
  type AnswerStep,
} from "./errors.js";
import { log, redactSecrets, type Logger } from "./logging.js";
import {
  DEFAULT_RETRY,
  DEFAULT_TIMEOUT_MS,
  MAX_TIMEOUT_MS,
  Transport,
  raceAbort,
  retryAfterMs,
  type AccessTokenSource,
  type RetryInfo,
  type RetryOptions,
} from "./transport.js";

export type { AccessTokenSource, RetryInfo, RetryOptions };

export interface CallingClientOptions {
  /** The id of the business phone number (not the number itself). */
  phoneNumberId: string;
  /** A token, or a function (sync or async) read at the start of every request. */
  accessToken: AccessTokenSource;
  /** Graph API version, the first path segment. Default: DEFAULT_API_VERSION, from openapi.yaml. */
  apiVersion?: string;
  /** Graph API host; the version is appended. Default https://graph.facebook.com. */
  baseUrl?: string;
  /** A fetch to use instead of the global one. */
  fetch?: (request: Request) => Promise<Response>;
  /** Deadline of one request, retries included, in milliseconds. Default 15000. */
  timeoutMs?: number;
  /** Retries of 429, 5xx and network failures, or false. Default { retries: 2, minDelayMs: 250, maxDelayMs: 4000 }. `connect` and message sends are never retried (only re-sent once after a 401/190 token refresh, when Meta did nothing). */
  retry?: RetryOptions | false;
  /** Called before each retry. */
  onRetry?: (info: RetryInfo) => void;
  /** Gets a new token after a 401 with a token code (190); called once for all requests in flight. */
  refreshAccessToken?: () => Promise<string>;
  /** Gets a summary of each request; never tokens, headers, bodies or SDP. */
  logger?: Logger;
}

/** Options every method takes. */
export interface RequestOptions {
  /** Aborts the request; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** This request's deadline instead of the client's `timeoutMs`. */
  timeoutMs?: number;
}

export interface AcceptOptions extends RequestOptions {
  /** Echoed in the terminate webhook; at most 512 characters. */
  bizOpaqueCallbackData?: string;
}

export interface AnswerOptions extends AcceptOptions {
  /**
   * Runs between pre_accept and accept, e.g. to wait until ICE and DTLS are connected. Its `signal` aborts when
   * answer()'s deadline passes or the caller's signal aborts.
   */
  afterPreAccept?: (context: { callId: string; signal: AbortSignal }) => void | Promise<void>;
}

export interface ConnectOptions extends RequestOptions {
  /** Echoed in status and terminate webhooks; at most 512 characters. */
  bizOpaqueCallbackData?: string;
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
  displayText?: string;
  /** How long the button works, 1 to 43200 minutes. WhatsApp's default is 10080 (7 days). */
  ttlMinutes?: number;
  /** Comes back as `cta_payload` in the connect and terminate webhooks; at most 512 characters. */
  payload?: string;
}

export interface CallPermissionRequestOptions extends RequestOptions {
  /** The text above the request; recommended. */
  bodyText?: string;
}

export interface CallingClient {
  /** Set up media of a user-initiated call before answering it (action pre_accept, sdp_type answer). */
  preAccept(callId: string, sdpAnswer: string, options?: RequestOptions): Promise<SuccessResponse>;
  /** Answer a user-initiated call with the same SDP answer as pre_accept (action accept). */
  accept(callId: string, sdpAnswer: string, options?: AcceptOptions): Promise<SuccessResponse>;
  /**
   * pre_accept, then accept, with the same SDP answer, within one deadline (`timeoutMs`) for both. If anything
   * fails after pre_accept got through, or pre_accept ends without a clear answer (timeout, lost connection, 5xx),
   * the call is terminated (best effort) so the caller is not left ringing; the error's `step` names the failed
   * step and `callTerminated` says whether the terminate got through.
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
  updateCallingSettings(calling: CallingSettings, options?: RequestOptions): Promise<SuccessResponse>;
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

export function createCallingClient(options: CallingClientOptions): CallingClient {
  const config = checkOptions(options);
  let phoneNumberId = config.phoneNumberId;
  let tokenSource = config.accessToken;
  const versionedBaseUrl = `${config.baseUrl}/${config.apiVersion}`;
  const upstreamFetch = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const transport = new Transport({
    fetch: upstreamFetch,
    basePath: new URL(versionedBaseUrl).pathname,
    timeoutMs: config.timeoutMs,
    retry: config.retry,
    onRetry: options.onRetry,
    refreshAccessToken: options.refreshAccessToken,
    logger: options.logger,
    // A token string is replaced by the refreshed one; a token function stays the source of tokens (the
    // transport stands in the refreshed token while the function still returns the rejected one).
    onTokenRefreshed: (token) => {
      if (typeof tokenSource === "string") tokenSource = token;
    },
    currentTokenSource: () => tokenSource,
  });
  const raw = createClient<paths>({ baseUrl: versionedBaseUrl, fetch: transport.fetchForRaw });

  const pathParams = () => ({ path: { "phone-number-id": phoneNumberId } });

  /**
   * Runs one openapi-fetch call with a context fixed now (token, deadline) and turns a non-2xx answer into a
   * WhatsAppApiError. The token is read here, synchronously with the caller's call, so that a rotation right
   * after it cannot change the token of a request already started.
   */
  async function send<Data>(
    where: { action: string; callId?: string | undefined },
    requestOptions: RequestOptions | undefined,
    call: (init: { signal: AbortSignal | undefined; fetch: (request: Request) => Promise<Response> }) => Promise<{
      data?: Data;
      error?: unknown;
      response: Response;
    }>,
  ): Promise<Data> {
    const context = transport.startContext(checkTimeout(requestOptions?.timeoutMs, "timeoutMs"));
    const { data, error, response } = await call({
      signal: requestOptions?.signal,
      fetch: (request) => transport.send(request, context),
    });
    if (response.ok && data !== undefined) return data;
    if (response.ok) {
      throw new WhatsAppResponseError(`Graph API answered HTTP ${response.status} on ${where.action} with an empty body`, {
        status: response.status,
        ...where,
      });
    }
    const retryAfter = retryAfterMs(response.headers);
    throw new WhatsAppApiError({
      status: response.status,
      body: redactSecrets(error, context.secrets),
      retryAfterSeconds: retryAfter === undefined ? undefined : retryAfter / 1000,
      ...where,
    });
  }

  async function callAction<Body extends { action: string; call_id?: string }, Result>(
    body: Body,
    validator: SchemaValidator,
    requestOptions: RequestOptions | undefined,
  ): Promise<Result> {
    checkBody(validator, body, body.action);
    return (await send({ action: body.action, callId: body.call_id }, requestOptions, (init) =>
      raw.POST("/{phone-number-id}/calls", { params: pathParams(), body: body as never, ...init }),
    )) as Result;
  }

  async function sendMessage(
    body: CallPermissionRequestMessage | VoiceCallButtonMessage,
    validator: SchemaValidator,
    action: string,
    requestOptions: RequestOptions | undefined,
  ): Promise<SendMessageResult> {
    checkBody(validator, body, action);
    const data = await send({ action }, requestOptions, (init) =>
      raw.POST("/{phone-number-id}/messages", { params: pathParams(), body, ...init }),
    );
    const messageId = data.messages?.[0]?.id;
    if (typeof messageId !== "string") {
      throw new WhatsAppResponseError(`${action} succeeded but the answer has no message id`, { status: 200, action });
    }
    return { messageId, data };
  }

  /** Best-effort terminate after a failed answer(); true when it got through. */
  async function endCall(callId: string, step: AnswerStep): Promise<boolean> {
    try {
      // A deadline of its own, and not the caller's signal: an aborted or late answer must still end the call.
      await client.terminate(callId);
      return true;
    } catch (cleanupError) {
      log(options.logger, "warn", `whatsapp-calling: answer failed at ${step} and the follow-up terminate failed too`, {
        action: "terminate",
        callId,
        error: cleanupError instanceof Error ? cleanupError.name : typeof cleanupError,
      });
      return false;
    }
  }

  const client: CallingClient = {
    preAccept(callId, sdpAnswer, requestOptions) {
      const body: PreAcceptCallRequest = {
        messaging_product: "whatsapp",
        call_id: callId,
        action: "pre_accept",
        session: { sdp_type: "answer", sdp: sdpAnswer },
      };
      return callAction(body, validatePreAcceptCallRequest, requestOptions);
    },

    accept(callId, sdpAnswer, requestOptions) {
      const body = acceptRequest(callId, sdpAnswer, requestOptions?.bizOpaqueCallbackData);
      return callAction(body, validateAcceptCallRequest, requestOptions);
    },

    async answer(callId, sdpAnswer, requestOptions = {}) {
      const { afterPreAccept, bizOpaqueCallbackData, signal } = requestOptions;
      // Check both requests before sending the first, so that a bad argument cannot leave a call pre-accepted.
      checkBody(validateAcceptCallRequest, acceptRequest(callId, sdpAnswer, bizOpaqueCallbackData), "accept");
      // One deadline for the whole answer: Meta gives a webhook about 20 seconds.
      const budgetMs = checkTimeout(requestOptions.timeoutMs, "timeoutMs") ?? config.timeoutMs;
      const deadlineAt = Date.now() + budgetMs;
      const remaining = () => Math.max(1, deadlineAt - Date.now());
      try {
        await client.preAccept(callId, sdpAnswer, { ...optional("signal", signal), timeoutMs: remaining() });
      } catch (error) {
        // A refusal (4xx) means nothing happened; after a timeout, a lost connection, a 5xx or an abort, Meta
        // may have pre-accepted the call, so it is ended rather than left ringing.
        const refused = (error instanceof WhatsAppApiError && error.status < 500) || error instanceof WhatsAppValidationError || error instanceof WhatsAppTokenError;
        throw markStep(error, "pre_accept", refused ? undefined : await endCall(callId, "pre_accept"));
      }
      let step: AnswerStep = "after_pre_accept";
      try {
        if (afterPreAccept) await runAfterPreAccept(afterPreAccept, callId, remaining(), budgetMs, signal);
        step = "accept";
        return await client.accept(callId, sdpAnswer, {
          ...optional("signal", signal),
          ...optional("bizOpaqueCallbackData", bizOpaqueCallbackData),
          timeoutMs: remaining(),
        });
      } catch (error) {
        throw markStep(error, step, await endCall(callId, step));
      }
    },

    reject(callId, requestOptions) {
      const body: RejectCallRequest = { messaging_product: "whatsapp", call_id: callId, action: "reject" };
      return callAction(body, validateRejectCallRequest, requestOptions);
    },

    terminate(callId, requestOptions) {
      const body: TerminateCallRequest = { messaging_product: "whatsapp", call_id: callId, action: "terminate" };
      return callAction(body, validateTerminateCallRequest, requestOptions);
    },

    async connect(to, sdpOffer, requestOptions) {
      const recipient = typeof to === "string" ? { to } : to;
      const body = {
        messaging_product: "whatsapp",
        ...optional("to", recipient?.to),
        ...optional("recipient", recipient?.recipient),
        action: "connect",
        session: { sdp_type: "offer", sdp: sdpOffer },
        ...optional("biz_opaque_callback_data", requestOptions?.bizOpaqueCallbackData),
      } as ConnectCallRequest;
      const data = await callAction<ConnectCallRequest, ConnectCallResponse>(body, validateConnectCallRequest, requestOptions);
      const callId = data.calls?.[0]?.id;
      if (typeof callId !== "string") {
        throw new WhatsAppResponseError("connect succeeded but the answer has no call id", { status: 200, action: "connect" });
      }
      return { callId, data };
    },

    async getCallPermissions(user, requestOptions) {
      const query = typeof user === "string" ? { user_wa_id: user } : { recipient: user?.recipient };
      if (!(typeof user === "string" ? user : user?.recipient)) {
        throw new WhatsAppValidationError("getCallPermissions needs a phone number or { recipient }", {
          action: "getCallPermissions",
        });
      }
      return send({ action: "getCallPermissions" }, requestOptions, (init) =>
        raw.GET("/{phone-number-id}/call_permissions", { params: { ...pathParams(), query }, ...init }),
      );
    },

    async getCallingSettings(requestOptions) {
      const query = requestOptions?.includeSipCredentials ? { include_sip_credentials: true } : {};
      const data = await send({ action: "getSettings" }, requestOptions, (init) =>
        raw.GET("/{phone-number-id}/settings", { params: { ...pathParams(), query }, ...init }),
      );
      return data.calling ?? {};
    },

    async updateCallingSettings(calling, requestOptions) {
      const body = { calling };
      checkBody(validateUpdateSettingsRequest, body, "updateSettings");
      return send({ action: "updateSettings" }, requestOptions, (init) =>
        raw.POST("/{phone-number-id}/settings", { params: pathParams(), body, ...init }),
      );
    },

    sendCallPermissionRequest(to, requestOptions) {
      const body: CallPermissionRequestMessage = {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to,
        type: "interactive",
        interactive: {
          type: "call_permission_request",
          action: { name: "call_permission_request" },
          ...(requestOptions?.bodyText === undefined ? {} : { body: { text: requestOptions.bodyText } }),
        },
      };
      return sendMessage(body, validateCallPermissionRequestMessage, "sendCallPermissionRequest", requestOptions);
    },

    sendCallButton(to, requestOptions) {
      const parameters = {
        ...optional("display_text", requestOptions?.displayText),
        ...optional("ttl_minutes", requestOptions?.ttlMinutes),
        ...optional("payload", requestOptions?.payload),
      };
      const body: VoiceCallButtonMessage = {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to,
        type: "interactive",
        interactive: {
          type: "voice_call",
          body: { text: requestOptions?.bodyText },
          action: { name: "voice_call", ...(Object.keys(parameters).length > 0 ? { parameters } : {}) },
        },
      };
      return sendMessage(body, validateVoiceCallButtonMessage, "sendCallButton", requestOptions);
    },

    setAccessToken(accessToken) {
      tokenSource = checkTokenSource(accessToken);
    },

    setPhoneNumberId(next) {
      phoneNumberId = checkPhoneNumberId(next);
    },

    get phoneNumberId() {
      return phoneNumberId;
    },

    apiVersion: config.apiVersion,
    raw,
  };
  return client;
}

function acceptRequest(callId: string, sdpAnswer: string, bizOpaqueCallbackData: string | undefined): AcceptCallRequest {
  return {
    messaging_product: "whatsapp",
    call_id: callId,
    action: "accept",
    session: { sdp_type: "answer", sdp: sdpAnswer },
    ...optional("biz_opaque_callback_data", bizOpaqueCallbackData),
  };
}

/** `{ key: value }` when value is defined, else `{}`: the wire has no nulls for absent options. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function checkBody(validator: SchemaValidator, body: unknown, action: string) {
  if (validator(body)) return;
  const first = validator.errors?.[0];
  const path = first?.instancePath ?? "";
  const field = path === "" ? "the request" : path.slice(1).replaceAll("/", ".");
  // The one `not` rule of the request schemas is AnswerSdp's: an offer where an answer belongs.
  const rule =
    first?.keyword === "not" && path === "/session/sdp"
      ? "is an SDP offer (a=setup:actpass): send the SDP answer your WebRTC stack created for the caller's offer"
      : (first?.message ?? "is not valid");
  // The message names the field and the rule, never the value: an SDP carries ICE passwords.
  throw new WhatsAppValidationError(`Invalid ${action} request: ${field} ${rule}`, { path, action });
}

/**
 * Runs the hook between pre_accept and accept under answer()'s deadline. Its failure becomes a WhatsAppError
 * (the hook's own error is the `cause`); an abort by the caller keeps the caller's reason.
 */
async function runAfterPreAccept(
  hook: NonNullable<AnswerOptions["afterPreAccept"]>,
  callId: string,
  remainingMs: number,
  budgetMs: number,
  callerSignal: AbortSignal | undefined,
): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new WhatsAppTimeoutError({ timeoutMs: budgetMs, action: "answer", callId })),
    remainingMs,
  );
  const onCallerAbort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
  try {
    await raceAbort(
      Promise.resolve().then(() => hook({ callId, signal: controller.signal })),
      controller.signal,
    );
  } catch (error) {
    if (controller.signal.aborted && error === controller.signal.reason) throw error;
    throw new WhatsAppError(`the afterPreAccept hook failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener("abort", onCallerAbort);
  }
}

function markStep(error: unknown, step: AnswerStep, terminated: boolean | undefined): unknown {
  if (error instanceof WhatsAppError) {
    error.step = step;
    if (terminated !== undefined) error.callTerminated = terminated;
    error.message = `answer() failed at ${step}: ${error.message}`;
  } else if (error !== null && typeof error === "object") {
    // The caller's own abort reason is passed on as it is, with the step added.
    Object.defineProperty(error, "step", { value: step, enumerable: false, configurable: true });
    if (terminated !== undefined) {
      Object.defineProperty(error, "callTerminated", { value: terminated, enumerable: false, configurable: true });
    }
  }
  return error;
}

function checkTimeout(timeoutMs: unknown, path: string): number | undefined {
  if (timeoutMs === undefined) return undefined;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new WhatsAppValidationError(`${path} must be a number of milliseconds above 0 and at most ${MAX_TIMEOUT_MS}`, {
      path,
    });
  }
  return timeoutMs;
}

function checkOptions(options: CallingClientOptions): {
  phoneNumberId: string;
  accessToken: AccessTokenSource;
  apiVersion: string;
  baseUrl: string;
  timeoutMs: number;
  retry: Required<RetryOptions> | false;
} {
  if (options === null || typeof options !== "object") {
    throw new WhatsAppValidationError("createCallingClient needs an options object");
  }
  const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
  if (typeof apiVersion !== "string" || !API_VERSION_PATTERN.test(apiVersion)) {
    throw new WhatsAppValidationError(`apiVersion must look like "${DEFAULT_API_VERSION}" (${API_VERSION_PATTERN.source})`, {
      path: "apiVersion",
    });
  }
  const baseUrl = (options.baseUrl ?? GRAPH_API_BASE_URL).replace(/\/+$/, "");
  let basePath: string;
  try {
    basePath = new URL(baseUrl).pathname;
  } catch {
    throw new WhatsAppValidationError("baseUrl must be an absolute URL such as https://graph.facebook.com", {
      path: "baseUrl",
    });
  }
  if (API_VERSION_PATTERN.test(basePath.split("/").pop() ?? "")) {
    throw new WhatsAppValidationError(
      "baseUrl must not end with a Graph API version: the client appends apiVersion itself (pass it as apiVersion)",
      { path: "baseUrl" },
    );
  }
  const timeoutMs = checkTimeout(options.timeoutMs, "timeoutMs") ?? DEFAULT_TIMEOUT_MS;
  let retry: Required<RetryOptions> | false = false;
  if (options.retry !== false) {
    retry = { ...DEFAULT_RETRY, ...(options.retry ?? {}) };
    for (const [key, value] of Object.entries(retry)) {
      if (!Number.isInteger(value) || value < 0) {
        throw new WhatsAppValidationError(`retry.${key} must be a whole number of at least 0`, { path: `retry.${key}` });
      }
    }
  }
  for (const hook of ["fetch", "onRetry", "refreshAccessToken"] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== "function") {
      throw new WhatsAppValidationError(`${hook} must be a function`, { path: hook });
    }
  }
  return {
    phoneNumberId: checkPhoneNumberId(options.phoneNumberId),
    accessToken: checkTokenSource(options.accessToken),
    apiVersion,
    baseUrl,
    timeoutMs,
    retry,
  };
}

function checkPhoneNumberId(phoneNumberId: unknown): string {
  if (typeof phoneNumberId !== "string" || !PHONE_NUMBER_ID_PATTERN.test(phoneNumberId)) {
    throw new WhatsAppValidationError(
      "phoneNumberId must be the numeric id of the business phone number (a string of digits, not the number itself)",
      { path: "phoneNumberId" },
    );
  }
  return phoneNumberId;
}

function checkTokenSource(source: unknown): AccessTokenSource {
  if (typeof source === "function") return source as AccessTokenSource;
  if (typeof source === "string" && source.length > 0) return source;
  throw new WhatsAppValidationError("accessToken must be a non-empty string or a function that returns one", {
    path: "accessToken",
  });
}
