import type { SchemaError } from "../../generated/webhook-validators.js";

/** Where an item broke its schema, readably (`entry[0].changes[0].value.calls[1].session`) and as a JSON pointer. */
export interface SchemaFailure {
  path: string;
  pointer: string;
  /** `Webhook payload does not match the schema at <path>: <rule>`; never a value from the payload. */
  message: string;
}

// Property names of the schema are snake_case; a key of any other form on an error path came from the payload.
const SCHEMA_NAME = /^([a-z][a-z0-9_]*|[0-9]+)$/;
const HIDDEN_KEY = "*";

/**
 * Describes the first error of a validator run on `item` (or, given a string, that rule), which sits at `prefix`
 * in the delivery (numbers are array indexes, strings property names of the schema). Only schema facts are used,
 * never the payload's values, and a key that is the payload's own (a map key such as
 * `request_uri_user_params.<key>`) is shown as `*`.
 */
export function schemaFailure(prefix: readonly (string | number)[], item: unknown, error: SchemaError | string | undefined | null): SchemaFailure {
  let path = "";
  let pointer = "";
  const step = (segment: string | number, index: boolean) => {
    path += index ? `[${segment}]` : `${path === "" ? "" : "."}${segment}`;
    pointer += `/${escapePointer(String(segment))}`;
  };
  for (const segment of prefix) step(segment, typeof segment === "number");
  if (typeof error === "string") return located(path, pointer, error);
  if (!error) return located(path, pointer, "does not match the schema");
  const segments = error.instancePath === "" ? [] : error.instancePath.split("/").slice(1).map(unescapePointer);
  // Under `additionalProperties` (a map such as request_uri_user_params) the failing key is the payload's own.
  const mapKey = /\/additionalProperties\/[^/]+$/.test(error.schemaPath) ? segments.length - 1 : -1;
  let node = item;
  segments.forEach((segment, index) => {
    step(index === mapKey || !SCHEMA_NAME.test(segment) ? HIDDEN_KEY : segment, Array.isArray(node));
    node = Array.isArray(node) ? node[Number(segment)] : isRecord(node) && Object.hasOwn(node, segment) ? node[segment] : undefined;
  });
  const missing = error.keyword === "required" ? error.params["missingProperty"] : undefined;
  if (typeof missing !== "string") return located(path, pointer, describeRule(error));
  step(missing, false);
  return located(path, pointer, "required property is missing");
}

function located(path: string, pointer: string, reason: string): SchemaFailure {
  return { path, pointer, message: `Webhook payload does not match the schema at ${path === "" ? "the top level" : path}: ${reason}` };
}

/** The rule that failed, from the error's keyword and parameters (the validators carry no message texts). */
function describeRule({ keyword, params, message }: SchemaError): string {
  const { type, allowedValue, allowedValues, pattern, limit } = params;
  switch (keyword) {
    case "type":
      return `must be of type ${String(type).replaceAll(",", " or ")}`;
    case "const":
      return `must be ${JSON.stringify(allowedValue)}`;
    case "enum":
      return Array.isArray(allowedValues) ? `must be one of ${allowedValues.map((value) => JSON.stringify(value)).join(", ")}` : "must be one of the allowed values";
    case "pattern":
      return `must match pattern "${String(pattern)}"`;
    case "minLength":
      return `must not have fewer than ${String(limit)} characters`;
    case "maxItems":
      return `must not have more than ${String(limit)} items`;
    case "anyOf":
      return "must match a schema in anyOf";
  }
  return message ?? `breaks the "${keyword}" rule`;
}

const unescapePointer = (segment: string) => segment.replaceAll("~1", "/").replaceAll("~0", "~");
const escapePointer = (segment: string) => segment.replaceAll("~", "~0").replaceAll("/", "~1");

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
