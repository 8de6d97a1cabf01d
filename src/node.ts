/// <reference types="node" />
// The one node-only module of the package: everything else uses web-standard APIs only.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { WhatsAppError } from "./errors.js";
import { concatBytes, utf8Bytes } from "./webhooks/bytes.js";
import { BODY_TOO_LARGE, WEBHOOK_CORE, type HmacCheck, type WebhookCore } from "./webhooks/core.js";
import type { WebhookRequestHandler } from "./webhooks/handler.js";

export interface NodeListenerOptions {
  /**
   * Told when the adapter itself cannot serve a delivery: a body that a framework already parsed
   * (WebhookBodyParsedError: its signature cannot be checked), or a failure while writing the answer (a
   * WhatsAppError with the failure as `cause`). Default: the first such error is printed with console.error, so
   * a misconfigured endpoint does not fail silently.
   */
  onError?: ((error: WhatsAppError) => void) | undefined;
}

/**
 * A framework (e.g. `express.json()`) read and parsed the body before the listener ran and kept no raw bytes, so
 * the signature cannot be checked: the delivery is answered 500 (Meta delivers it again once this is fixed).
 */
export class WebhookBodyParsedError extends WhatsAppError {
  static override name = "WebhookBodyParsedError";
  readonly status = 500;
}

/** What Express (or another framework) may have put on the request before the listener runs. */
type FrameworkRequest = IncomingMessage & {
  originalUrl?: string;
  rawBody?: unknown;
  body?: unknown;
  /** Set by Express's body parsers once they have read the stream. */
  _body?: boolean;
};

const ALREADY_PARSED_MESSAGE =
  "The request body was already read and parsed (for example by express.json() or express.text()) and its raw " +
  "bytes are not available, so the X-Hub-Signature-256 signature cannot be checked. Mount the webhook listener " +
  "before the body parsers, keep the raw bytes in req.rawBody, or use express.raw().";

/**
 * Adapts a web-standard handler (from `createWebhookHandler`) to node:http and Express: `(req, res) => void`.
 *
 * The body is streamed from the request as raw bytes, so the signature is checked on exactly what Meta sent and
 * an oversized body is refused without being buffered. Behind Express body parsers, the raw bytes are taken
 * from `req.rawBody` (a Buffer or string) or from a Buffer in `req.body` (`express.raw()`); a body already
 * parsed into an object is answered 500 with an explanation.
 *
 * A handler made by `createWebhookHandler` is served by its own core (the same answers, dedupe and logging as
 * through a `Request`) without a `Request` or `Response` per delivery, and its signature is checked with
 * node:crypto's synchronous HMAC.
 */
export function toNodeListener(
  handler: WebhookRequestHandler,
  options: NodeListenerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  let reported = false;
  const report =
    options.onError ??
    ((error: WhatsAppError) => {
      if (reported) return;
      reported = true;
      console.error(`whatsapp-calling: ${error.message}`);
    });
  const tell = (error: WhatsAppError) => {
    try {
      report(error);
    } catch {
      // The observer's failure must not change the answer.
    }
  };
  // A handler made by createWebhookHandler is served directly from node:http: no Request, Headers, stream or
  // Response is made per delivery. Any other web handler goes through the fetch API's objects.
  const core = (handler as { [WEBHOOK_CORE]?: WebhookCore })[WEBHOOK_CORE];
  return (req, res) => {
    (core ? respondDirectly(core, req as FrameworkRequest, res, tell) : respond(handler, req as FrameworkRequest, res, tell)).catch((cause: unknown) => {
      tell(new WhatsAppError("the webhook listener failed while answering", { cause }));
      // Half an answer cannot be mended: the connection is dropped so that the client does not take it as whole.
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("Internal error");
    });
  };
}

/** A body a framework already parsed: its signature cannot be checked, so it is answered 500 with the reason. */
function refuseParsed(res: ServerResponse, tell: (error: WhatsAppError) => void): void {
  tell(new WebhookBodyParsedError(ALREADY_PARSED_MESSAGE));
  res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(ALREADY_PARSED_MESSAGE);
}

async function respond(
  handler: WebhookRequestHandler,
  req: FrameworkRequest,
  res: ServerResponse,
  tell: (error: WhatsAppError) => void,
): Promise<void> {
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  let body: BodyInit | null = null;
  let releaseBody = () => {};
  if (hasBody) {
    const consumed = consumedBody(req);
    if (consumed === "parsed") return refuseParsed(res, tell);
    if (consumed !== undefined) {
      body = typeof consumed === "string" ? consumed : new Uint8Array(consumed);
    } else {
      const streamed = streamOf(req);
      body = streamed.stream;
      releaseBody = streamed.release;
    }
  }
  const headers = new Headers();
  for (let index = 0; index + 1 < req.rawHeaders.length; index += 2) {
    headers.append(req.rawHeaders[index]!, req.rawHeaders[index + 1]!);
  }
  let request: Request;
  try {
    request = new Request(requestUrl(req), {
      method: req.method ?? "GET",
      headers,
      body,
      // Required by Node's fetch for a streamed body; unknown to the DOM typings.
      duplex: "half",
    } as RequestInit);
  } catch {
    // The fetch API refuses some requests Node accepts: the methods it forbids (TRACE, TRACK, CONNECT) are
    // answered like every other method the endpoint does not serve, 405 with Allow; anything else it refuses is
    // a request no webhook delivery looks like, 400.
    releaseBody();
    const method = (req.method ?? "").toUpperCase();
    if (method !== "GET" && method !== "POST") {
      res.writeHead(405, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff", allow: "GET, POST" }).end("Method not allowed");
    } else {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end("Request not supported");
    }
    return;
  }
  try {
    const response = await handler(request);
    res.statusCode = response.status;
    response.headers.forEach((value, name) => res.setHeader(name, value));
    res.end(new Uint8Array(await response.arrayBuffer()));
  } finally {
    releaseBody();
  }
}

async function respondDirectly(core: WebhookCore, req: FrameworkRequest, res: ServerResponse, tell: (error: WhatsAppError) => void): Promise<void> {
  let consumed: ReturnType<typeof consumedBody>;
  if (req.method !== "GET" && req.method !== "HEAD") {
    consumed = consumedBody(req);
    if (consumed === "parsed") return refuseParsed(res, tell);
  }
  const answer = await core(
    {
      method: (req.method ?? "GET").toUpperCase(),
      url: () => requestUrl(req),
      header: (name) => {
        const value = req.headers[name];
        return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
      },
      body: (maxBytes) =>
        consumed === undefined ? readRequest(req, maxBytes) : Promise.resolve(typeof consumed === "string" ? utf8Bytes(consumed) : (consumed as Uint8Array)),
    },
    nodeCheck,
  );
  res.writeHead(answer.status, answer.headers);
  res.end(answer.text);
}

// node:crypto's HMAC is synchronous: no job on the thread pool, no promise and no thread hop per delivery, as
// WebCrypto's has. Both are 32 bytes (signatureMatches reads 64 hex digits), as timingSafeEqual requires.
const nodeCheck: HmacCheck = (bytes, signature, secret) => timingSafeEqual(createHmac("sha256", secret).update(bytes).digest(), signature);

/**
 * The request body up to `maxBytes`: refused from its Content-Length without reading, or as soon as the bytes
 * read pass it (the rest is left unread; the 413 answer closes the connection).
 */
function readRequest(req: IncomingMessage, maxBytes: number): Promise<Uint8Array | typeof BODY_TOO_LARGE> {
  const declared = Number(req.headers["content-length"] ?? Number.NaN);
  if (declared > maxBytes) return Promise.resolve(BODY_TOO_LARGE);
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let length = 0;
    const done = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
    };
    const onData = (chunk: Uint8Array) => {
      length += chunk.byteLength;
      if (length > maxBytes) {
        done();
        req.pause();
        resolve(BODY_TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(concatBytes(chunks, length));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    const onAborted = () => onError(new Error("the request was aborted"));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}

/** The raw bytes a framework kept, `"parsed"` when only a parsed object is left, undefined when the stream is unread. */
function consumedBody(req: FrameworkRequest): Uint8Array | string | "parsed" | undefined {
  if (req.rawBody instanceof Uint8Array || typeof req.rawBody === "string") return req.rawBody;
  const alreadyRead = req._body === true || req.readableEnded;
  if (!alreadyRead) return undefined;
  if (req.body instanceof Uint8Array) return req.body;
  return "parsed";
}

/**
 * The request body as a pull-based stream: the request is read only as fast as the handler consumes it, so a
 * handler that stops at the size cap leaves the rest unread. `release` (after the answer) discards what is left,
 * so a keep-alive connection is ready for the next request.
 */
function streamOf(req: IncomingMessage): { stream: ReadableStream<Uint8Array>; release: () => void } {
  let released = false;
  let listening = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const listen = () => {
    listening = true;
    req.on("data", (chunk: Uint8Array) => {
      if (released) return;
      controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if ((controller.desiredSize ?? 0) <= 0) req.pause();
    });
    req.on("end", () => {
      if (!released) controller.close();
    });
    req.on("error", (error) => {
      if (!released) controller.error(error);
    });
  };
  const stream = new ReadableStream<Uint8Array>({
    start(streamController) {
      controller = streamController;
    },
    pull() {
      if (!listening) listen();
      req.resume();
    },
    cancel() {
      released = true;
      req.pause();
    },
  });
  const release = () => {
    released = true;
    // Node drains an untouched request itself; one we started reading is drained here.
    if (listening && !req.readableEnded) req.resume();
  };
  return { stream, release };
}

function requestUrl(req: FrameworkRequest): string {
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? "https" : "http";
  const path = req.originalUrl ?? req.url ?? "/";
  try {
    return new URL(path, `${scheme}://${req.headers.host ?? "localhost"}`).href;
  } catch {
    return new URL(path, `${scheme}://localhost`).href;
  }
}
