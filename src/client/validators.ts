// The request validators the client checks bodies with, imported in this one place, and how a failed check reads.
import { WhatsAppValidationError } from "../errors.js";
import type { SchemaError, SchemaValidator } from "../schema/check.js";
import {
  validateAcceptCallRequest,
  validateCallPermissionRequestMessage,
  validateConnectCallRequest,
  validateGetCallPermissionsQuery,
  validatePreAcceptCallRequest,
  validateRejectCallRequest,
  validateTerminateCallRequest,
  validateUpdateSettingsRequest,
  validateVoiceCallButtonMessage,
} from "../../generated/request-validators.js";

/** The validator of each action's body, by the action's name in logs and errors (the sandbox checks with them too). */
export const REQUEST_VALIDATORS = {
  connect: validateConnectCallRequest,
  pre_accept: validatePreAcceptCallRequest,
  accept: validateAcceptCallRequest,
  reject: validateRejectCallRequest,
  terminate: validateTerminateCallRequest,
  updateCallingSettings: validateUpdateSettingsRequest,
  sendCallPermissionRequest: validateCallPermissionRequestMessage,
  sendCallButton: validateVoiceCallButtonMessage,
  // A query is checked as a body is: its parameters as one object.
  getCallPermissions: validateGetCallPermissionsQuery,
} as const satisfies Record<string, SchemaValidator>;

// ajv's words for each rule, which the client's messages have always used; `$x` is the error's parameter x. No
// parameter is a value of the checked body.
const RULES: Readonly<Record<string, string>> = {
  type: "must be $type",
  const: "must be equal to constant",
  enum: "must be equal to one of the allowed values",
  pattern: 'must match pattern "$pattern"',
  minLength: "must NOT have fewer than $limit characters",
  maxLength: "must NOT have more than $limit characters",
  minItems: "must NOT have fewer than $limit items",
  maxItems: "must NOT have more than $limit items",
  minimum: "must be $comparison $limit",
  maximum: "must be $comparison $limit",
  uniqueItems: "must NOT have duplicate items (items ## $j and $i are identical)",
  required: "must have required property '$missingProperty'",
  additionalProperties: "must NOT have additional properties",
  contains: "must contain at least $minContains valid item(s)",
  not: "must NOT be valid",
};

/**
 * The rule a schema error says was broken: the `x-message` of the schema in openapi.yaml when it has one (what
 * an SDP's `not` means: an offer where an answer belongs, or the other way round), else ajv's words for the
 * keyword (`must NOT have more than 512 characters`).
 */
export function ruleOf(error: SchemaError | undefined): string {
  if (error?.message) return error.message;
  const rule = error && RULES[error.keyword];
  return rule ? rule.replace(/\$(\w+)/g, (_, name: string) => String(error.params[name])) : "is not valid";
}

/** Refuses a body its action's validator rejects, naming the field and the rule, never the value (an SDP carries ICE passwords). */
export function checkBody(action: string, body: unknown): void {
  const validator = (REQUEST_VALIDATORS as Record<string, SchemaValidator>)[action];
  if (!validator || validator(body)) return;
  const first = validator.errors?.[0];
  const path = first?.instancePath ?? "";
  const field = path === "" ? "the request" : path.slice(1).replaceAll("/", ".");
  throw new WhatsAppValidationError(`Invalid ${action} request: ${field} ${ruleOf(first)}`, { path, action });
}
