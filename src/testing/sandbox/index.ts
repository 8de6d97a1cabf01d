/// <reference types="node" />
// startSandbox: a local stand-in for the WhatsApp Cloud API Calling feature and for the WhatsApp user on the
// other end, so that a bot can be developed and tested on one machine. Loaded by `whatsapp-calling/testing`
// only when a sandbox is started (node:http and, for media, werift stay out of the signing helpers).
import { WhatsAppValidationError } from "../../errors.js";
import type { CallState, SandboxCall } from "./calls.js";
import { Deliverer, undelivered, type Delivery } from "./delivery.js";
import { SandboxClosedError, SandboxTimeoutError } from "./errors.js";
import { SandboxEngine, type InboundCallOptions } from "./engine.js";
import type { SandboxEvent } from "./events.js";
import { loadWerift } from "./media.js";
import type { MediaStats } from "./media-stats.js";
import { resolveOptions, type SandboxOptions } from "./options.js";
import { answerWithoutMedia, offerWithoutMedia } from "./sdp.js";
import { listen } from "./server.js";

export type { SandboxCall, CallState, CallEnd, CallDirection } from "./calls.js";
export type { Delivery, DeliveryAttempt } from "./delivery.js";
export type { InboundCallOptions } from "./engine.js";
export type { SandboxEvent } from "./events.js";
export { describeEvent } from "./events.js";
export type { MediaStats } from "./media-stats.js";
export { SandboxMediaUnavailableError } from "./errors.js";
export type { SandboxOptions, SandboxUser } from "./options.js";

export interface Sandbox {
  /** `http://127.0.0.1:<port>`: pass it as `baseUrl` to createCallingClient. */
  readonly url: string;
  /** The bearer token the sandbox requires. */
  readonly accessToken: string;
  readonly phoneNumberId: string;
  /** The business number the calls are to and from. */
  readonly displayPhoneNumber: string;
  /** Whether the user has a real WebRTC peer. */
  readonly media: boolean;
  /** A user calls the business: a signed connect webhook with the user's SDP offer. */
  simulateInboundCall(options: InboundCallOptions): Promise<{ callId: string }>;
  /** The user hangs up: a signed terminate webhook. */
  hangUp(callId: string): Promise<void>;
  /** The user's client gives up waiting for media: terminate FAILED with error 138021. */
  simulateMediaTimeout(callId: string): Promise<void>;
  /** What the user's WebRTC peer sent and received on this call. */
  mediaStats(callId: string): Promise<MediaStats>;
  /** The call as the sandbox sees it (a copy), or undefined. */
  call(callId: string): SandboxCall | undefined;
  /**
   * Resolves when the call is in `state` or has been (`call.states`). Rejects with SandboxTimeoutError after
   * `timeoutMs` (default 15 s), or as soon as the call ends without having been in `state`,
   * saying where the call is and which of its webhooks could not be delivered; at once with a
   * WhatsAppValidationError for a call id the sandbox does not know.
   */
  waitForCall(callId: string, state: CallState, options?: { timeoutMs?: number }): Promise<SandboxCall>;
  /**
   * Resolves with the call's media stats once the user's peer has received `packets` RTP packets from the bot
   * (default 1): connected and hearing it. Rejects with SandboxTimeoutError after `timeoutMs` (default 15 s) or
   * when the call ends first; with a WhatsAppValidationError on a sandbox without media.
   */
  waitForMedia(callId: string, options?: { packets?: number; timeoutMs?: number }): Promise<MediaStats>;
  /**
   * An SDP answer to the user's `offer` (the connect webhook's `session.sdp`) for a bot that has no WebRTC stack,
   * to send with `preAccept` and `accept`: the offer's Opus and telephone-event, made-up ICE credentials and
   * fingerprint, `a=setup:active`, no `a=ice-lite`. It passes every check the sandbox makes of an answer, so the
   * signalling and webhooks of a call can be tested with `media: false` (with media, the user's peer has nothing
   * to connect to, as with a bot that never connects). A WhatsAppValidationError when `offer` is not an offer.
   */
  answerWithoutMedia(offer: string): string;
  /** The same for a business-initiated call: an SDP offer (`a=setup:actpass`) to send with `connect`. */
  offerWithoutMedia(): string;
  /** Every webhook sent so far, with its exact bytes, signature and attempts. */
  readonly deliveries: readonly Delivery[];
  /** Resolves when every webhook sent so far is delivered or has failed for good. */
  deliveriesSettled(): Promise<void>;
  /**
   * Resolves with the first webhook matching `callId` and `event` (e.g. `call_recording_available`, `voicemail`,
   * `call_permission_reply`, `status ACCEPTED`), sent already or later, once it is delivered or has failed for
   * good: for the webhooks the sandbox sends after a delay, which `deliveriesSettled()` cannot know of yet.
   * `after` (a delivery's `id`) matches only webhooks sent after that one: the second permission reply, say,
   * which has no call id to tell it from the first. Rejects with SandboxTimeoutError after `timeoutMs` (default
   * 15 s); at once with a WhatsAppValidationError for a call id the sandbox does not know, or a match with
   * neither `callId` nor `event`.
   */
  waitForDelivery(match: { callId?: string; event?: string; after?: number }, options?: { timeoutMs?: number }): Promise<Delivery>;
  /**
   * Sends a delivery again on purpose, byte for byte (Meta delivers at least once): the one given, or the last
   * one matching `callId` and `event`, or the last one.
   */
  redeliver(which?: Delivery | { callId?: string; event?: string }): Delivery;
  /** The transcript so far. */
  readonly events: readonly SandboxEvent[];
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const resolved = resolveOptions(options);
  const events: SandboxEvent[] = [];
  const listeners = new Set<(event: SandboxEvent) => void>();
  const emit = (event: SandboxEvent) => {
    events.push(event);
    for (const listener of listeners) listener(event);
    resolved.onEvent?.(event);
  };

  let media = false;
  if (resolved.media === true) {
    await loadWerift();
    media = true;
  } else if (resolved.media === "auto") {
    media = await loadWerift().then(
      () => true,
      () => false,
    );
  }

  const deliverer = new Deliverer(
    {
      webhookUrl: resolved.webhookUrl,
      appSecret: resolved.appSecret,
      retries: resolved.webhookRetries,
      retryDelayMs: resolved.webhookRetryDelayMs,
      timeoutMs: resolved.webhookTimeoutMs,
    },
    (delivery, attempt, final) =>
      emit({
        kind: "webhook",
        deliveryId: delivery.id,
        event: delivery.event,
        ...(delivery.callId === undefined ? {} : { callId: delivery.callId }),
        attempt: delivery.attempts.length,
        ...(attempt.status === undefined ? {} : { status: attempt.status }),
        ...(attempt.error === undefined ? {} : { error: attempt.error }),
        final,
        ...(delivery.redeliveryOf === undefined ? {} : { redeliveryOf: delivery.redeliveryOf }),
      }),
  );
  const engine = new SandboxEngine(resolved, deliverer, media, emit);
  const { server, url } = await listen({
    port: resolved.port,
    accessToken: resolved.accessToken,
    phoneNumberId: resolved.phoneNumberId,
    engine,
    emit,
  });
  engine.url = url;
  emit({ kind: "info", detail: `listening on ${url} (${media ? "real WebRTC media" : "no media"})` });

  const copy = (call: SandboxCall): SandboxCall => ({ ...call, states: [...call.states], warnings: [...call.warnings] });
  let closed: Promise<void> | undefined;
  // What close() rejects: the waits still pending.
  const pendingWaits = new Map<(error: SandboxClosedError) => void, string>();
  /** `run`, unless the sandbox is closed: then a SandboxClosedError, for what would otherwise act on a dead server. */
  const open = <T>(method: string, run: () => T): T => {
    if (closed) throw new SandboxClosedError(method);
    return run();
  };
  const openAsync = <T>(method: string, run: () => Promise<T>): Promise<T> => (closed ? Promise.reject(new SandboxClosedError(method)) : run());
  /**
   * Resolves with what `found()` gives once it gives something, looked for now and after each sandbox event (a
   * call's state changes and each delivery attempt are events). Rejects with what `hopeless()` gives once it gives
   * something (the call ended elsewhere), with `timedOut()` after `timeoutMs`, and with a SandboxClosedError when
   * the sandbox closes first.
   */
  const waitFor = <T>(method: string, found: () => T | undefined, timedOut: () => Error, timeoutMs: number, hopeless: () => Error | undefined = () => undefined): Promise<T> => {
    if (closed) return Promise.reject(new SandboxClosedError(method));
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      return Promise.reject(new WhatsAppValidationError(`${method}: timeoutMs must be a number of milliseconds, not ${timeoutMs}`, { path: "timeoutMs" }));
    }
    return new Promise((resolve, reject) => {
      const finish = (settle: () => void) => {
        listeners.delete(check);
        pendingWaits.delete(stop);
        clearTimeout(timer);
        settle();
      };
      const check = () => {
        const value = found();
        if (value !== undefined) return finish(() => resolve(value));
        const error = hopeless();
        if (error) finish(() => reject(error));
      };
      const stop = (error: SandboxClosedError) => finish(() => reject(error));
      const timer = setTimeout(() => finish(() => reject(timedOut())), timeoutMs);
      listeners.add(check);
      pendingWaits.set(stop, method);
      check();
    });
  };

  return {
    url,
    accessToken: resolved.accessToken,
    phoneNumberId: resolved.phoneNumberId,
    displayPhoneNumber: resolved.displayPhoneNumber,
    media,
    simulateInboundCall: (inbound) => openAsync("simulateInboundCall", () => engine.simulateInboundCall(inbound)),
    hangUp: (callId) => openAsync("hangUp", () => engine.hangUp(callId)),
    simulateMediaTimeout: (callId) => openAsync("simulateMediaTimeout", () => engine.simulateMediaTimeout(callId)),
    mediaStats: async (callId) => engine.mediaStats(callId),
    call: (callId) => {
      const call = engine.calls.get(callId);
      return call && copy(call);
    },
    waitForCall(callId, state, { timeoutMs = 15_000 } = {}) {
      // Every call id is known from the moment it is handed out (simulateInboundCall, connect's answer), so an
      // unknown one is a mistake to say at once, not after the whole timeout.
      if (!closed && !engine.calls.has(callId)) return Promise.reject(new WhatsAppValidationError(`waitForCall: the sandbox has no call ${callId}`, { path: "callId" }));
      const reason = () => {
        const call = engine.calls.get(callId);
        const where = call?.end ? `it ended ${call.end.status} (${call.end.reason})` : `it is ${call?.state ?? "unknown to the sandbox"}`;
        return `${where}${undelivered(deliverer.deliveries, callId)}`;
      };
      return waitFor(
        "waitForCall",
        () => {
          const call = engine.calls.get(callId);
          return call?.states.includes(state) ? copy(call) : undefined;
        },
        () => new SandboxTimeoutError({ callId, waitingFor: state, timeoutMs, reason: reason() }),
        timeoutMs,
        // An ended call gets nowhere else: a state it skipped is not waited for.
        () => (engine.calls.get(callId)?.state === "ended" ? new SandboxTimeoutError({ callId, waitingFor: state, timeoutMs, ended: true, reason: reason() }) : undefined),
      );
    },
    async waitForMedia(callId, { packets = 1, timeoutMs = 15_000 } = {}) {
      if (!media) throw new WhatsAppValidationError("waitForMedia: this sandbox has no media (media: false, or media: \"auto\" without werift)", { path: "media" });
      if (!Number.isInteger(packets) || packets < 1) throw new WhatsAppValidationError(`waitForMedia: packets must be a whole number of at least 1, not ${packets}`, { path: "packets" });
      if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new WhatsAppValidationError(`waitForMedia: timeoutMs must be a number of milliseconds, not ${timeoutMs}`, { path: "timeoutMs" });
      // The peer's counters are read, not announced: polled every 50 ms.
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (closed) throw new SandboxClosedError("waitForMedia", ` (call ${callId} was waiting for media)`);
        const stats = engine.mediaStats(callId);
        if (stats.received.packets >= packets) return stats;
        const ended = engine.calls.get(callId)?.state === "ended";
        if (ended || Date.now() >= deadline) {
          const heard = `the user's peer received ${stats.received.packets} of ${packets} packets${stats.connected ? "" : " and never connected"}`;
          throw new SandboxTimeoutError({ callId, waitingFor: "media", timeoutMs, ended, reason: `${heard}${undelivered(deliverer.deliveries, callId)}` });
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    answerWithoutMedia(offer) {
      const made = answerWithoutMedia(offer);
      if ("problem" in made) {
        throw new WhatsAppValidationError(`answerWithoutMedia: pass the user's SDP offer (the connect webhook's session.sdp); ${made.problem}`, { path: "offer" });
      }
      return made.answer;
    },
    offerWithoutMedia,
    deliveries: deliverer.deliveries,
    deliveriesSettled: () => deliverer.settled(),
    waitForDelivery(match, { timeoutMs = 15_000 } = {}) {
      const { callId, event, after = 0 } = match ?? {};
      if (callId === undefined && event === undefined) {
        return Promise.reject(new WhatsAppValidationError("waitForDelivery: pass a callId, an event or both", { path: "match" }));
      }
      if (!closed && callId !== undefined && !engine.calls.has(callId)) {
        return Promise.reject(new WhatsAppValidationError(`waitForDelivery: the sandbox has no call ${callId}`, { path: "callId" }));
      }
      if (!Number.isInteger(after)) {
        return Promise.reject(new WhatsAppValidationError(`waitForDelivery: after must be a delivery's id, not ${after}`, { path: "after" }));
      }
      const matches = (delivery: Delivery) =>
        delivery.id > after && (callId === undefined || delivery.callId === callId) && (event === undefined || delivery.event === event);
      const found = waitFor(
        "waitForDelivery",
        () => deliverer.deliveries.find(matches),
        () => {
          const sent = deliverer.deliveries.filter((delivery) => delivery.id > after && (callId === undefined || delivery.callId === callId));
          const what = `${event ?? "webhook"}${callId === undefined ? "" : ` for call ${callId}`}${after ? ` after delivery #${after}` : ""}`;
          const seen = sent.length === 0 ? "none was sent" : `sent so far: ${sent.map((delivery) => `${delivery.event} (${delivery.state})`).join(", ")}`;
          return new SandboxTimeoutError({ callId: callId ?? "", waitingFor: `delivery ${event ?? "webhook"}`, timeoutMs, reason: seen, message: `no ${what} was sent within ${timeoutMs} ms: ${seen}` });
        },
        timeoutMs,
      );
      return found.then((delivery) => delivery.done);
    },
    redeliver(which) {
      const list = deliverer.deliveries;
      const found =
        which && "body" in which
          ? which
          : [...list].reverse().find((delivery) => (!which?.callId || delivery.callId === which.callId) && (!which?.event || delivery.event === which.event));
      if (!found) throw new WhatsAppValidationError("redeliver: no delivery matches", { path: "which" });
      return open("redeliver", () => deliverer.redeliver(found));
    },
    events,
    close() {
      closed ??= (async () => {
        for (const [stop, method] of pendingWaits) stop(new SandboxClosedError(method, " (the wait was still pending)"));
        pendingWaits.clear();
        await engine.close();
        deliverer.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closed;
    },
  };
}
