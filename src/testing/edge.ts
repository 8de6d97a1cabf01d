// whatsapp-calling/testing as workers and browsers resolve it (the `workerd`, `worker` and `browser` export
// conditions): the same names, but without the sandbox, so that a bundler building a worker that signs test
// deliveries never reaches node:http or werift. The sandbox itself runs on Node only.
import type { Sandbox, SandboxOptions } from "./sandbox/index.js";
import { WhatsAppError } from "../errors.js";

export * from "./common.js";

/** The sandbox needs Node (node:http, and werift for media): in a worker or a browser it is not there. */
export async function startSandbox(_options: SandboxOptions): Promise<Sandbox> {
  throw new WhatsAppError("startSandbox runs on Node only (it serves HTTP with node:http); this runtime resolved whatsapp-calling/testing without it");
}
