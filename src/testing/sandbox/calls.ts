// The state of each call and which business step may follow which (calling-api.md §3, §6): behaviour as data.
import type { CallAction } from "../../../generated/operations.js";

export type CallDirection = "USER_INITIATED" | "BUSINESS_INITIATED";

/**
 * `ringing`: the user's phone rings (user-initiated: the connect webhook went out; business-initiated: the
 * user has not picked up yet). `pre_accepted`: the business set up media before answering. `accepted`: the call
 * is live. `ended`: a terminate webhook went out (or is about to).
 */
export type CallState = "ringing" | "pre_accepted" | "accepted" | "ended";

/** How a call ended, as its terminate webhook reports it. */
export interface CallEnd {
  /** The terminate webhook's `status`. */
  readonly status: "COMPLETED" | "FAILED" | "REJECTED";
  /** Who or what ended it, for the transcript. */
  readonly reason: string;
  /** The error reported in the terminate webhook (e.g. 138021). */
  readonly errorCode?: number;
  readonly errorDetails?: string;
}

export interface SandboxCall {
  readonly id: string;
  readonly direction: CallDirection;
  /** The user's phone number (wa_id), and the profile name the webhooks' contacts give. */
  readonly user: string;
  readonly userName?: string;
  state: CallState;
  /** Every state the call has been in, in order (`ringing` first); a call skips those it never reached. */
  readonly states: CallState[];
  readonly createdAt: number;
  acceptedAt?: number;
  endedAt?: number;
  end?: CallEnd;
  /** The user's offer (user-initiated) or the business's offer (business-initiated). */
  offerSdp?: string;
  /** The business's answer (user-initiated, from pre_accept or accept) or the user's (business-initiated). */
  answerSdp?: string;
  bizOpaqueCallbackData?: string;
  deeplinkPayload?: string;
  ctaPayload?: string;
  /** Whether accept or connect asked for a recording / a transcript (`status: ENABLED`). */
  recorded?: boolean;
  transcribed?: boolean;
  /** SDP remarks that do not fail the call at signalling. */
  warnings: string[];
}

type BusinessStep = Exclude<CallAction, "connect">;

interface StepRule {
  readonly directions: readonly CallDirection[];
  /** States the step may be taken from; repeating a step with the same SDP is allowed (a retried request). */
  readonly from: readonly CallState[];
  readonly to: CallState;
}

const BOTH: readonly CallDirection[] = ["USER_INITIATED", "BUSINESS_INITIATED"];

export const STEP_RULES: Readonly<Record<BusinessStep, StepRule>> = {
  pre_accept: { directions: ["USER_INITIATED"], from: ["ringing", "pre_accepted"], to: "pre_accepted" },
  accept: { directions: ["USER_INITIATED"], from: ["ringing", "pre_accepted", "accepted"], to: "accepted" },
  reject: { directions: ["USER_INITIATED"], from: ["ringing", "pre_accepted"], to: "ended" },
  terminate: { directions: BOTH, from: ["ringing", "pre_accepted", "accepted"], to: "ended" },
};

/** Why `step` cannot be taken on `call` now (the `details` of a code 100 refusal), or undefined when it can. */
export function stepProblem(call: SandboxCall, step: BusinessStep): string | undefined {
  const rule = STEP_RULES[step];
  if (!rule.directions.includes(call.direction)) {
    return `${step} is not possible on a ${call.direction.toLowerCase().replace("_", "-")} call`;
  }
  if (!rule.from.includes(call.state)) {
    const where = call.state === "ended" ? `the call has already ended (${call.end?.reason ?? "ended"})` : `the call is ${call.state.replace("_", "-")}`;
    return `${step} is out of order: ${where}`;
  }
  return undefined;
}

/**
 * A phone number as the webhooks give it (`wa_id`): its digits, without the leading `+` and the separators
 * openapi.yaml's PhoneNumber takes (spaces, parentheses, dots, hyphens). A BSUID is not a phone number: it is
 * used as it is.
 */
export function waIdOf(phoneNumber: string): string {
  return phoneNumber.replace(/^\+/, "").replace(/[\s().-]/g, "");
}

/** A call id of Meta's form: `wacid.` and base64. */
export function newCallId(user: string): string {
  const random = crypto.getRandomValues(new Uint8Array(16));
  const hex = Array.from(random, (byte) => byte.toString(16).padStart(2, "0")).join("").toUpperCase();
  return `wacid.${btoa(`\u0018\u000b${user}\u0015\u0002\u0000\u0012\u0018\u0020${hex}\u001c`)}`;
}

/** A message id of Meta's form: `wamid.` and base64. */
export function newMessageId(user: string): string {
  const random = crypto.getRandomValues(new Uint8Array(9));
  const hex = Array.from(random, (byte) => byte.toString(16).padStart(2, "0")).join("").toUpperCase();
  return `wamid.${btoa(`\u0018\u000b${user}\u0015\u0002\u0000\u0011\u0018\u0012${hex}\u0000`)}`;
}
