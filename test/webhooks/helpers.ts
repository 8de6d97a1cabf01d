import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";

/** The fixtures, copied byte for byte from `../shared/fixtures` into `test/fixtures`. */
export const fixturesDir = fileURLToPath(new URL("../fixtures/", import.meta.url));

/** A fixture's exact bytes: never decoded and re-encoded, since the signatures are over these bytes. */
export function fixtureBytes(relativePath: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(readFileSync(fixturesDir + relativePath));
}

export function fixtureJson<T = any>(relativePath: string): T {
  return JSON.parse(new TextDecoder().decode(fixtureBytes(relativePath))) as T;
}

export interface SignatureCases {
  app_secret: string;
  cases: { body_file: string; body_transform?: string; x_hub_signature_256: string; expected_valid: boolean }[];
}
export const signatureCases = fixtureJson<SignatureCases>("webhooks/signature.cases.json");
export const fixtureAppSecret = signatureCases.app_secret;

export const deliveryFixtures = [
  "webhooks/calls.connect.user-initiated.json",
  "webhooks/calls.connect.business-initiated.json",
  "webhooks/calls.status.ringing.json",
  "webhooks/calls.terminate.completed.user-initiated.json",
  "webhooks/calls.terminate.failed.user-initiated.json",
  "webhooks/messages.call_permission_reply.accept-temporary.json",
  "webhooks/messages.call_permission_reply.reject.json",
] as const;

export const WABA_ID = "104996122399160";
export const PHONE_NUMBER_ID = "117823401562387";
export const USER_CALL_ID =
  "wacid.HBgLMTU1NTAxMjM0NTYVAgASGCA1RUU0QkUzQTc4QUZDQzVGN0M4Q0I5NzAzQ0Q3NTVEOBwYCzE1NTUwMTk5MDAxFQIAAA==";
export const BUSINESS_CALL_ID =
  "wacid.HBgLMTU1NTAxMjM0NTYVAgASGCBFOTg4RTgzOTFEQ0U1M0JFRTIyQjJCNDQzRjA0MzdFQRwYCzE1NTUwMTk5MDAxFQIAAA==";
export const FAILED_CALL_ID =
  "wacid.HBgLMTU1NTAxMjM0NTYVAgASGCA1OTA0NkM5QTk5NDg5NjY0RkJDNDc4RjIyRjlDREQ1ORwYCzE1NTUwMTk5MDAxFQIAAA==";

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/** A server on 127.0.0.1 with a random port; `close` drops keep-alive connections first. */
export async function listen(listener: NodeListener | ((req: any, res: any) => void)): Promise<{
  url: string;
  server: Server;
  close: () => Promise<void>;
}> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export const encode = (text: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(text);
