// The checks of createCallingClient's options and of per-call timeouts: a wrong option fails at once, by name.
import { API_VERSION_PATTERN, DEFAULT_API_VERSION, GRAPH_API_BASE_URL, PHONE_NUMBER_ID_PATTERN } from "../../generated/api-version.js";
import { WhatsAppValidationError } from "../errors.js";
import { DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS } from "../transport.js";
import { defined } from "../defined.js";
import { DEFAULT_RETRY, type RetryOptions } from "./retry.js";
import type { CallingClientOptions } from "../client.js";
import type { AccessTokenSource } from "./token.js";

export interface CheckedOptions {
  phoneNumberId: string;
  accessToken: AccessTokenSource;
  apiVersion: string;
  /** `{baseUrl}/{apiVersion}`, without a trailing slash. */
  versionedBaseUrl: string;
  timeoutMs: number;
  retry: Required<RetryOptions> | false;
  maxResponseBytes: number;
  abortOnTimeout: boolean;
}

export function checkOptions(options: CallingClientOptions): CheckedOptions {
  if (options === null || typeof options !== "object") {
    throw new WhatsAppValidationError("createCallingClient needs an options object");
  }
  const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
  if (typeof apiVersion !== "string" || !API_VERSION_PATTERN.test(apiVersion)) {
    throw new WhatsAppValidationError(`apiVersion must look like "${DEFAULT_API_VERSION}" (${API_VERSION_PATTERN.source})`, {
      path: "apiVersion",
    });
  }
  const baseUrl = String(options.baseUrl ?? GRAPH_API_BASE_URL).replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new WhatsAppValidationError("baseUrl must be an absolute URL such as https://graph.facebook.com", { path: "baseUrl" });
  }
  // The URL is never quoted: a user:password in it is a secret. A query or fragment would come before the path
  // the client appends.
  if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.search || url.hash || /[?#]$/.test(baseUrl)) {
    throw new WhatsAppValidationError("baseUrl must be an http(s) URL without user:password@, query or fragment", { path: "baseUrl" });
  }
  const basePath = url.pathname;
  if (API_VERSION_PATTERN.test(basePath.split("/").pop() ?? "")) {
    throw new WhatsAppValidationError(
      "baseUrl must not end with a Graph API version: the client appends apiVersion itself (pass it as apiVersion)",
      { path: "baseUrl" },
    );
  }
  let retry: Required<RetryOptions> | false = false;
  if (options.retry !== false) {
    retry = { ...DEFAULT_RETRY, ...defined(options.retry) };
    for (const [key, value] of Object.entries(retry)) {
      if (!Number.isInteger(value) || value < 0) {
        throw new WhatsAppValidationError(`retry.${key} must be a whole number of at least 0`, { path: `retry.${key}` });
      }
    }
  }
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isSafeInteger(maxResponseBytes) || (maxResponseBytes as number) < 1) {
    throw new WhatsAppValidationError("maxResponseBytes must be a whole number of bytes of at least 1", { path: "maxResponseBytes" });
  }
  if (options.abortOnTimeout !== undefined && typeof options.abortOnTimeout !== "boolean") {
    throw new WhatsAppValidationError("abortOnTimeout must be true or false", { path: "abortOnTimeout" });
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
    versionedBaseUrl: `${baseUrl}/${apiVersion}`,
    timeoutMs: checkTimeout(options.timeoutMs, "timeoutMs") ?? DEFAULT_TIMEOUT_MS,
    retry,
    maxResponseBytes: maxResponseBytes as number,
    abortOnTimeout: options.abortOnTimeout === true,
  };
}

export function checkTimeout(timeoutMs: unknown, path: string): number | undefined {
  if (timeoutMs === undefined) return undefined;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new WhatsAppValidationError(`${path} must be a number of milliseconds above 0 and at most ${MAX_TIMEOUT_MS}`, { path });
  }
  return timeoutMs;
}

export function checkPhoneNumberId(phoneNumberId: unknown): string {
  if (typeof phoneNumberId !== "string" || !PHONE_NUMBER_ID_PATTERN.test(phoneNumberId)) {
    throw new WhatsAppValidationError(
      "phoneNumberId must be the numeric id of the business phone number (a string of digits, not the number itself)",
      { path: "phoneNumberId" },
    );
  }
  return phoneNumberId;
}

export function checkTokenSource(source: unknown): AccessTokenSource {
  if (typeof source === "function") return source as AccessTokenSource;
  if (typeof source === "string" && source.length > 0) return source;
  throw new WhatsAppValidationError("accessToken must be a non-empty string or a function that returns one", {
    path: "accessToken",
  });
}
