// One call's deadline (a request's, retries included, or a media download's): one timer for all its attempts,
// joined with the caller's signal. It is also a promise every await of the call races against, so that a fetch
// that ignores its signal, or one whose signal link was collected (nodejs/undici#4068), still ends on time.
// An abortable deadline also has an AbortController whose signal each fetch gets, so that the end closes the
// connection too; a request of the client may go without one (transport.ts says when and why). A plain object and
// functions that take it: no closure or method is made per call.
const noop = () => {};
const TIMED_OUT = Symbol("timed out");

export interface Deadline {
  readonly timeoutMs: number;
  /** The signal every fetch of the call gets: the deadline's own when abortable, else the caller's (if any). */
  readonly signal: AbortSignal | undefined;
  /** Rejects with `reason` when the call ends early. */
  readonly ended: Promise<never>;
  /** Why the call ended early (the caller's reason, or the timeout error); undefined while it runs. */
  reason?: unknown;
  timedOut: boolean;
  /** The fetch of the attempt in flight, whose answer an early end discards. */
  fetching?: Promise<Response> | undefined;
  /** The body being read, which an early end cancels. */
  reading?: ReadableStreamDefaultReader<Uint8Array> | undefined;
}

/** A deadline that aborts its signal when it ends (media downloads have one). */
export type AbortableDeadline = Deadline & { readonly signal: AbortSignal };

interface State extends Deadline {
  readonly controller: AbortController | undefined;
  reject: (reason: unknown) => void;
  timer?: ReturnType<typeof setTimeout>;
  sleeping?: ReturnType<typeof setTimeout>;
  readonly caller: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
  /** Makes the error a timeout rejects with, when it happens (e.g. naming the attempt). */
  readonly timeoutError: () => unknown;
}

export function startDeadline(timeoutMs: number, caller: AbortSignal | undefined, timeoutError: () => unknown): AbortableDeadline;
export function startDeadline(timeoutMs: number, caller: AbortSignal | undefined, timeoutError: () => unknown, abortable: boolean): Deadline;
export function startDeadline(timeoutMs: number, caller: AbortSignal | undefined, timeoutError: () => unknown, abortable = true): Deadline {
  const controller = abortable ? new AbortController() : undefined;
  let reject!: (reason: unknown) => void;
  const ended = new Promise<never>((_, rejectEnded) => (reject = rejectEnded));
  ended.catch(noop);
  // Fields that start undefined are left out: the object is smaller in the bundle, and in memory until set.
  const state: State = {
    timeoutMs,
    signal: controller ? controller.signal : caller,
    ended,
    timedOut: false,
    controller,
    reject,
    caller,
    onAbort: caller && (() => end(state, caller.reason)),
    timeoutError,
  };
  state.timer = setTimeout(end, timeoutMs, state, TIMED_OUT);
  if (caller?.aborted) end(state, caller.reason);
  else caller?.addEventListener("abort", state.onAbort!, { once: true });
  return state;
}

function end(state: State, reason: unknown): void {
  if (state.reason !== undefined) return;
  // The caller's reason, or the timeout error the call rejects with: one object, made once.
  state.timedOut = reason === TIMED_OUT;
  state.reason = state.timedOut ? state.timeoutError() : reason;
  state.controller?.abort(state.reason);
  state.reading?.cancel().catch(noop);
  state.fetching?.then(discard, noop);
  state.reject(state.reason);
}

/** `promise`, or the deadline's reason if the call ends first (or has ended). */
export function within<T>(deadline: Deadline, promise: T | Promise<T>): Promise<T> {
  return Promise.race([deadline.ended, promise]);
}

/** Waits `ms`, or until the call ends. */
export function pause(deadline: Deadline, ms: number): Promise<unknown> {
  return within(deadline, new Promise((resolve) => ((deadline as State).sleeping = setTimeout(resolve, ms))));
}

/** The call is over: no timer or listener is left behind. */
export function dispose(deadline: Deadline): void {
  const state = deadline as State;
  clearTimeout(state.timer);
  clearTimeout(state.sleeping);
  if (state.onAbort) state.caller!.removeEventListener("abort", state.onAbort);
}

/** Lets go of an answer that is not read, so that its connection can be reused. */
export function discard(response: Response): void {
  response.body?.cancel().catch(noop);
}
