// The sandbox's transcript: one event per step, for tests, the CLI and `npm start`. No token, app secret or
// ICE password is ever put into an event (SDPs are summarised, never copied).

export type SandboxEvent =
  | { readonly kind: "request"; readonly method: string; readonly path: string; readonly action?: string; readonly callId?: string; readonly status: number; readonly code?: number; readonly details?: string }
  | { readonly kind: "webhook"; readonly deliveryId: number; readonly event: string; readonly callId?: string; readonly attempt: number; readonly status?: number; readonly error?: string; readonly final: boolean; readonly redeliveryOf?: number }
  | { readonly kind: "call"; readonly callId: string; readonly state: string; readonly detail?: string }
  | { readonly kind: "media"; readonly callId: string; readonly detail: string }
  | { readonly kind: "info"; readonly detail: string };

/** One line of transcript for an event. */
export function describeEvent(event: SandboxEvent): string {
  switch (event.kind) {
    case "request": {
      const what = event.action ? `${event.method} ${event.path} ${event.action}` : `${event.method} ${event.path}`;
      const outcome = event.code === undefined ? `${event.status}` : `${event.status} code ${event.code}${event.details ? `: ${event.details}` : ""}`;
      return `graph   ${what}${event.callId ? ` ${short(event.callId)}` : ""} -> ${outcome}`;
    }
    case "webhook": {
      const outcome = event.status === undefined ? `no answer (${event.error ?? "error"})` : `${event.status}`;
      const again = event.redeliveryOf === undefined ? "" : ` (re-delivery of #${event.redeliveryOf})`;
      const retry = event.attempt > 1 ? ` attempt ${event.attempt}` : "";
      return `webhook #${event.deliveryId} ${event.event}${event.callId ? ` ${short(event.callId)}` : ""}${again}${retry} -> ${outcome}${!event.final ? ", will retry" : ""}`;
    }
    case "call":
      return `call    ${short(event.callId)} ${event.state}${event.detail ? `: ${event.detail}` : ""}`;
    case "media":
      return `media   ${short(event.callId)} ${event.detail}`;
    case "info":
      return `sandbox ${event.detail}`;
  }
}

/** A call id shortened for reading: its last characters are the ones that differ. */
export function short(callId: string): string {
  return callId.length > 18 ? `wacid…${callId.slice(-12, -2)}` : callId;
}
