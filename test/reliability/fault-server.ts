// A Graph stand-in on 127.0.0.1 that injects faults from a deterministic schedule: the fault of a request depends
// only on (seed, the request's key, its attempt number for that key), never on arrival order, so a run under
// concurrency 200 meets the same faults every time.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Fault =
  | { kind: "ok" }
  | { kind: "rate_limited"; retryAfterSeconds: number }
  | { kind: "unavailable" }
  | { kind: "reset" }
  | { kind: "slow"; delayMs: number };

export interface FaultRequest {
  method: string;
  path: string;
  /** The key the client tagged the request with (header `x-load-key`), plus the call action for POST /calls. */
  key: string;
  /** 1 for the first request with this key. */
  attempt: number;
  json: Record<string, unknown> | undefined;
}

export interface FaultServer {
  url: string;
  /** Requests received, by kind of fault served. */
  served: Record<Fault["kind"], number>;
  /** Every request received, in arrival order. */
  received: FaultRequest[];
  /** How many times each connect's `biz_opaque_callback_data` arrived. */
  connectMarkers: Map<string, number>;
  close(): Promise<void>;
}

/** mulberry32: a tiny seeded PRNG, good enough to spread faults evenly. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string, to seed one PRNG per (key, attempt). */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const GRAPH_ERROR = (code: number, message: string, transient: boolean) => ({
  error: { message, type: "OAuthException", code, is_transient: transient, fbtrace_id: "LoadTestTrace" },
});

function successBody(request: FaultRequest): unknown {
  if (request.path.endsWith("/call_permissions")) {
    return { messaging_product: "whatsapp", permission: { status: "granted" }, actions: [] };
  }
  if (request.path.endsWith("/settings")) return { success: true };
  if (request.json?.["action"] === "connect") {
    return { messaging_product: "whatsapp", calls: [{ id: `wacid.${String(request.json["biz_opaque_callback_data"])}` }] };
  }
  return { messaging_product: "whatsapp", success: true };
}

export async function startFaultServer(schedule: (request: FaultRequest) => Fault): Promise<FaultServer> {
  const attempts = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  const served: FaultServer["served"] = { ok: 0, rate_limited: 0, unavailable: 0, reset: 0, slow: 0 };
  const received: FaultRequest[] = [];
  const connectMarkers = new Map<string, number>();

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      let json: Record<string, unknown> | undefined;
      try {
        json = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      const action = typeof json?.["action"] === "string" ? `:${json["action"]}` : "";
      const key = `${String(req.headers["x-load-key"] ?? "untagged")}${action || `:${req.method} ${url.pathname.split("/").pop()}`}`;
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      const request: FaultRequest = { method: req.method ?? "", path: url.pathname, key, attempt, json };
      received.push(request);
      if (json?.["action"] === "connect") {
        const marker = String(json["biz_opaque_callback_data"]);
        connectMarkers.set(marker, (connectMarkers.get(marker) ?? 0) + 1);
      }

      const fault = schedule(request);
      served[fault.kind] += 1;
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        if (res.destroyed) return;
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(body));
      };
      switch (fault.kind) {
        case "ok":
          return answer(200, successBody(request));
        case "rate_limited":
          return answer(429, GRAPH_ERROR(4, "(#4) Application request limit reached", true), {
            "retry-after": String(fault.retryAfterSeconds),
          });
        case "unavailable":
          return answer(503, GRAPH_ERROR(2, "Service temporarily unavailable", true));
        case "reset":
          req.socket.destroy();
          return;
        case "slow": {
          const timer = setTimeout(() => {
            timers.delete(timer);
            answer(200, successBody(request));
          }, fault.delayMs);
          timers.add(timer);
          return;
        }
      }
    });
  });
  // Server-side keep-alive expiry would close idle sockets under the client at random moments; the faults here
  // are the scheduled ones only.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    received,
    connectMarkers,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
