/**
 * Checks a value against the JSON Schema subset the webhook schemas of openapi.yaml use, with the schemas as
 * data (generated/webhook-validators.ts). Each schema is turned into a closure once; a check allocates nothing
 * unless it fails, and then reports the first problem the way ajv does (`instancePath`, `keyword`, `params`),
 * so the two agree (test/spec/schemas.test.ts compares them). Keywords: type, const, enum, pattern, minLength,
 * maxItems, required, properties, additionalProperties, items, anyOf, allOf, not, $ref. scripts/generate.ts
 * refuses a webhook schema that uses any other.
 *
 * Why not ajv's standalone code, as for the request validators: the same checks as ajv code are ~50 kB
 * minified, most of /webhooks; as data and this file they are a fraction of that.
 */

/** One problem found by a validator: `instancePath` is a JSON pointer into the checked value. */
export interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** A validator of one schema. After a failed call, `errors[0]` is the first problem. */
export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: SchemaError[] | null;
}

/** A schema as generated/webhook-validators.ts holds it: `$ref` names another schema of the same table. */
export type SchemaData = { readonly [keyword: string]: unknown };

type Check = (data: unknown) => SchemaError | undefined;

/** A validator for `name` of `schemas`; the table's schemas are compiled once, on first use. */
export function schemaValidator(schemas: Readonly<Record<string, SchemaData>>, name: string): SchemaValidator {
  const compiled = new Map<string, Check>();
  const byName = (ref: string): Check => {
    let check = compiled.get(ref);
    if (!check) {
      const schema = schemas[ref];
      if (!schema) throw new Error(`no schema ${ref}`);
      // Set before compiling, so that a schema that refers to itself finds its own (late-bound) check.
      let inner: Check | undefined;
      compiled.set(ref, (data) => (inner ??= compile(schema, byName))(data));
      inner = compile(schema, byName);
      check = compiled.get(ref)!;
    }
    return check;
  };
  let root: Check | undefined;
  const validate: SchemaValidator = (data) => {
    const error = (root ??= byName(name))(data);
    validate.errors = error ? [error] : null;
    return error === undefined;
  };
  return validate;
}

const fail = (keyword: string, params: Record<string, unknown>): SchemaError => ({ instancePath: "", schemaPath: `/${keyword}`, keyword, params });

/** The error of a child at `segment` (a property or an index), under the schema keyword `via`. */
function below(error: SchemaError, segment: string | number | undefined, via: string): SchemaError {
  if (segment !== undefined) error.instancePath = `/${String(segment).replaceAll("~", "~0").replaceAll("/", "~1")}${error.instancePath}`;
  error.schemaPath = `${via}${error.schemaPath}`;
  return error;
}

function typeOk(type: string, data: unknown): boolean {
  switch (type) {
    case "string":
      return typeof data === "string";
    case "object":
      return typeof data === "object" && data !== null && !Array.isArray(data);
    case "array":
      return Array.isArray(data);
    case "number":
      return typeof data === "number" && Number.isFinite(data);
    case "integer":
      return typeof data === "number" && Number.isInteger(data);
    case "boolean":
      return typeof data === "boolean";
    case "null":
      return data === null;
    default:
      return false;
  }
}

function compile(schema: SchemaData, byName: (ref: string) => Check): Check {
  const checks: Check[] = [];
  const ref = schema["$ref"];
  if (typeof ref === "string") checks.push(byName(ref));
  const type = schema["type"];
  if (type !== undefined) {
    const types = Array.isArray(type) ? (type as string[]) : [type as string];
    checks.push(types.length === 1 ? (data) => (typeOk(types[0]!, data) ? undefined : fail("type", { type: types[0] })) : (data) => (types.some((one) => typeOk(one, data)) ? undefined : fail("type", { type: types })));
  }
  if ("const" in schema) {
    const allowedValue = schema["const"];
    checks.push((data) => (data === allowedValue ? undefined : fail("const", { allowedValue })));
  }
  const allowedValues = schema["enum"] as unknown[] | undefined;
  if (allowedValues) checks.push((data) => (allowedValues.includes(data) ? undefined : fail("enum", { allowedValues })));
  const anyOf = (schema["anyOf"] as SchemaData[] | undefined)?.map((branch) => compile(branch, byName));
  if (anyOf) {
    // Like ajv, the first problem reported is the first branch's (it says more than "matches no branch").
    checks.push((data) => {
      let first: SchemaError | undefined;
      for (let index = 0; index < anyOf.length; index++) {
        const error = anyOf[index]!(data);
        if (!error) return undefined;
        first ??= below(error, undefined, `/anyOf/${index}`);
      }
      return first;
    });
  }
  const allOf = (schema["allOf"] as SchemaData[] | undefined)?.map((branch) => compile(branch, byName));
  if (allOf) {
    checks.push((data) => {
      for (let index = 0; index < allOf.length; index++) {
        const error = allOf[index]!(data);
        if (error) return below(error, undefined, `/allOf/${index}`);
      }
      return undefined;
    });
  }
  const not = schema["not"] as SchemaData | undefined;
  if (not) {
    const negated = compile(not, byName);
    checks.push((data) => (negated(data) === undefined ? fail("not", {}) : undefined));
  }
  const pattern = schema["pattern"];
  if (typeof pattern === "string") {
    const regExp = new RegExp(pattern, "u");
    checks.push((data) => (typeof data !== "string" || regExp.test(data) ? undefined : fail("pattern", { pattern })));
  }
  const minLength = schema["minLength"];
  if (typeof minLength === "number") {
    // Code points, as JSON Schema counts them (and ajv's ucs2length).
    checks.push((data) => (typeof data !== "string" || data.length >= minLength * 2 || [...data].length >= minLength ? undefined : fail("minLength", { limit: minLength })));
  }
  const maxItems = schema["maxItems"];
  if (typeof maxItems === "number") checks.push((data) => (!Array.isArray(data) || data.length <= maxItems ? undefined : fail("maxItems", { limit: maxItems })));
  const items = schema["items"] as SchemaData | undefined;
  if (items) {
    const item = compile(items, byName);
    checks.push((data) => {
      if (!Array.isArray(data)) return undefined;
      for (let index = 0; index < data.length; index++) {
        const error = item(data[index]);
        if (error) return below(error, index, "/items");
      }
      return undefined;
    });
  }
  const required = schema["required"] as string[] | undefined;
  if (required && required.length > 0) {
    checks.push((data) => {
      if (!typeOk("object", data)) return undefined;
      for (const property of required) {
        if ((data as Record<string, unknown>)[property] === undefined) return fail("required", { missingProperty: property });
      }
      return undefined;
    });
  }
  const properties = Object.entries((schema["properties"] as Record<string, SchemaData> | undefined) ?? {}).map(
    ([property, subschema]) => [property, compile(subschema, byName)] as const,
  );
  if (properties.length > 0) {
    checks.push((data) => {
      if (!typeOk("object", data)) return undefined;
      for (const [property, check] of properties) {
        const value = (data as Record<string, unknown>)[property];
        if (value === undefined) continue;
        const error = check(value);
        if (error) return below(error, property, `/properties/${property}`);
      }
      return undefined;
    });
  }
  const additional = schema["additionalProperties"];
  if (typeof additional === "object" && additional !== null) {
    const known = new Set(properties.map(([property]) => property));
    const check = compile(additional as SchemaData, byName);
    checks.push((data) => {
      if (!typeOk("object", data)) return undefined;
      for (const property of Object.keys(data as object)) {
        if (known.has(property)) continue;
        const error = check((data as Record<string, unknown>)[property]);
        if (error) return below(error, property, "/additionalProperties");
      }
      return undefined;
    });
  }
  if (checks.length === 0) return () => undefined;
  if (checks.length === 1) return checks[0]!;
  return (data) => {
    for (let index = 0; index < checks.length; index++) {
      const error = checks[index]!(data);
      if (error) return error;
    }
    return undefined;
  };
}
