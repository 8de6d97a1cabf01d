const noop = () => {};
const TIMED_OUT = Symbol("timed out");

/**
 * One call's deadline (a request's, retries included, or a media download's): one timer and one AbortController for all its attempts, joined with the caller's signal.
 * It is also a promise every await of the call races against, so that a fetch that ignores its signal, or one
 * whose signal link was collected (nodejs/undici#4068), still ends on time. Being the abort listener itself
 * (`handleEvent`) and the timer's argument, it makes no closure per call.
 */
export class Deadline {
  /** Why the call ended early (the caller's reason, or the timeout error); undefined while it runs. */
  reason: unknown;
  timedOut = false;
  /** The fetch of the attempt in flight, whose answer an early end discards. */
  fetching: Promise<Response> | undefined;
  /** The body being read, which an early end cancels. */
  reading: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** Rejects with `reason` when the call ends early. */
  readonly ended: Promise<never>;
  readonly #controller = new AbortController();
  #reject!: (reason: unknown) => void;
  readonly #timer: ReturnType<typeof setTimeout>;
  #sleeping: ReturnType<typeof setTimeout> | undefined;
  readonly #caller: AbortSignal | undefined;
  readonly #timeoutError: () => unknown;

  /** `timeoutError` makes the error a timeout rejects with, when it happens (e.g. naming the attempt). */
  constructor(
    readonly timeoutMs: number,
    caller: AbortSignal | undefined,
    timeoutError: () => unknown,
  ) {
    this.ended = new Promise<never>((_, reject) => (this.#reject = reject));
    this.ended.catch(noop);
    this.#timeoutError = timeoutError;
    this.#timer = setTimeout(end, timeoutMs, this, TIMED_OUT);
    this.#caller = caller;
    if (caller?.aborted) this.end(caller.reason);
    else caller?.addEventListener("abort", this, { once: true });
  }

  /** The signal every fetch of the call gets. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    end(this, this.#caller!.reason);
  }

  /** `promise`, or the deadline's reason if the call ends first (or has ended). */
  race<T>(promise: T | Promise<T>): Promise<T> {
    return Promise.race([this.ended, promise]);
  }

  /** Waits `ms`, or until the call ends. */
  sleep(ms: number): Promise<unknown> {
    return this.race(new Promise((resolve) => (this.#sleeping = setTimeout(resolve, ms))));
  }

  end(reason: unknown): void {
    if (this.reason !== undefined) return;
    // The caller's reason, or the timeout error the call rejects with: one object, made once.
    this.timedOut = reason === TIMED_OUT;
    this.reason = this.timedOut ? this.#timeoutError() : reason;
    this.#controller.abort(this.reason);
    this.reading?.cancel().catch(noop);
    this.fetching?.then(discard, noop);
    this.#reject(this.reason);
  }

  /** The call is over: no timer or listener is left behind. */
  dispose(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#sleeping);
    this.#caller?.removeEventListener("abort", this);
  }
}

function end(deadline: Deadline, reason: unknown) {
  deadline.end(reason);
}

/** Lets go of an answer that is not read, so that its connection can be reused. */
export function discard(response: Response): void {
  response.body?.cancel().catch(noop);
}
