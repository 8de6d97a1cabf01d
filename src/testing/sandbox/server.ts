/// <reference types="node" />
// The HTTP side of the sandbox: a node:http server on 127.0.0.1 only, with the Graph paths
// `/{version}/{phone-number-id}/{endpoint}` and the Media API's `/{version}/{media-id}`, the media download URLs,
// the SDP helpers for bots without WebRTC (`/sandbox/…`), the bearer token check on all of them (401, code 190),
// JSON bodies, and the multipart body of a voicemail announcement upload (`/{phone-number-id}/media`).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { API_VERSION_PATTERN } from "../../../generated/api-version.js";
import type { SandboxEngine } from "./engine.js";
import type { SandboxEvent } from "./events.js";
import { refusal, type Refusal } from "./refusals.js";
import { utf8Bytes } from "../../webhooks/bytes.js";
import { answerWithoutMedia, offerWithoutMedia } from "./sdp.js";
import { mediaRoute, route, uploadRoute, type RouteAnswer } from "./routes.js";

const MAX_BODY_BYTES = 1_000_000;
/** Meta's limit for an audio file (the Media API's 16 MB). */
const MAX_UPLOAD_BYTES = 16 * 1024 * 1024;

/** Sends an answer and puts it in the transcript (`path` when it is not the Graph endpoint's). */
type Report = (answer: RouteAnswer & { path?: string }) => void;

export interface ServerConfig {
  readonly port: number;
  readonly accessToken: string;
  readonly phoneNumberId: string;
  readonly engine: SandboxEngine;
  readonly emit: (event: SandboxEvent) => void;
}

export async function listen(config: ServerConfig): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    handle(config, req, res).catch((error: unknown) => {
      config.emit({ kind: "info", detail: `internal error: ${String(error)}` });
      if (!res.headersSent) send(res, refusal(1, "The sandbox failed while answering").status, refusal(1).body);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readBytes(req: IncomingMessage, maxBytes: number): Promise<Buffer | Refusal> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return refusal(100, `The request body is larger than ${maxBytes} bytes`, "Invalid parameter");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function readBody(req: IncomingMessage): Promise<string | Refusal> {
  const bytes = await readBytes(req, MAX_BODY_BYTES);
  return Buffer.isBuffer(bytes) ? bytes.toString("utf8") : bytes;
}

/** `POST /{phone-number-id}/media`: a multipart form, read as the fetch API reads one. */
async function upload(config: ServerConfig, req: IncomingMessage, report: Report): Promise<void> {
  const bytes = await readBytes(req, MAX_UPLOAD_BYTES);
  if (!Buffer.isBuffer(bytes)) return report({ status: bytes.status, body: bytes.body, action: "uploadMedia" });
  let form: FormData | undefined;
  try {
    form = await new Response(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) as Uint8Array<ArrayBuffer>, { headers: { "content-type": req.headers["content-type"] ?? "" } }).formData();
  } catch {
    form = undefined;
  }
  report(await uploadRoute(config.engine, form));
}

async function handle(config: ServerConfig, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const method = req.method ?? "GET";
  const [, version, phoneNumberId, endpoint, ...rest] = url.pathname.split("/");
  // The Graph endpoint for the transcript; any other route reports its own path, or is named whole.
  const path = endpoint === undefined ? url.pathname : `/${endpoint}`;
  const report: Report = (answer) => {
    const error = (answer.body as { error?: { code?: number; error_data?: { details?: string } } }).error;
    config.emit({
      kind: "request",
      method,
      path: answer.path ?? path,
      ...(answer.action === undefined ? {} : { action: answer.action }),
      ...(answer.callId === undefined ? {} : { callId: answer.callId }),
      status: answer.status,
      ...(error?.code === undefined ? {} : { code: error.code }),
      ...(error?.error_data?.details === undefined ? {} : { details: error.error_data.details }),
    });
    send(res, answer.status, answer.body);
  };
  const refuse = (refused: Refusal) => report({ status: refused.status, body: refused.body });

  const authorization = req.headers.authorization ?? "";
  const token = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim();
  if (token !== config.accessToken) {
    req.resume();
    return refuse(refusal(190, undefined, "Invalid OAuth access token - Cannot parse access token"));
  }
  if (version === "sandbox" && endpoint === undefined) return sdpWithoutMedia(config, req, res, method, phoneNumberId, report);
  if (version === "media-download" && phoneNumberId && endpoint === undefined) {
    req.resume();
    return download(config, res, phoneNumberId, Number(url.searchParams.get("expires")), report);
  }
  if (version && API_VERSION_PATTERN.test(version) && phoneNumberId && /^\d+$/.test(phoneNumberId) && phoneNumberId !== config.phoneNumberId && endpoint === undefined) {
    req.resume();
    return report({ ...mediaRoute(config.engine, method, phoneNumberId, url.searchParams), path: "/{media-id}" });
  }
  if (!version || !API_VERSION_PATTERN.test(version) || !endpoint || rest.length > 0) {
    req.resume();
    return refuse(refusal(100, `Unknown path ${url.pathname}: expected /{version}/{phone-number-id}/{calls|call_permissions|settings|messages|media}`, "Unsupported request"));
  }
  if (phoneNumberId !== config.phoneNumberId) {
    req.resume();
    return refuse(refusal(100, `Object with ID '${phoneNumberId}' does not exist: the sandbox's phone-number id is ${config.phoneNumberId}`, "Unsupported request"));
  }
  if (method === "POST" && endpoint === "media") return upload(config, req, report);
  let body: unknown;
  if (method === "POST") {
    const text = await readBody(req);
    if (typeof text !== "string") return refuse(text);
    try {
      body = JSON.parse(text);
    } catch {
      return refuse(refusal(100, "The request body is not JSON", "Invalid parameter"));
    }
  } else {
    req.resume();
  }
  report(await route(config.engine, { method, endpoint, query: url.searchParams, body }));
}

/**
 * A media download URL (the bearer token was checked): the file's bytes, or, once the URL expired or the file was
 * deleted, a 404 as Meta's media host answers, after which a client asks `GET /{media-id}` for a fresh URL.
 */
function download(config: ServerConfig, res: ServerResponse, mediaId: string, expires: number, report: Report): void {
  const file = config.engine.mediaFiles.get(mediaId);
  if (!file || !(expires >= Date.now())) {
    return report({ ...refusedDownload(mediaId, file ? "expired" : "deleted or unknown"), path: "/media-download" });
  }
  sendContent(config, res, { method: "GET", path: "/media-download", action: "downloadMedia" }, file.mimeType, file.bytes);
}

function refusedDownload(mediaId: string, why: string): RouteAnswer {
  const refused = refusal(100, `The media URL of ${mediaId} is ${why}: ask GET /{media-id} for a fresh one`, "Media URL not found");
  return { status: 404, body: refused.body, action: "downloadMedia" };
}

/**
 * SDPs for a bot in another process with no WebRTC stack (the CLI's users): `POST /sandbox/answer-without-media`
 * with the user's offer as the body answers it; `GET /sandbox/offer-without-media` is an offer for `connect`.
 * Plain text both ways, as `sandbox.answerWithoutMedia` and `offerWithoutMedia` give them.
 */
async function sdpWithoutMedia(
  config: ServerConfig,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  name: string | undefined,
  report: Report,
): Promise<void> {
  const path = `/sandbox/${name ?? ""}`;
  let sdp: string;
  if (method === "GET" && name === "offer-without-media") {
    req.resume();
    sdp = offerWithoutMedia();
  } else if (method === "POST" && name === "answer-without-media") {
    const body = await readBody(req);
    if (typeof body !== "string") return report({ ...body, path });
    const made = answerWithoutMedia(body);
    if ("problem" in made) return report({ ...refusal(100, `The body must be the user's SDP offer (the connect webhook's session.sdp): ${made.problem}`, "Invalid parameter"), path });
    sdp = made.answer;
  } else {
    req.resume();
    return report({ ...refusal(100, `Unknown sandbox path ${method} ${path}: expected POST /sandbox/answer-without-media or GET /sandbox/offer-without-media`, "Unsupported request"), path });
  }
  sendContent(config, res, { method, path }, "application/sdp", utf8Bytes(sdp));
}

/** A 200 whose body is not JSON (a media file, an SDP), put in the transcript as every answer is. */
function sendContent(
  config: ServerConfig,
  res: ServerResponse,
  request: { method: string; path: string; action?: string },
  contentType: string,
  bytes: Uint8Array,
): void {
  config.emit({ kind: "request", ...request, status: 200 });
  res.writeHead(200, { "content-type": contentType, "content-length": bytes.byteLength });
  res.end(bytes);
}
