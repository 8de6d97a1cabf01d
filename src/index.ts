// whatsapp-calling: the client, its errors, the default API version and the generated types.
export { createCallingClient } from "./client.js";
export type {
  AcceptOptions,
  AccessTokenSource,
  Announced,
  AnswerOptions,
  AttemptInfo,
  AttemptOutcome,
  AttemptResult,
  CallButtonOptions,
  CallingClient,
  CallingClientOptions,
  CallPermissionRequestOptions,
  CallRecipient,
  ConnectOptions,
  ConnectResult,
  FetchFunction,
  PreAcceptOptions,
  RecordingOption,
  RequestHooks,
  RequestOptions,
  RetryInfo,
  RetryOptions,
  SendMessageResult,
  TranscriptionOption,
} from "./client.js";
export { WhatsAppError, WhatsAppValidationError } from "./errors.js";
export {
  ERROR_CATALOGUE,
  WhatsAppApiError,
  WhatsAppNetworkError,
  WhatsAppResponseError,
  WhatsAppResponseTooLargeError,
  WhatsAppTimeoutError,
  WhatsAppTokenError,
  lookupErrorCode,
} from "./client/errors.js";
export type { AnswerStep } from "./errors.js";
export type { ErrorCatalogueEntry, ErrorCategory } from "./client/errors.js";
// The Media API (recordings, transcripts, voicemails) and the voicemail-announcement upload: whatsapp-calling/media.
export type { Logger } from "./logging.js";
export { ABORTABLE_AFTER_TIMEOUT_MS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS } from "./transport.js";
export { DEFAULT_RETRY } from "./client/retry.js";
export { ANSWER_CLEANUP_TIMEOUT_MS } from "./client/answer.js";
export { API_VERSION_PATTERN, DEFAULT_API_VERSION, GRAPH_API_BASE_URL } from "../generated/api-version.js";
export { CALL_ACTIONS } from "../generated/operations.js";
export type { CallAction, RetryRule } from "../generated/operations.js";
export type * from "../generated/openapi.js";
