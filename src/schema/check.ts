/**
 * Checks a value against the JSON Schema subset openapi.yaml uses, with the schemas as data
 * (generated/request-validators.ts, generated/webhook-validators.ts). Each schema is turned into a closure once; a
 * check allocates nothing unless it fails, and then reports the first problem as ajv does (`instancePath`,
 * `keyword`, `params`), in ajv's order, so the two agree (test/spec/schemas.test.ts compares them).
 *
 * Each keyword but `type` is an export of its own, `<keyword>Keyword`, and a generated table passes the ones its
 * schemas use: /webhooks does not carry the keywords only the request schemas use. scripts/generate.ts refuses a
 * keyword not in SCHEMA_KEYWORDS.
 *
 * Why not ajv's standalone code: the same checks as ajv code were ~50 kB minified for the webhooks and ~67 kB for
 * the requests; as data and this file they are a fraction of that.
 */

/** The keywords implemented here, in the order ajv checks them (`if` goes with `then`). */
export const SCHEMA_KEYWORDS = [
  "type", "$ref", "const", "enum", "not", "anyOf", "allOf", "if", "then", "maximum", "minimum", "maxLength", "minLength", "pattern",
  "maxItems", "minItems", "items", "contains", "uniqueItems", "required", "propertyNames", "additionalProperties", "properties",
] as const;

/**
 * The annotation of openapi.yaml that words the failure of a `not` beside it (`x-message`, what an SDP of the
 * wrong kind is), kept in the generated tables: the client's and the sandbox's errors say it in place of ajv's
 * "must NOT be valid".
 */
export const MESSAGE_KEY = "x-message";

/** One problem found by a validator: `instancePath` is a JSON pointer into the checked value. */
export interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  /** The `x-message` of the schema of a failed `not`, when it has one. */
  message?: string;
}

/** A validator of one schema. After a failed call, `errors[0]` is the first problem. */
export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: SchemaError[] | null;
}

/** A schema as the generated tables hold it: `$ref` names another schema of the same table. */
export type SchemaData = { readonly [keyword: string]: unknown } | boolean;

type Check = (data: unknown) => SchemaError | undefined;
type Compiler = { sub: (schema: SchemaData) => Check; ref: (name: string) => Check };

/**
 * A keyword: how its check is made from its value (and its schema), and the type of data it applies to, as ajv
 * groups keywords (a group runs only on data of its type; keywords of any type run first).
 */
export interface Keyword {
  readonly group?: "number" | "string" | "array" | "object";
  readonly make: (value: any, schema: Record<string, any>, compiler: Compiler) => Check;
}

/** A validator for `name` of `schemas`, with `keywords` in ajv's order; compiled once, with what it refers to, on first use. */
export function schemaValidator(schemas: Readonly<Record<string, SchemaData>>, keywords: Readonly<Record<string, Keyword>>, name: string): SchemaValidator {
  const compiled = new Map<string, Check>();
  const compiler: Compiler = {
    sub: (schema) => compile(schema, keywords, compiler),
    ref: (ref) => {
      const done = compiled.get(ref);
      if (done) return done;
      const schema = schemas[ref];
      if (schema === undefined) throw new Error(`no schema ${ref}`);
      // While it compiles, a schema that refers to itself finds a late-bound check; every other reference gets
      // the compiled check itself, with no call in between (a connect item has nine references).
      let inner: Check | undefined;
      compiled.set(ref, (data) => inner!(data));
      inner = compiler.sub(schema);
      compiled.set(ref, inner);
      return inner;
    },
  };
  let root: Check | undefined;
  const validate: SchemaValidator = (data) => {
    const error = (root ??= compiler.ref(name))(data);
    validate.errors = error ? [error] : null;
    return !error;
  };
  return validate;
}

/**
 * A generated file's schemas and keywords, and the validators compiled from them so far. The schemas come as
 * JSON text, parsed on the first check: V8 scans a string literal faster than it parses the same object literal,
 * and an import then makes none of its objects (1.5 ms less of a cold import for the two tables, BENCHMARKS.md).
 */
export interface SchemaTable {
  readonly json: string;
  schemas?: Readonly<Record<string, SchemaData>>;
  readonly keywords: Readonly<Record<string, Keyword>>;
  readonly compiled: Record<string, SchemaValidator>;
}

/**
 * Checks `data` against schema `name` of `table`, compiled on first use, and leaves the errors on `validator`, as
 * ajv's validators do. The generated validators are arrow functions that call this rather than values made at
 * import, so that their files make no call at the top level: dist/ is minified, which drops `@__PURE__`, and a
 * bundle that uses none of them (./media, from the chunk it shares with the client) then drops them all.
 */
export function validateWith(table: SchemaTable, validator: SchemaValidator, name: string, data: unknown): boolean {
  const inner = (table.compiled[name] ??= schemaValidator((table.schemas ??= JSON.parse(table.json)), table.keywords, name));
  const valid = inner(data);
  validator.errors = inner.errors;
  return valid;
}

const fail = (keyword: string, params: Record<string, unknown>): SchemaError => ({ instancePath: "", schemaPath: `/${keyword}`, keyword, params });

/** The error of a child at `segment` (a property or an index), under the schema keyword `via`. */
function below(error: SchemaError, segment: string | number | undefined, via: string): SchemaError {
  if (segment !== undefined) error.instancePath = `/${String(segment).replaceAll("~", "~0").replaceAll("/", "~1")}${error.instancePath}`;
  error.schemaPath = `${via}${error.schemaPath}`;
  return error;
}

/**
 * Each JSON type as a bit, `1 << its index` (an integer is also a number; NaN and the infinities are neither; a
 * type not listed gets a bit no value has), so that a schema's types are tested by one `&`, with no call.
 */
const TYPES = ["string", "boolean", "number", "integer", "null", "array", "object"];
const bitsOf = (types: string[]) => types.reduce((bits, type) => bits | (1 << TYPES.indexOf(type)), 0);
const typeBits = (data: unknown): number =>
  typeof data === "string" ? 1
  : typeof data === "boolean" ? 2
  : typeof data === "number" ? (Number.isInteger(data) ? 12 : Number.isFinite(data) ? 4 : 0)
  : data === null ? 16
  : Array.isArray(data) ? 32
  : typeof data === "object" ? 64
  : 0;

/** The check of a schema that holds in every case ({}, true): left out of sequences. */
const PASS: Check = () => undefined;

/**
 * The checks of schemas that are only a type, by their type bits: `properties` tests such a child with the bits
 * rather than a call (most properties of the webhook items are one; the calls were most of a check's time).
 */
const TYPE_ONLY = new WeakMap<Check, number>();

/** The checks in order; the first problem wins. */
function sequence(checks: Check[]): Check {
  checks = checks.filter((check) => check !== PASS);
  if (checks.length < 2) return checks[0] ?? PASS;
  return (data) => {
    for (let index = 0; index < checks.length; index++) {
      const error = checks[index]!(data);
      if (error) return error;
    }
    return undefined;
  };
}

// A string's length as JSON Schema counts it (and ajv's ucs2length): in code points. A code point is one or two
// UTF-16 units, so the units decide unless the text is between the limit and twice it; only then are the code
// points counted (an SDP of 1,700 units against minLength 1 is never spread into an array).
const atMost = (text: string, limit: number) => text.length <= limit || (text.length <= 2 * limit && [...text].length <= limit);
const atLeast = (text: string, limit: number) => text.length >= 2 * limit || (text.length >= limit && [...text].length >= limit);

/**
 * The type first, then the keywords of any type, then each group on data of its type. (ajv checks a lone type
 * after the keywords of any type when its group has keywords; no schema of openapi.yaml makes that visible.)
 */
function compile(schema: SchemaData, keywords: Readonly<Record<string, Keyword>>, compiler: Compiler): Check {
  if (typeof schema === "boolean") return schema ? PASS : () => fail("false schema", {});
  const s = schema as Record<string, any>;
  const any: Check[] = [];
  const types: string[] = [s["type"] ?? []].flat();
  const bits = bitsOf(types);
  if (types.length > 0) any.push((data) => (typeBits(data) & bits ? undefined : fail("type", { type: s["type"] })));
  const groups: Record<string, Check[]> = { number: [], string: [], array: [], object: [] };
  for (const [keyword, { group, make }] of Object.entries(keywords)) {
    if (s[keyword] !== undefined) (group ? groups[group]! : any).push(make(s[keyword], s, compiler));
  }
  if (any.length === 1 && Object.values(groups).every((group) => group.length === 0)) TYPE_ONLY.set(any[0]!, bits);
  for (const [type, group] of Object.entries(groups)) {
    if (group.length === 0) continue;
    const all = sequence(group);
    // Under one type that implies the group's (an integer is a number), the type check before has held already.
    const implied = types.length === 1 && (types[0] === type || (type === "number" && types[0] === "integer"));
    const inGroup = bitsOf([type]);
    any.push(implied ? all : (data) => (typeBits(data) & inGroup ? all(data) : undefined));
  }
  return sequence(any);
}

export const refKeyword: Keyword = { make: (name, _, { ref }) => ref(name) };
// The keywords are object literals, with no call at the top level: dist/ is minified, which drops `@__PURE__`, and
// such a call would keep every keyword in a bundle that uses a few. A helper is called inside `make` instead.
export const constKeyword: Keyword = { make: (value) => (data) => (data === value ? undefined : fail("const", { allowedValue: value })) };
export const enumKeyword: Keyword = { make: (value: unknown[]) => (data) => (value.includes(data) ? undefined : fail("enum", { allowedValues: value })) };
export const notKeyword: Keyword = {
  make: (value, schema, { sub }) => {
    const negated = sub(value);
    const message = schema[MESSAGE_KEY] as string | undefined;
    return (data) => (negated(data) ? undefined : message === undefined ? fail("not", {}) : { ...fail("not", {}), message });
  },
};
/** Like ajv, the first problem reported is the first branch's (it says more than "matches no branch"). */
export const anyOfKeyword: Keyword = {
  make: (value: SchemaData[], _, { sub }) => {
    const branches = value.map(sub);
    return (data) => {
      let first: SchemaError | undefined;
      for (let index = 0; index < branches.length; index++) {
        const error = branches[index]!(data);
        if (!error) return undefined;
        first ??= below(error, undefined, `/anyOf/${index}`);
      }
      return first;
    };
  },
};
export const allOfKeyword: Keyword = {
  make: (value: SchemaData[], _, { sub }) => {
    const branches = value.map(sub);
    return (data) => {
      for (let index = 0; index < branches.length; index++) {
        const error = branches[index]!(data);
        if (error) return below(error, undefined, `/allOf/${index}`);
      }
      return undefined;
    };
  },
};
/** `then`, when the schema's `if` holds. */
export const thenKeyword: Keyword = {
  make: (value, schema, { sub }) => {
    const [condition, then] = [sub(schema["if"]), sub(value)];
    return (data) => {
      const error = condition(data) ? undefined : then(data);
      return error && below(error, undefined, "/then");
    };
  },
};
/**
 * The check of a limit keyword: `{ ...params, limit }` unless `ok(data, limit)`. A keyword of a `group` is only
 * applied to data of that type, hence `data: any`.
 */
const limited = (keyword: string, limit: number, ok: (data: any, limit: number) => boolean, params?: Record<string, unknown>): Check =>
  (data) => (ok(data, limit) ? undefined : fail(keyword, { ...params, limit }));
export const maximumKeyword: Keyword = { group: "number", make: (limit) => limited("maximum", limit, (data, max) => data <= max, { comparison: "<=" }) };
export const minimumKeyword: Keyword = { group: "number", make: (limit) => limited("minimum", limit, (data, min) => data >= min, { comparison: ">=" }) };
export const maxLengthKeyword: Keyword = { group: "string", make: (limit) => limited("maxLength", limit, atMost) };
export const minLengthKeyword: Keyword = { group: "string", make: (limit) => limited("minLength", limit, atLeast) };
export const patternKeyword: Keyword = {
  group: "string",
  make: (pattern) => {
    const regExp = new RegExp(pattern, "u");
    return (data) => (regExp.test(data as string) ? undefined : fail("pattern", { pattern }));
  },
};
export const maxItemsKeyword: Keyword = { group: "array", make: (limit) => limited("maxItems", limit, (data, max) => data.length <= max) };
export const minItemsKeyword: Keyword = { group: "array", make: (limit) => limited("minItems", limit, (data, min) => data.length >= min) };
/**
 * Checked after `items`, whose scalar type scripts/generate.ts requires: equal items are identical values. As ajv
 * reports it, `j` is the later of the two.
 */
export const uniqueItemsKeyword: Keyword = {
  group: "array",
  make: () => (data) => {
    const seen = new Map<unknown, number>();
    for (let i = (data as unknown[]).length; i--; ) {
      const item = (data as unknown[])[i];
      const j = seen.get(item);
      if (j !== undefined) return fail("uniqueItems", { i, j });
      seen.set(item, i);
    }
    return undefined;
  },
};
export const itemsKeyword: Keyword = {
  group: "array",
  make: (value, _, { sub }) => {
    const item = sub(value);
    return (data) => {
      for (let index = 0; index < (data as unknown[]).length; index++) {
        const error = item((data as unknown[])[index]);
        if (error) return below(error, index, "/items");
      }
      return undefined;
    };
  },
};
/** Like ajv, the first problem reported is the first item's, or `contains` itself for an empty array. */
export const containsKeyword: Keyword = {
  group: "array",
  make: (value, _, { sub }) => {
    const item = sub(value);
    return (data) => {
      let first: SchemaError | undefined;
      for (let index = 0; index < (data as unknown[]).length; index++) {
        const error = item((data as unknown[])[index]);
        if (!error) return undefined;
        first ??= below(error, index, "/contains");
      }
      return first ?? fail("contains", { minContains: 1 });
    };
  },
};
export const requiredKeyword: Keyword = {
  group: "object",
  make: (required: string[]) => (data) => {
    for (let index = 0; index < required.length; index++) {
      if ((data as Record<string, unknown>)[required[index]!] === undefined) return fail("required", { missingProperty: required[index] });
    }
    return undefined;
  },
};
/** Like ajv, a bad name is reported at the object's path: the name itself comes from the payload. */
export const propertyNamesKeyword: Keyword = {
  group: "object",
  make: (value, _, { sub }) => {
    const name = sub(value);
    return (data) => {
      for (const key of Object.keys(data as object)) {
        const error = name(key);
        if (error) return below(error, undefined, "/propertyNames");
      }
      return undefined;
    };
  },
};
export const additionalPropertiesKeyword: Keyword = {
  group: "object",
  make: (value, schema, { sub }) => {
    const known = new Set(Object.keys(schema["properties"] ?? {}));
    const check = sub(value);
    return (data) => {
      for (const property of Object.keys(data as object)) {
        const error = known.has(property) ? undefined : check((data as Record<string, unknown>)[property]);
        if (error) return value === false ? fail("additionalProperties", { additionalProperty: property }) : below(error, property, "/additionalProperties");
      }
      return undefined;
    };
  },
};
export const propertiesKeyword: Keyword = {
  group: "object",
  make: (value: Record<string, SchemaData>, _, { sub }) => {
    // Arrays and an index, not entries destructured in a for-of: this loop runs for every object checked. A child
    // whose schema is only a type is tested by its bits, and its check is called only to report the problem.
    const names = Object.keys(value);
    const checks = names.map((property) => sub(value[property]!));
    const leaves = checks.map((check) => TYPE_ONLY.get(check) ?? 0);
    return (data) => {
      for (let index = 0; index < names.length; index++) {
        const child = (data as Record<string, unknown>)[names[index]!];
        if (child === undefined) continue;
        const leaf = leaves[index]!;
        const error = leaf && typeBits(child) & leaf ? undefined : checks[index]!(child);
        if (error) return below(error, names[index], `/properties/${names[index]}`);
      }
      return undefined;
    };
  },
};
