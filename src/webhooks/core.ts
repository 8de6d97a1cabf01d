// What the handler's core and its carriers (the web Request in handler.ts, node:http in src/node.ts) share; a
// module of its own so that the node adapter does not bundle the handler.

import type { HmacCheck } from "./signature.js";

export type { HmacCheck };

/**
 * What a body reader gives when the body is larger than allowed. Registered (Symbol.for), as the node listener's
 * bundle has its own copy of this module and hands its readers' results to the handler's core.
 */
export const BODY_TOO_LARGE: unique symbol = Symbol.for("whatsapp-calling.body-too-large");

/**
 * A request as the handler's core reads it, whatever carried it: the web `Request` below, or node:http directly
 * (`toNodeListener`, which so makes no `Request`, `Headers`, stream or `Response` per delivery).
 */
export interface WebhookInput {
  method: string;
  /** The full URL; read only for the GET handshake. */
  url(): string;
  /** A header's value, or null. */
  header(name: string): string | null;
  /** The body, read up to `maxBytes` (BODY_TOO_LARGE past it, without reading the rest). */
  body(maxBytes: number): Promise<Uint8Array | typeof BODY_TOO_LARGE>;
}

/** An answer of the core: always text. */
export interface WebhookAnswer {
  status: number;
  text: string;
  headers: Record<string, string>;
}

/** Where `toNodeListener` finds the core of a handler made by `createWebhookHandler`. */
export const WEBHOOK_CORE = Symbol.for("whatsapp-calling.webhook-core");

/**
 * The handler itself, whatever carried the request. `check` replaces WebCrypto's HMAC check: the node listener
 * passes node:crypto's synchronous one (the rest of the package stays web-standard).
 */
export type WebhookCore = (input: WebhookInput, check?: HmacCheck) => Promise<WebhookAnswer>;
