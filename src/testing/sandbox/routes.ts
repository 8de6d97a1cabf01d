// The Graph endpoints of the sandbox's number: each request body checked with the client's validator of it,
// generated from openapi.yaml (code 100 naming the path of the first problem), then handed to the engine's step.
import { CALL_ACTIONS } from "../../../generated/operations.js";
import type {
  AcceptCallRequest,
  CallingMessageRequest,
  ConnectCallRequest,
  PreAcceptCallRequest,
  RejectCallRequest,
  TerminateCallRequest,
  UpdateSettingsRequest,
} from "../../../generated/openapi.js";
import { ANNOUNCEMENT_FIELDS, MAX_ANNOUNCEMENT_SECONDS, oggOpusDuration } from "../../media/upload.js";
import { waIdOf } from "./calls.js";
import type { SandboxEngine } from "./engine.js";
import { callHoursProblem } from "./settings.js";
import { dottedPath, invalidParameter, refusal, type Refusal } from "./refusals.js";
import { REQUEST_VALIDATORS, ruleOf } from "../../client/validators.js";
import type { SchemaValidator } from "../../schema/check.js";

export interface RouteRequest {
  readonly method: string;
  /** The endpoint after `/{version}/{phone-number-id}`: `calls`, `call_permissions`, `settings`, `messages`. */
  readonly endpoint: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

export interface RouteAnswer {
  readonly status: number;
  readonly body: unknown;
  /** For the transcript. */
  readonly action?: string;
  readonly callId?: string;
}

/** The first problem the validator found, as a code 100 refusal naming its path; undefined when valid. */
function invalid(validate: SchemaValidator, body: unknown): Refusal | undefined {
  if (validate(body)) return undefined;
  const first = validate.errors?.[0];
  const missing = first?.keyword === "required" ? String((first.params as { missingProperty?: unknown }).missingProperty) : undefined;
  const pointer = missing === undefined ? (first?.instancePath ?? "") : `${first?.instancePath ?? ""}/${missing}`;
  return invalidParameter(dottedPath(pointer), missing !== undefined ? "is required" : ruleOf(first));
}

const answer = (status: number, body: unknown, extra: { action?: string; callId?: string } = {}): RouteAnswer => ({ status, body, ...extra });
const refused = (refusal: Refusal, extra: { action?: string; callId?: string } = {}): RouteAnswer => answer(refusal.status, refusal.body, extra);

export async function route(engine: SandboxEngine, request: RouteRequest): Promise<RouteAnswer> {
  const key = `${request.method} ${request.endpoint}`;
  switch (key) {
    case "POST calls":
      return calls(engine, request.body);
    case "GET call_permissions": {
      const user = request.query.get("user_wa_id") ?? request.query.get("recipient");
      if (!user) return refused(invalidParameter("user_wa_id", "is required (or recipient)"));
      const problem = invalid(REQUEST_VALIDATORS.getCallPermissions, Object.fromEntries(request.query));
      if (problem) return refused(problem);
      return answer(200, engine.permissionOf(user));
    }
    case "GET settings":
      return answer(200, { calling: engine.getSettings({ sipCredentials: request.query.get("include_sip_credentials") === "true" }) });
    case "POST settings": {
      const problem = invalid(REQUEST_VALIDATORS.updateCallingSettings, request.body);
      if (problem) return refused(problem);
      const hours = (request.body as UpdateSettingsRequest).calling.call_hours;
      const broken = hours && callHoursProblem(hours);
      if (broken) return refused(invalidParameter(...broken));
      await engine.updateSettings((request.body as UpdateSettingsRequest).calling);
      return answer(200, { success: true });
    }
    case "POST messages":
      return messages(engine, request.body);
    default:
      return refused(refusal(100, `Unsupported ${request.method} request: /${request.endpoint} is not a calling endpoint of the sandbox`, "Unsupported request"));
  }
}

/**
 * The Media API of the sandbox's recordings and transcripts: `GET /{media-id}` (a fresh download URL; with
 * `phone_number_id`, only for this number) and `DELETE /{media-id}`. An unknown id is refused as Meta refuses one.
 */
export function mediaRoute(engine: SandboxEngine, method: string, mediaId: string, query: URLSearchParams): RouteAnswer {
  const file = engine.mediaFiles.get(mediaId);
  const owner = query.get("phone_number_id");
  const action = method === "DELETE" ? "deleteMedia" : "getMediaUrl";
  if (!file || (owner !== null && owner !== engine.business.phoneNumberId) || (method !== "GET" && method !== "DELETE")) {
    const missing = `Unsupported ${method.toLowerCase()} request. Object with ID '${mediaId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`;
    // Subcode 33: Graph's "no such object" (or not this caller's).
    return refused(refusal(100, missing, "Unsupported request", 33), { action });
  }
  if (method === "DELETE") {
    engine.mediaFiles.delete(mediaId);
    return answer(200, { success: true }, { action });
  }
  return answer(200, engine.mediaFiles.urlResponse(file), { action });
}

/**
 * `POST /{phone-number-id}/media` with `use_case=call_voicemail_announcement`: the fields as openapi.yaml gives
 * them, and a file that is OGG/Opus shorter than 60 s, checked as the client checks it before sending. The
 * announcement is kept with the call's other media, so `GET` and `DELETE /{media-id}` serve it too.
 */
export async function uploadRoute(engine: SandboxEngine, form: FormData | undefined): Promise<RouteAnswer> {
  const action = "uploadMedia";
  if (!form) return refused(invalidParameter("file", "the body must be multipart/form-data with a file part"), { action });
  for (const [field, value] of Object.entries(ANNOUNCEMENT_FIELDS)) {
    if (form.get(field) !== value) return refused(invalidParameter(field, `must be ${value}`), { action });
  }
  const file = form.get("file");
  if (typeof file === "string" || file === null) return refused(invalidParameter("file", "is required: the audio as a file part"), { action });
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    const seconds = oggOpusDuration(bytes);
    if (seconds >= MAX_ANNOUNCEMENT_SECONDS) return refused(invalidParameter("file", `lasts ${seconds.toFixed(2)} s; an announcement is shorter than ${MAX_ANNOUNCEMENT_SECONDS} s`), { action });
  } catch (error) {
    return refused(invalidParameter("file", (error as Error).message), { action });
  }
  const stored = await engine.mediaFiles.add(bytes, "audio/ogg");
  return answer(200, { id: stored.id }, { action });
}

async function calls(engine: SandboxEngine, body: unknown): Promise<RouteAnswer> {
  const action = (body as { action?: unknown } | null)?.action;
  const validate = CALL_ACTIONS.includes(action as never) ? REQUEST_VALIDATORS[action as (typeof CALL_ACTIONS)[number]] : undefined;
  if (!validate) return refused(invalidParameter("action", `must be one of ${CALL_ACTIONS.join(", ")}`));
  const callId = typeof (body as { call_id?: unknown }).call_id === "string" ? (body as { call_id: string }).call_id : undefined;
  const extra = { action: action as string, ...(callId === undefined ? {} : { callId }) };
  const problem = invalid(validate, body) ?? engine.sipRefusal();
  if (problem) return refused(problem, extra);
  let outcome: Refusal | { success: true } | { callId: string };
  switch (action) {
    case "connect":
      outcome = await engine.connect(body as ConnectCallRequest);
      if ("callId" in outcome) return answer(200, { messaging_product: "whatsapp", calls: [{ id: outcome.callId }] }, { action, callId: outcome.callId });
      break;
    case "pre_accept":
      outcome = await engine.preAccept(body as PreAcceptCallRequest);
      break;
    case "accept":
      outcome = await engine.accept(body as AcceptCallRequest);
      break;
    case "reject":
      outcome = await engine.reject((body as RejectCallRequest).call_id);
      break;
    default:
      outcome = await engine.terminate((body as TerminateCallRequest).call_id);
  }
  if ("success" in outcome) return answer(200, { messaging_product: "whatsapp", success: true }, extra);
  return refused(outcome as Refusal, extra);
}

async function messages(engine: SandboxEngine, body: unknown): Promise<RouteAnswer> {
  const type = (body as { interactive?: { type?: unknown } } | null)?.interactive?.type;
  const validate = type === "voice_call" ? REQUEST_VALIDATORS.sendCallButton : REQUEST_VALIDATORS.sendCallPermissionRequest;
  const problem = invalid(validate, body);
  if (problem) return refused(problem, { action: String(type ?? "message") });
  const message = body as CallingMessageRequest;
  if (message.interactive.type === "voice_call") {
    const waId = waIdOf(message.to ?? "");
    return answer(200, { messaging_product: "whatsapp", contacts: [{ input: message.to, wa_id: waId }], messages: [{ id: `wamid.${crypto.randomUUID()}` }] }, { action: "voice_call" });
  }
  // A permission request names the user by phone number (`to`) or by BSUID (`recipient`); the schema requires one.
  const user = message.to !== undefined ? waIdOf(message.to) : (message as { recipient?: string }).recipient!;
  const outcome = await engine.permissionRequest(user);
  if ("status" in outcome) return refused(outcome, { action: "call_permission_request" });
  return answer(
    200,
    { messaging_product: "whatsapp", contacts: [{ input: user, wa_id: outcome.waId }], messages: [{ id: outcome.messageId }] },
    { action: "call_permission_request" },
  );
}
