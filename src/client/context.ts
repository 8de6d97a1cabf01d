// How a client hands its request path to the functions of whatsapp-calling/media without making it public API:
// a hidden (non-enumerable, symbol-keyed) property of the client. The functions take the client itself, so the
// media code stays out of a bundle that only imports createCallingClient. A registered symbol, not a module's
// private map: ./media is a bundle of its own, with its own copy of this module.
import { WhatsAppValidationError } from "../errors.js";
import type { TransportConfig } from "../transport.js";

/** What the media functions take from a client: its transport (fetch, tokens, retries, hooks, log) and where it sends. */
export interface ClientContext {
  transport: TransportConfig;
  /** The versioned Graph base URL, e.g. `https://graph.facebook.com/v23.0`. */
  baseUrl: string;
  /** The business phone number id requests go to now. */
  phoneNumberId: () => string;
  /** The client's `timeoutMs`. */
  timeoutMs: number;
}

const CONTEXT = Symbol.for("whatsapp-calling.client-context");

export function setClientContext(client: object, context: ClientContext): void {
  // Held in a closure, not as the object: util.inspect with showHidden walks symbol-keyed properties, and the
  // transport holds the token.
  Object.defineProperty(client, CONTEXT, { value: () => context });
}

/** The context of a client made by createCallingClient; anything else is refused. */
export function clientContext(client: unknown): ClientContext {
  const context = typeof client === "object" && client !== null && Object.hasOwn(client, CONTEXT) ? (client as { [CONTEXT]: () => ClientContext })[CONTEXT]() : undefined;
  if (!context) throw new WhatsAppValidationError("calls must be a client made by createCallingClient", { path: "calls" });
  return context;
}
