// When a failed attempt is sent again, and after how long.
import type { WhatsAppApiError, WhatsAppNetworkError } from "./errors.js";

export interface RetryOptions {
  /** Retries after the first attempt. Default 2. */
  retries?: number | undefined;
  /** Base of the exponential backoff. Default 250 ms. */
  minDelayMs?: number | undefined;
  /** Cap of one backoff delay. Default 4000 ms. A longer `Retry-After` is honoured if the deadline allows. */
  maxDelayMs?: number | undefined;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { retries: 2, minDelayMs: 250, maxDelayMs: 4_000 };

/** What `onRetry` is told before each retry. */
export interface RetryInfo {
  /** The attempt that failed (1 for the first). */
  attempt: number;
  /** How long the client waits before the next attempt. */
  delayMs: number;
  /** The answer or network failure that caused the retry. */
  cause: WhatsAppApiError | WhatsAppNetworkError;
  action: string | undefined;
  callId: string | undefined;
}

/** Backoff with full jitter, or the server's Retry-After; false when no attempt is left or the deadline is too near. */
export function retryDelay(
  retry: Required<RetryOptions>,
  attempt: number,
  retryAfter: number | undefined,
  remainingMs: number,
): number | false {
  if (attempt > retry.retries) return false;
  const ceiling = Math.min(retry.maxDelayMs, retry.minDelayMs * 2 ** (attempt - 1));
  const delayMs = retryAfter ?? Math.round(Math.random() * ceiling);
  // A retry that could not get an answer before the deadline only turns a real answer into a timeout.
  return delayMs >= remainingMs - 1 ? false : delayMs;
}

/** `Retry-After` in milliseconds, from seconds or an HTTP date; undefined when absent or unreadable (e.g. `-1`). */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // An HTTP date names its day and month in letters; Date.parse would read "-1" as the year 2001.
  if (!/^[A-Za-z]{3}/.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
