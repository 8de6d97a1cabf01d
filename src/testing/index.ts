// whatsapp-calling/testing: helpers for your own tests. The signing helper is web-standard and light; the
// sandbox (node:http, and werift for media) is loaded only when startSandbox is called.
import type { Sandbox, SandboxOptions } from "./sandbox/index.js";

export * from "./common.js";

/**
 * Starts a local WhatsApp Calling sandbox on 127.0.0.1: the Graph endpoints a bot calls (`/calls`,
 * `/call_permissions`, `/settings`, `/messages`), signed webhooks to `webhookUrl`, and a simulated user who
 * calls, answers, grants permission and hangs up. With the optional peer dependency `werift` installed, the
 * user is a real WebRTC peer that behaves like Meta's side (ICE-lite, DTLS server, Opus). Node only.
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const sandbox = await import("./sandbox/index.js");
  return sandbox.startSandbox(options);
}

