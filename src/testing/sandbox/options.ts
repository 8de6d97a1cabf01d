// What startSandbox takes, with the defaults of a real number where Meta documents them.
import { WhatsAppValidationError } from "../../errors.js";
import { DEFAULT_API_VERSION } from "../../../generated/api-version.js";

/** How a simulated user behaves. Users not listed behave as DEFAULT_USER. */
export interface SandboxUser {
  /** The profile name in `contacts[]` of the webhooks. */
  readonly name?: string | undefined;
  /** The user's answer to a call-permission request: a temporary or permanent grant, a refusal, or none. */
  readonly permissionReply?: "accept" | "accept-permanent" | "reject" | "ignore" | undefined;
  /** Permission the user has already granted before the scene starts. Default: none. */
  readonly permission?: "temporary" | "permanent" | undefined;
  /** What the user does when the business calls: picks up, declines, or lets it ring out. */
  readonly pickUp?: "accept" | "decline" | "ignore" | undefined;
  /** How long the phone rings before the user picks up or declines. Default 300 ms. */
  readonly pickUpDelayMs?: number | undefined;
  /** Connected business-initiated calls this user already had today (for 138012). Default 0. */
  readonly connectedCallsToday?: number | undefined;
  /** What the transcript of a transcribed call says the user spoke. Default: nothing (an empty transcript). */
  readonly says?: string | undefined;
}

export const DEFAULT_USER: Required<Omit<SandboxUser, "name" | "permission" | "says">> = {
  permissionReply: "accept",
  pickUp: "accept",
  pickUpDelayMs: 300,
  connectedCallsToday: 0,
};

export interface SandboxOptions {
  /** Where the webhooks go (your bot's endpoint). */
  readonly webhookUrl: string;
  /** Every webhook is signed with it (X-Hub-Signature-256). */
  readonly appSecret: string;
  /** The bearer token the Graph endpoints require. Default "sandbox-access-token". */
  readonly accessToken?: string | undefined;
  /** Port on 127.0.0.1; default 0, a free one. */
  readonly port?: number | undefined;
  /** The business number's id (path segment) and number. */
  readonly phoneNumberId?: string | undefined;
  readonly displayPhoneNumber?: string | undefined;
  /** The WhatsApp Business Account id of `entry[].id`. */
  readonly wabaId?: string | undefined;
  /**
   * Real WebRTC media with the optional peer dependency werift: `true` requires it, `false` uses SDPs made up in
   * Meta's format and no media, `"auto"` (default) uses it when it is installed.
   */
  readonly media?: boolean | "auto" | undefined;
  /** How long a call rings before it ends FAILED unanswered (Meta: about 30 to 60 s). Default 45 000. */
  readonly ringingTimeoutMs?: number | undefined;
  /** How long after the answer the user waits for the bot's first RTP packet before ending with 138021 (Meta: 20 s). */
  readonly mediaTimeoutMs?: number | undefined;
  /** How long the user's client bears silence from the bot mid-call before it ends the call with 138021 (Meta: 30 s). */
  readonly silenceTimeoutMs?: number | undefined;
  /** Retries of a failed webhook delivery, and the delay before the first (doubled each time). Default 3 and 250 ms. */
  readonly webhookRetries?: number | undefined;
  readonly webhookRetryDelayMs?: number | undefined;
  /** How long a webhook request may take before it counts as failed (Meta: about 20 s). */
  readonly webhookTimeoutMs?: number | undefined;
  /** Connected business-initiated calls allowed per user and 24 hours (138012). Default 100. */
  readonly businessInitiatedCallLimit?: number | undefined;
  /**
   * How long after a call that asked for a recording or a transcript ends its `call_recording_available` /
   * `call_transcription_available` webhook is sent (Meta: typically under a minute). Default 1000.
   */
  readonly recordingDelayMs?: number | undefined;
  /** How long a media download URL works (Meta: 5 minutes); then `GET /{media-id}` gives a fresh one. Default 300 000. */
  readonly mediaUrlTtlMs?: number | undefined;
  /** The users of the scene, by phone number. */
  readonly users?: Readonly<Record<string, SandboxUser>> | undefined;
  /** Told about every step: each request, each webhook attempt, media and call changes. Secrets are never in it. */
  readonly onEvent?: ((event: import("./events.js").SandboxEvent) => void) | undefined;
}

export interface ResolvedOptions extends Required<Omit<SandboxOptions, "users" | "onEvent" | "port" | "media">> {
  readonly port: number;
  readonly media: boolean | "auto";
  readonly users: Readonly<Record<string, SandboxUser>>;
  readonly onEvent: ((event: import("./events.js").SandboxEvent) => void) | undefined;
  readonly apiVersion: string;
}

/** What the sandbox takes as `webhookUrl` (the CLI's `--webhook-url` too). */
export const isWebhookUrl = (url: unknown): url is string => typeof url === "string" && /^https?:\/\//.test(url);

export function resolveOptions(options: SandboxOptions): ResolvedOptions {
  if (!isWebhookUrl(options?.webhookUrl)) {
    throw new WhatsAppValidationError("startSandbox: webhookUrl must be an http(s) URL (your bot's webhook endpoint)", { path: "webhookUrl" });
  }
  if (typeof options.appSecret !== "string" || options.appSecret === "") {
    throw new WhatsAppValidationError("startSandbox: appSecret must be a non-empty string (webhooks are signed with it)", { path: "appSecret" });
  }
  return {
    webhookUrl: options.webhookUrl,
    appSecret: options.appSecret,
    accessToken: options.accessToken ?? "sandbox-access-token",
    port: options.port ?? 0,
    phoneNumberId: options.phoneNumberId ?? "106540352242922",
    displayPhoneNumber: options.displayPhoneNumber ?? "15550199001",
    wabaId: options.wabaId ?? "104996122399160",
    media: options.media ?? "auto",
    ringingTimeoutMs: options.ringingTimeoutMs ?? 45_000,
    mediaTimeoutMs: options.mediaTimeoutMs ?? 20_000,
    silenceTimeoutMs: options.silenceTimeoutMs ?? 30_000,
    webhookRetries: options.webhookRetries ?? 3,
    webhookRetryDelayMs: options.webhookRetryDelayMs ?? 250,
    webhookTimeoutMs: options.webhookTimeoutMs ?? 20_000,
    businessInitiatedCallLimit: options.businessInitiatedCallLimit ?? 100,
    recordingDelayMs: options.recordingDelayMs ?? 1000,
    mediaUrlTtlMs: options.mediaUrlTtlMs ?? 300_000,
    users: options.users ?? {},
    onEvent: options.onEvent,
    apiVersion: DEFAULT_API_VERSION,
  };
}
