// A real HTTP server on 127.0.0.1 that stands in for graph.facebook.com: it records every request exactly as
// it arrived and answers with whatever the test's handler says.
import { afterAll, beforeAll, beforeEach } from "vitest";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The parsed JSON body, or undefined when there was none. */
  json: unknown;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Destroy the socket instead of answering (a connection reset). */
  reset?: boolean;
  /** Send the headers, then stall without a body. */
  stallBody?: boolean;
}

export type Handler = (request: RecordedRequest, index: number) => Reply | Promise<Reply>;

export interface GraphServer {
  url: string;
  requests: RecordedRequest[];
  setHandler(handler: Handler): void;
  close(): Promise<void>;
}

export const ok: Handler = () => ({ status: 200, body: { messaging_product: "whatsapp", success: true } });

export async function startGraphServer(handler: Handler = ok): Promise<GraphServer> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      let json: unknown;
      try {
        json = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {
        json = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        rawBody,
        json,
      };
      const index = requests.push(recorded) - 1;
      let reply: Reply;
      try {
        reply = await current(recorded, index);
      } catch (error) {
        reply = { status: 599, body: String(error) };
      }
      const send = () => {
        if (reply.reset) {
          req.socket.destroy();
          return;
        }
        const body =
          reply.body === undefined ? "" : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
        const headers: Record<string, string> = {
          ...(typeof reply.body === "object" ? { "content-type": "application/json" } : {}),
          ...reply.headers,
        };
        res.writeHead(reply.status ?? 200, headers);
        if (reply.stallBody) {
          res.flushHeaders();
          return;
        }
        res.end(body);
      };
      if (reply.delayMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send();
        }, reply.delayMs);
        timers.add(timer);
      } else {
        send();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setHandler(next) {
      current = next;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * One server for a test file: started before its tests, emptied of recorded requests and given `handler` back
 * before each test, closed after them.
 */
export function useGraphServer(handler: Handler = ok): GraphServer {
  let server: GraphServer | undefined;
  const current = () => {
    if (!server) throw new Error("the graph server is started in beforeAll; use it inside tests and hooks");
    return server;
  };
  beforeAll(async () => {
    server = await startGraphServer(handler);
  });
  beforeEach(() => {
    current().requests.length = 0;
    current().setHandler(handler);
  });
  afterAll(() => current().close());
  return {
    get url() {
      return current().url;
    },
    get requests() {
      return current().requests;
    },
    setHandler: (next) => current().setHandler(next),
    close: () => current().close(),
  };
}
