export { verifySignature, SIGNATURE_HEADER } from "./signature.js";
export { verifySubscription, type SubscriptionParams } from "./subscription.js";
export {
  parseWebhook,
  WEBHOOK_EVENT_TYPES,
  type WebhookEvent,
  type WebhookEventType,
  type WebhookEventOf,
  type WebhookEventContext,
  type CallConnectWebhookEvent,
  type CallTerminateWebhookEvent,
  type CallStatusWebhookEvent,
  type CallRecordingAvailableWebhookEvent,
  type CallTranscriptionAvailableWebhookEvent,
  type CallCreatedWebhookEvent,
  type CallVoicemailWebhookEvent,
  type CallPermissionReplyWebhookEvent,
  type AccountSettingsUpdateWebhookEvent,
  type AccountUpdateWebhookEvent,
  type UnknownWebhookEvent,
  type InvalidWebhookEvent,
  type ExpectedWebhookEventType,
  type ParseWebhookOptions,
} from "./parse.js";
export {
  createWebhookHandler,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_IN_FLIGHT_WAIT_MS,
  DEFAULT_CLAIM_TTL_MS,
  DEFAULT_ON_ERROR_TIMEOUT_MS,
  type WebhookHandlerOptions,
  type WebhookEventHandlers,
  type WebhookRequestHandler,
} from "./handler.js";
export {
  createMemoryDedupeStore,
  webhookDedupeKey,
  DEFAULT_DEDUPE_MAX_KEYS,
  DEFAULT_DEDUPE_TTL_MS,
  WebhookDedupeStoreError,
  type WebhookDedupeStore,
  type LegacyWebhookDedupeStore,
  type DedupeClaim,
  type MemoryDedupeStore,
  type MemoryDedupeStoreOptions,
} from "./dedupe.js";
export { WebhookVerificationError, WebhookPayloadError } from "./errors.js";
export type { RawBody } from "./bytes.js";
export type { Logger } from "../logging.js";
