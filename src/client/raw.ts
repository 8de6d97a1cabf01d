// `raw`: the openapi-fetch client, typed by the generated paths, sent through the same request path as the
// one-line methods. openapi-fetch hands over a Request; its operation, action and retry rule are read from it.
import createClient, { type Client } from "openapi-fetch";
import { ENDPOINTS, OPERATIONS, type RetryRule } from "../../generated/operations.js";
import type { paths } from "../../generated/openapi.js";
import { WhatsAppResponseError } from "./errors.js";
import { apiError, type Answer, type Outgoing } from "../transport.js";

const MATCHERS = OPERATIONS.map((operation) => ({
  operation,
  pattern: new RegExp(`^${operation.path.replace(/\{[^}]+\}/g, "[^/]+")}/?$`),
}));

export function createRawClient(
  versionedBaseUrl: string,
  send: (out: Outgoing, signal: AbortSignal) => Promise<Answer>,
): Client<paths> {
  const basePath = new URL(versionedBaseUrl).pathname;
  const fetch = async (request: Request): Promise<Response> => {
    const body = request.body ? await request.text() : undefined;
    const pathname = new URL(request.url).pathname;
    const path = pathname.startsWith(basePath) ? pathname.slice(basePath.length) : pathname;
    const method = request.method as Outgoing["method"];
    const operation = MATCHERS.find((matcher) => matcher.operation.method === method && matcher.pattern.test(path))?.operation;
    let action = operation?.operationId ?? `${method} ${path}`;
    let retry: RetryRule = operation?.retry ?? (method === "GET" ? "always" : "never");
    let callId: string | undefined;
    let sdp: string | undefined;
    if (operation?.operationId === "manageCall") {
      // A body that cannot be read as an action is treated as one that must not be repeated.
      const value = parse(body);
      const parsed = (value !== null && typeof value === "object" ? value : undefined) as { action?: unknown; call_id?: unknown; session?: { sdp?: unknown } } | undefined;
      const known = typeof parsed?.action === "string" && Object.hasOwn(ENDPOINTS, parsed.action) ? parsed.action : undefined;
      if (typeof parsed?.action === "string") action = parsed.action;
      retry = known ? ENDPOINTS[known as keyof typeof ENDPOINTS].retry : "never";
      if (typeof parsed?.call_id === "string") callId = parsed.call_id;
      if (typeof parsed?.session?.sdp === "string") sdp = parsed.session.sdp;
    }
    const headers = Object.fromEntries(request.headers);
    const answer = await send({ method, url: request.url, path, body, action, callId, retry, sdp, headers }, request.signal);
    const ok = answer.status >= 200 && answer.status < 300;
    if (ok && answer.text !== "" && parse(answer.text) === NOT_JSON) {
      throw new WhatsAppResponseError(`Graph API answered HTTP ${answer.status} on ${action} with a body that is not JSON`, {
        status: answer.status,
        action,
        callId,
        attempt: answer.attempt,
      });
    }
    // A Response cannot carry a status beyond 599; such an answer is an error of its own.
    if (answer.status > 599) throw apiError(answer, action, callId);
    const empty = answer.text === "" || [204, 205, 304].includes(answer.status);
    return new Response(empty ? null : answer.text, { status: answer.status, headers: answer.headers });
  };
  return createClient<paths>({ baseUrl: versionedBaseUrl, fetch });
}

const NOT_JSON = Symbol("not JSON");
function parse(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? "");
  } catch {
    return NOT_JSON;
  }
}
