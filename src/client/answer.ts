// answer(): pre_accept, the caller's hook, accept, under one deadline, and a terminate when it fails half-way.
import type { SuccessResponse } from "../../generated/openapi.js";
import { WhatsAppError, WhatsAppValidationError, type AnswerStep } from "../errors.js";
import { WhatsAppApiError, WhatsAppTimeoutError, WhatsAppTokenError } from "./errors.js";
import type { Log } from "../logging.js";
import type { AcceptOptions, AnswerOptions, CallingClient } from "../client.js";

/**
 * The deadline of the terminate that ends the call after a failed answer(): its own, since answer()'s may be
 * spent (a timeout is the common failure), and short, so that answer() settles within its `timeoutMs` plus this.
 */
export const ANSWER_CLEANUP_TIMEOUT_MS = 2_000;

export async function answerCall(
  client: Pick<CallingClient, "preAccept" | "accept" | "terminate">,
  log: Log | undefined,
  budgetMs: number,
  callId: string,
  sdpAnswer: string,
  options: AnswerOptions,
): Promise<SuccessResponse> {
  const { afterPreAccept, ...acceptOptions } = options;
  const { signal, to } = options;
  const deadlineAt = Date.now() + budgetMs;
  const remaining = () => Math.max(1, deadlineAt - Date.now());
  const endCall = async (step: AnswerStep): Promise<boolean> => {
    try {
      // Not the caller's signal: an aborted or late answer must still end the call.
      await client.terminate(callId, { timeoutMs: Math.min(ANSWER_CLEANUP_TIMEOUT_MS, budgetMs) });
      return true;
    } catch (cleanupError) {
      log?.("warn", `whatsapp-calling: answer failed at ${step} and the follow-up terminate failed too`, {
        action: "terminate",
        callId,
        error: cleanupError instanceof Error ? cleanupError.name : typeof cleanupError,
      });
      return false;
    }
  };
  try {
    await client.preAccept(callId, sdpAnswer, { ...(to === undefined ? {} : { to }), ...(signal ? { signal } : {}), timeoutMs: budgetMs });
  } catch (error) {
    // A refusal (4xx, 3xx) means nothing happened; after a timeout, a lost connection, a 5xx or an abort, Meta
    // may have pre-accepted the call, so it is ended rather than left ringing.
    const refused =
      (error instanceof WhatsAppApiError && error.status < 500) || error instanceof WhatsAppValidationError || error instanceof WhatsAppTokenError;
    throw markStep(error, "pre_accept", refused ? undefined : await endCall("pre_accept"));
  }
  let step: AnswerStep = "after_pre_accept";
  try {
    if (afterPreAccept) await runHook(afterPreAccept, callId, remaining(), budgetMs, signal);
    step = "accept";
    return await client.accept(callId, sdpAnswer, { ...acceptOptions, timeoutMs: remaining() } satisfies AcceptOptions);
  } catch (error) {
    throw markStep(error, step, await endCall(step));
  }
}

/**
 * Runs the hook between pre_accept and accept under answer()'s deadline. Its failure becomes a WhatsAppError
 * (the hook's own error is the `cause`); an abort by the caller keeps the caller's reason.
 */
async function runHook(
  hook: NonNullable<AnswerOptions["afterPreAccept"]>,
  callId: string,
  remainingMs: number,
  budgetMs: number,
  callerSignal: AbortSignal | undefined,
): Promise<void> {
  const controller = new AbortController();
  let stop!: (reason: unknown) => void;
  const stopped = new Promise<never>((_, reject) => (stop = reject));
  const abort = (reason: unknown) => {
    controller.abort(reason);
    stop(reason);
  };
  const timer = setTimeout(() => abort(new WhatsAppTimeoutError({ timeoutMs: budgetMs, action: "answer", callId })), remainingMs);
  const onCallerAbort = () => abort(callerSignal?.reason);
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
  try {
    await Promise.race([Promise.resolve().then(() => hook({ callId, signal: controller.signal })), stopped]);
  } catch (error) {
    if (controller.signal.aborted && error === controller.signal.reason) throw error;
    throw new WhatsAppError(`the afterPreAccept hook failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
    callerSignal?.removeEventListener("abort", onCallerAbort);
  }
}

function markStep(error: unknown, step: AnswerStep, terminated: boolean | undefined): unknown {
  if (error instanceof WhatsAppError) {
    error.step = step;
    if (terminated !== undefined) error.callTerminated = terminated;
    error.message = `answer() failed at ${step}: ${error.message}`;
  } else if (error !== null && typeof error === "object") {
    // The caller's own abort reason is passed on as it is, with the step added.
    Object.defineProperty(error, "step", { value: step, enumerable: false, configurable: true });
    if (terminated !== undefined) Object.defineProperty(error, "callTerminated", { value: terminated, enumerable: false, configurable: true });
  }
  return error;
}
