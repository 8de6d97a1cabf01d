// How the sandbox refuses a request: Meta's Graph error envelope, with the code from the catalogue of
// openapi.yaml and the HTTP status a real number answers with (calling-api.md §4.2).
import { ERROR_CATALOGUE } from "../../../generated/error-catalogue.js";
import type { GraphErrorResponse } from "../../../generated/openapi.js";

/** The HTTP status of each code the sandbox refuses with; every other code is a 400. */
const HTTP_STATUS: Readonly<Record<number, number>> = {
  190: 401,
  138000: 401,
  138006: 401,
  138002: 429,
  138005: 429,
  613: 429,
  1: 500,
  138004: 500,
};

/** A refusal: what the route answers instead of the success body. */
export interface Refusal {
  readonly status: number;
  readonly body: GraphErrorResponse;
}

let traces = 0;

/**
 * The envelope for `code`, with the catalogue's title as Meta's text, `details` in `error_data` and Graph's
 * `error_subcode` when one is given (33: no such object).
 */
export function refusal(code: number, details?: string, message?: string, subcode?: number): Refusal {
  const title = message ?? ERROR_CATALOGUE[code]?.title ?? "Calling error";
  traces += 1;
  return {
    status: HTTP_STATUS[code] ?? 400,
    body: {
      error: {
        message: code === 190 ? title : `(#${code}) ${title}`,
        type: "OAuthException",
        code,
        ...(subcode === undefined ? {} : { error_subcode: subcode }),
        ...(details === undefined ? {} : { error_data: { messaging_product: "whatsapp", details } }),
        fbtrace_id: `Sandbox${String(traces).padStart(6, "0")}`,
      },
    },
  };
}

/** Code 100 naming the JSON path of the first problem, as the generated validator found it. */
export function invalidParameter(path: string, problem: string): Refusal {
  return refusal(100, `Invalid parameter ${path || "(body)"}: ${problem}`, "Invalid parameter");
}

/** A JSON pointer (`/session/sdp`) as the dotted path Meta's details use (`session.sdp`). */
export function dottedPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
}
