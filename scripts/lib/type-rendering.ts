// How openapi.yaml's schemas read as TypeScript: a postTransform for openapi-typescript that cleans the types a
// user sees in a tooltip. It works on the type nodes openapi-typescript builds, never on the printed text.
//
//  * Open enums. openapi.yaml writes a value Meta may extend (a response or webhook enum) as
//      anyOf: [{ type: string, enum: [KNOWN, VALUES] }, { type: string }]
//    openapi-typescript renders that as `("KNOWN" | "VALUES") | string`, which TypeScript collapses to `string`:
//    no completion, the known values lost. It becomes `"KNOWN" | "VALUES" | (string & {})`, which keeps the
//    literals for completion and still takes any other string. Request enums stay closed (plain `enum`).
//  * `unknown` in intersections. A schema member that only constrains (an `if`/`then`, a `not`) has no type of its
//    own, so openapi-typescript renders it as `unknown` and intersects it: `Sdp & unknown`,
//    `{ … } & (unknown & unknown)`. `unknown` is the identity of `&`, so those members are dropped.
import ts from "typescript";

const { factory, SyntaxKind } = ts;

/** `string & {}`: any string, without absorbing the literals it is united with. */
export function anyOtherString(): ts.TypeNode {
  return factory.createParenthesizedType(
    factory.createIntersectionTypeNode([factory.createKeywordTypeNode(SyntaxKind.StringKeyword), factory.createTypeLiteralNode([])]),
  );
}

function unwrap(node: ts.TypeNode): ts.TypeNode {
  return ts.isParenthesizedTypeNode(node) ? unwrap(node.type) : node;
}

/** The members of a union or intersection, with nested ones of the same kind (and parentheses) flattened. */
function flatten(node: ts.TypeNode, kind: ts.SyntaxKind.UnionType | ts.SyntaxKind.IntersectionType): ts.TypeNode[] {
  const inner = unwrap(node);
  if (inner.kind !== kind) return [node];
  return (inner as ts.UnionTypeNode | ts.IntersectionTypeNode).types.flatMap((member) => flatten(member, kind));
}

/**
 * A string literal type as openapi-typescript writes it: a LiteralTypeNode, or (its own shortcut) an Identifier
 * whose text is the JSON-quoted value.
 */
function isStringLiteral(node: ts.TypeNode): boolean {
  const inner = unwrap(node);
  if (ts.isLiteralTypeNode(inner)) return ts.isStringLiteral(inner.literal);
  const identifier = inner as unknown as ts.Node;
  return ts.isIdentifier(identifier) && identifier.text.startsWith('"');
}

function isKeyword(node: ts.TypeNode, kind: ts.SyntaxKind): boolean {
  return unwrap(node).kind === kind;
}

/** `… | "A" | string` -> `… | "A" | (string & {})`; undefined when the union has no such pair. */
function openEnum(node: ts.TypeNode): ts.TypeNode | undefined {
  if (!ts.isUnionTypeNode(unwrap(node))) return undefined;
  const members = flatten(node, SyntaxKind.UnionType);
  if (!members.some(isStringLiteral) || !members.some((member) => isKeyword(member, SyntaxKind.StringKeyword))) return undefined;
  const literals = members.filter(isStringLiteral);
  const others = members.filter((member) => !isStringLiteral(member) && !isKeyword(member, SyntaxKind.StringKeyword));
  return factory.createUnionTypeNode([...literals, anyOtherString(), ...others]);
}

/** `A & unknown & (unknown & B)` -> `A & B`; undefined when no member is `unknown`. */
function withoutUnknown(node: ts.TypeNode): ts.TypeNode | undefined {
  if (!ts.isIntersectionTypeNode(unwrap(node))) return undefined;
  const members = flatten(node, SyntaxKind.IntersectionType);
  const kept = members.filter((member) => !isKeyword(member, SyntaxKind.UnknownKeyword));
  if (kept.length === members.length) return undefined;
  if (kept.length === 0) return factory.createKeywordTypeNode(SyntaxKind.UnknownKeyword);
  if (kept.length === 1) return kept[0];
  // A union member of an intersection needs its parentheses back.
  return factory.createIntersectionTypeNode(
    kept.map((member) => (ts.isUnionTypeNode(unwrap(member)) ? factory.createParenthesizedType(unwrap(member)) : member)),
  );
}

/** openapi-typescript's `postTransform` option: called for every schema it renders, innermost first. */
export function postTransform(type: ts.TypeNode): ts.TypeNode | undefined {
  const cleaned = withoutUnknown(type) ?? type;
  return openEnum(cleaned) ?? (cleaned === type ? undefined : cleaned);
}

/**
 * The document openapi-typescript is given: openapi.yaml without its `discriminator` objects. Each variant of a
 * discriminated union already declares its discriminator as a `const` (`action: "connect"`), which is all that
 * TypeScript needs to narrow; with the discriminator present openapi-typescript adds the property a second time,
 * as `& { action: "connect" }` with the tooltip "discriminator enum property added by openapi-typescript".
 */
export function typesDocument<T>(document: T): T {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== "object") return node;
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      const isDiscriminator =
        key === "discriminator" && value !== null && typeof value === "object" && "propertyName" in value;
      if (!isDiscriminator) copy[key] = strip(value);
    }
    return copy;
  };
  return strip(document) as T;
}
