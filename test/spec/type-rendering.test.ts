// How the generated types read (scripts/lib/type-rendering.ts): open enums keep their known literals, and no
// generator leftovers (`& unknown`, a discriminator property added twice) reach generated/openapi.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import openapiTS, { astToString, type OpenAPI3 } from "openapi-typescript";
import { createConfig } from "@redocly/openapi-core";
import { describe, expect, it } from "vitest";
import { postTransform, typesDocument } from "../../scripts/lib/type-rendering.js";
import { repoRoot } from "../../scripts/lib/spec.js";
import type { CallPermissionsResponse } from "../../generated/openapi.js";

async function render(schemas: Record<string, unknown>): Promise<string> {
  const document = { openapi: "3.1.0", info: { title: "t", version: "1" }, paths: {}, components: { schemas } };
  const ast = await openapiTS(typesDocument(document) as unknown as OpenAPI3, {
    redocly: await createConfig({ rules: {} }),
    silent: true,
    postTransform,
  });
  return astToString(ast);
}

/** The rendered line of one schema (or property) name. */
function line(output: string, name: string): string {
  const found = output.split("\n").find((text) => text.trimStart().startsWith(`${name}:`) || text.trimStart().startsWith(`${name}?:`));
  if (!found) throw new Error(`no ${name} in\n${output}`);
  return found.trim();
}

const openEnum = (...values: string[]) => ({ anyOf: [{ type: "string", enum: values }, { type: "string" }] });

describe("open enums", () => {
  it("render as the known literals plus (string & {}), as a schema, a property, an array item and with null", async () => {
    const output = await render({
      Direction: openEnum("USER_INITIATED", "BUSINESS_INITIATED"),
      Item: {
        type: "object",
        properties: {
          status: openEnum("RINGING"),
          codecs: { type: "array", items: openEnum("PCMA", "PCMU") },
          nullable: { anyOf: [{ type: "string", enum: ["A"] }, { type: "string" }, { type: "null" }] },
        },
      },
    });
    expect(line(output, "Direction")).toBe('Direction: "USER_INITIATED" | "BUSINESS_INITIATED" | (string & {});');
    expect(line(output, "status")).toBe('status?: "RINGING" | (string & {});');
    expect(line(output, "codecs")).toBe('codecs?: ("PCMA" | "PCMU" | (string & {}))[];');
    expect(line(output, "nullable")).toBe('nullable?: "A" | (string & {}) | null;');
  });

  it("leave closed enums (requests) and plain strings alone", async () => {
    const output = await render({
      Closed: { type: "string", enum: ["ENABLED", "DISABLED"] },
      Plain: { type: "string" },
      Mixed: { type: ["string", "integer"] },
    });
    expect(line(output, "Closed")).toBe('Closed: "ENABLED" | "DISABLED";');
    expect(line(output, "Plain")).toBe("Plain: string;");
    expect(line(output, "Mixed")).toBe("Mixed: string | number;");
  });
});

describe("generator leftovers", () => {
  it("drops the unknown of constraint-only members (not, if/then) from intersections", async () => {
    const output = await render({
      Sdp: { type: "string" },
      AnswerSdp: { allOf: [{ $ref: "#/components/schemas/Sdp" }, { not: { type: "string", pattern: "x" } }] },
      Change: {
        type: "object",
        properties: { field: { type: "string" } },
        allOf: [
          { if: { properties: { field: { const: "a" } } }, then: { required: ["field"] } },
          { if: { properties: { field: { const: "b" } } }, then: { required: ["field"] } },
        ],
      },
      OnlyConstraints: { allOf: [{ not: { type: "string" } }, { not: { type: "number" } }] },
    });
    expect(line(output, "AnswerSdp")).toBe('AnswerSdp: components["schemas"]["Sdp"];');
    expect(output).toMatch(/Change: \{\n\s+field\?: string;\n\s+\};/);
    expect(line(output, "OnlyConstraints")).toBe("OnlyConstraints: unknown;");
    expect(output).not.toContain("& unknown");
  });

  it("keeps a union member of an intersection in parentheses", async () => {
    const output = await render({
      Common: { type: "object", properties: { a: { type: "string" } } },
      Either: {
        allOf: [
          { $ref: "#/components/schemas/Common" },
          { anyOf: [{ type: "object", required: ["x"], properties: { x: { type: "string" } } }, { type: "object", required: ["y"], properties: { y: { type: "string" } } }] },
          { not: { required: ["z"] } },
        ],
      },
    });
    expect(output).toMatch(/Either: components\["schemas"\]\["Common"\] & \(\{\n\s+x: string;\n\s+\} \| \{\n\s+y: string;\n\s+\}\);/);
  });

  it("declares a discriminated variant's discriminator once, as its own const", async () => {
    const output = await render({
      A: { type: "object", required: ["kind"], properties: { kind: { type: "string", const: "a" } } },
      B: { allOf: [{ type: "object", required: ["kind"], properties: { kind: { type: "string", const: "b" } } }] },
      AorB: {
        oneOf: [{ $ref: "#/components/schemas/A" }, { $ref: "#/components/schemas/B" }],
        discriminator: { propertyName: "kind", mapping: { a: "#/components/schemas/A", b: "#/components/schemas/B" } },
      },
    });
    expect(output).not.toContain("added by openapi-typescript");
    expect(output.match(/kind: "b"/g)).toHaveLength(1);
    expect(line(output, "AorB")).toBe('AorB: components["schemas"]["A"] | components["schemas"]["B"];');
  });

  it("typesDocument removes discriminator objects only, not a property named discriminator", () => {
    const document = {
      components: {
        schemas: {
          X: { oneOf: [], discriminator: { propertyName: "kind" } },
          Y: { type: "object", properties: { discriminator: { type: "string" } } },
        },
      },
    };
    expect(typesDocument(document)).toEqual({
      components: { schemas: { X: { oneOf: [] }, Y: { type: "object", properties: { discriminator: { type: "string" } } } } },
    });
    expect(document.components.schemas.X).toHaveProperty("discriminator");
  });

  it("none of them is in generated/openapi.ts", () => {
    const generated = readFileSync(join(repoRoot, "generated", "openapi.ts"), "utf8");
    expect(generated).not.toMatch(/&\s*\(?unknown\b/);
    expect(generated).not.toContain("added by openapi-typescript");
    expect(generated).not.toContain("replaced by openapi-typescript");
    // A literal united with plain `string` is a collapsed open enum.
    expect(generated).not.toMatch(/"[^"\n]*"\)? \| string\b/);
    expect(generated).toContain('status: "no_permission" | "temporary" | "permanent" | (string & {});');
  });
});

// Checked by `npm run typecheck`: the open enum takes its known values and any other string, nothing else.
type PermissionStatus = CallPermissionsResponse["permission"]["status"];
const known: PermissionStatus = "temporary";
const later: PermissionStatus = "granted";
// @ts-expect-error -- not a string
const wrong: PermissionStatus = 1;
void [known, later, wrong];
