const noop = () => {};
const TIMED_OUT = Symbol("timed out");

/**
 * One call's deadline (a request's, retries included, or a media download's): one timer and one AbortController
 * for all its attempts, joined with the caller's signal. It is also a promise every await of the call races
 * against, so that a fetch that ignores its signal, or one whose signal link was collected (nodejs/undici#4068),
 * still ends on time.
 */
export interface Deadline {
  readonly timeoutMs: number;
  /** The signal every fetch of the call gets. */
  readonly signal: AbortSignal;
  /** Rejects with `reason` when the call ends early. */
  readonly ended: Promise<never>;
  /** Why the call ended early (the caller's reason, or the timeout error); undefined while it runs. */
  reason: unknown;
  timedOut: boolean;
  /** The fetch of the attempt in flight, whose answer an early end discards. */
  fetching?: Promise<Response> | undefined;
  /** The body being read, which an early end cancels. */
  reading?: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** `promise`, or the deadline's reason if the call ends first (or has ended). */
  race<T>(promise: T | Promise<T>): Promise<T>;
  /** Waits `ms`, or until the call ends. */
  sleep(ms: number): Promise<unknown>;
  /** The call is over: no timer or listener is left behind. */
  dispose(): void;
}

/** `timeoutError` makes the error a timeout rejects with, when it happens (e.g. naming the attempt). */
export function startDeadline(timeoutMs: number, caller: AbortSignal | undefined, timeoutError: () => unknown): Deadline {
  const controller = new AbortController();
  let reject!: (reason: unknown) => void;
  const ended = new Promise<never>((_, rejectEnded) => (reject = rejectEnded));
  ended.catch(noop);
  let sleeping: ReturnType<typeof setTimeout> | undefined;
  const end = (reason: unknown) => {
    if (deadline.reason !== undefined) return;
    // The caller's reason, or the timeout error the call rejects with: one object, made once.
    deadline.timedOut = reason === TIMED_OUT;
    deadline.reason = deadline.timedOut ? timeoutError() : reason;
    controller.abort(deadline.reason);
    deadline.reading?.cancel().catch(noop);
    deadline.fetching?.then(discard, noop);
    reject(deadline.reason);
  };
  const onAbort = () => end(caller!.reason);
  const timer = setTimeout(end, timeoutMs, TIMED_OUT);
  const deadline: Deadline = {
    timeoutMs,
    signal: controller.signal,
    ended,
    reason: undefined,
    timedOut: false,
    race: (promise) => Promise.race([ended, promise]),
    sleep: (ms) => Promise.race([ended, new Promise((resolve) => (sleeping = setTimeout(resolve, ms)))]),
    dispose() {
      clearTimeout(timer);
      clearTimeout(sleeping);
      caller?.removeEventListener("abort", onAbort);
    },
  };
  if (caller?.aborted) end(caller.reason);
  else caller?.addEventListener("abort", onAbort, { once: true });
  return deadline;
}

/** Lets go of an answer that is not read, so that its connection can be reused. */
export function discard(response: Response): void {
  response.body?.cancel().catch(noop);
}
