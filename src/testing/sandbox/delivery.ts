// Webhook delivery as Meta does it: each body signed with the app secret (X-Hub-Signature-256 over the exact
// bytes), POSTed to the callback URL, retried with backoff while the endpoint fails, and re-delivered on purpose
// when a test asks (duplicates are part of Meta's contract). Deliveries go out one at a time, in the order made
// (a scene that plays Meta's lack of ordering makes them in the other order).
import { signatureHeaderFor } from "../../webhooks/signature.js";

export interface DeliveryOptions {
  readonly webhookUrl: string;
  readonly appSecret: string;
  /** Retries after a failed attempt (non-2xx, network error, timeout). Default 3. */
  readonly retries: number;
  /** Delay before the first retry; doubled for each further one. Default 250 ms. */
  readonly retryDelayMs: number;
  /** How long an attempt may take before it counts as failed (Meta: about 20 s). */
  readonly timeoutMs: number;
}

export interface DeliveryAttempt {
  /** HTTP status, or undefined when no answer came (network error or timeout). */
  readonly status: number | undefined;
  readonly error?: string;
  readonly ms: number;
}

/** One webhook sent (or being sent), as recorded for tests and the transcript. */
export interface Delivery {
  readonly id: number;
  /** What it reports, e.g. `connect`, `terminate`, `status RINGING`, `call_permission_reply`. */
  readonly event: string;
  readonly callId: string | undefined;
  /** The exact bytes sent. */
  readonly body: string;
  /** The X-Hub-Signature-256 header sent with them. */
  readonly signature: string;
  /** Set when this is a deliberate re-delivery of an earlier delivery. */
  readonly redeliveryOf?: number;
  readonly attempts: DeliveryAttempt[];
  /** `pending` until an attempt got a 2xx (`delivered`) or every retry failed (`failed`). */
  state: "pending" | "delivered" | "failed";
  /** Settles when the delivery is delivered or has failed for good. */
  readonly done: Promise<Delivery>;
}

export type DeliveryListener = (delivery: Delivery, attempt: DeliveryAttempt, final: boolean) => void;

export class Deliverer {
  readonly deliveries: Delivery[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly options: DeliveryOptions,
    private readonly listener: DeliveryListener,
  ) {}

  /** Signs and queues `payload`: it goes out after every delivery queued before it. */
  async send(event: string, callId: string | undefined, payload: unknown): Promise<Delivery> {
    const body = JSON.stringify(payload);
    return this.enqueue(event, callId, body, await signatureHeaderFor(body, this.options.appSecret), undefined);
  }

  /** Sends an earlier delivery again, byte for byte and with the same signature. */
  redeliver(delivery: Delivery): Delivery {
    return this.enqueue(delivery.event, delivery.callId, delivery.body, delivery.signature, delivery.id);
  }

  private enqueue(
    event: string,
    callId: string | undefined,
    body: string,
    signature: string,
    redeliveryOf: number | undefined,
  ): Delivery {
    let settle!: (delivery: Delivery) => void;
    const done = new Promise<Delivery>((resolve) => (settle = resolve));
    const delivery: Delivery = {
      id: this.deliveries.length + 1,
      event,
      callId,
      body,
      signature,
      ...(redeliveryOf === undefined ? {} : { redeliveryOf }),
      attempts: [],
      state: "pending",
      done,
    };
    this.deliveries.push(delivery);
    const previous = this.queue;
    this.queue = (async () => {
      await previous;
      await this.attemptAll(delivery);
      settle(delivery);
    })();
    return delivery;
  }

  private async attemptAll(delivery: Delivery): Promise<void> {
    for (let attempt = 0; attempt <= this.options.retries; attempt += 1) {
      if (this.closed) break;
      if (attempt > 0) await this.sleep(this.options.retryDelayMs * 2 ** (attempt - 1));
      if (this.closed) break;
      const result = await this.post(delivery);
      delivery.attempts.push(result);
      const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
      const final = ok || attempt === this.options.retries || this.closed;
      if (ok) delivery.state = "delivered";
      else if (final) delivery.state = "failed";
      this.listener(delivery, result, final);
      if (ok) return;
    }
    if (delivery.state === "pending") delivery.state = "failed";
  }

  private async post(delivery: Delivery): Promise<DeliveryAttempt> {
    const started = Date.now();
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs)]);
    try {
      const response = await fetch(this.options.webhookUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-hub-signature-256": delivery.signature,
          "user-agent": "facebookexternalua",
        },
        body: delivery.body,
        signal,
      });
      await response.arrayBuffer().catch(() => undefined);
      return { status: response.status, ms: Date.now() - started };
    } catch (error) {
      const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      return { status: undefined, error: message, ms: Date.now() - started };
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.abort.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Waits until every delivery made so far is delivered or failed. */
  async settled(): Promise<void> {
    let count = -1;
    while (count !== this.deliveries.length) {
      count = this.deliveries.length;
      await Promise.all(this.deliveries.map((delivery) => delivery.done));
    }
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
  }
}

/**
 * For a wait that timed out: the call's webhooks your endpoint refused or never answered (failed for good, or
 * still being retried after a failed attempt), with the last attempt's answer; empty when there are none. One
 * still queued is not listed, nor one that a re-delivery got through. A bot that never got its connect is the
 * usual reason a call stays ringing.
 */
export function undelivered(deliveries: readonly Delivery[], callId: string): string {
  const redelivered = new Set(deliveries.filter((delivery) => delivery.state === "delivered").map((delivery) => delivery.redeliveryOf));
  const missing = deliveries.filter(
    (delivery) => delivery.callId === callId && delivery.state !== "delivered" && delivery.attempts.length > 0 && !redelivered.has(delivery.id),
  );
  if (missing.length === 0) return "";
  const described = missing.map((delivery) => {
    const last = delivery.attempts.at(-1)!;
    const answer = last.status === undefined ? (last.error ?? "no answer") : `HTTP ${last.status}`;
    return `${delivery.event} (${delivery.state}, ${delivery.attempts.length} attempt${delivery.attempts.length === 1 ? "" : "s"}, last: ${answer})`;
  });
  return `; webhooks not delivered to your endpoint: ${described.join(", ")}`;
}
