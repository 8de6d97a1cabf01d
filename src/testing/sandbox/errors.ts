// The sandbox's own error, importable without loading the sandbox (web-standard, like the rest of /testing).
import { WhatsAppError } from "../../errors.js";

/** The package real media needs, and the version the sandbox is tested with. */
export const MEDIA_PACKAGE = "werift";
export const MEDIA_PACKAGE_VERSION = "0.25.2";

/**
 * `waitForCall`, `waitForMedia` or `waitForDelivery` gave up: the call did not get there, or the webhook was not
 * sent, in time. The message says what the sandbox saw instead (the call's state, the webhooks that could not be
 * delivered or were sent, the packets so far). `callId` is empty for a delivery wait that named no call.
 */
export class SandboxTimeoutError extends WhatsAppError {
  static override name = "SandboxTimeoutError";
  readonly callId: string;
  /** `accepted`, `ended`, …, `media`, or `delivery <event>`. */
  readonly waitingFor: string;
  readonly timeoutMs: number;
  /** `ended`: the call ended before it got there, so the wait stopped early. */
  constructor(init: { callId: string; waitingFor: string; timeoutMs: number; reason: string; ended?: boolean; message?: string }) {
    super(init.message ?? `call ${init.callId} ${init.ended ? `ended before it reached ${init.waitingFor}` : `did not reach ${init.waitingFor} within ${init.timeoutMs} ms`}: ${init.reason}`);
    this.callId = init.callId;
    this.waitingFor = init.waitingFor;
    this.timeoutMs = init.timeoutMs;
  }
}

/** A sandbox method was called after `close()`, or a wait was still pending when it was called. */
export class SandboxClosedError extends WhatsAppError {
  static override name = "SandboxClosedError";
  /** The method: `simulateInboundCall`, `waitForCall`, … */
  readonly method: string;
  constructor(method: string, detail = "") {
    super(`${method}: the sandbox is closed${detail}`);
    this.method = method;
  }
}

/** Real media was asked for (`media: true`), and the optional WebRTC package cannot be loaded. */
export class SandboxMediaUnavailableError extends WhatsAppError {
  static override name = "SandboxMediaUnavailableError";
  /** The package to install. */
  readonly packageName = MEDIA_PACKAGE;
  constructor(cause: unknown) {
    super(
      `The sandbox's real media needs the optional peer dependency "${MEDIA_PACKAGE}", which could not be loaded. ` +
        `Install it with: npm install --save-dev ${MEDIA_PACKAGE}@${MEDIA_PACKAGE_VERSION} (or start the sandbox with media: false).`,
      { cause },
    );
  }
}
