// npm run docs: writes docs/index.html, a single self-contained page (Redoc inlined, no CDN) rendered from
// openapi.yaml. What lives in extensions is not written twice: in a temporary copy of the document, the
// x-error-catalogue becomes the table of an "Error codes" tag, every x-sources-disagree note a row of a
// "Where sources disagree" tag, and the x-api-versions changelog a "Graph API versions" tag.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { loadSpec, repoRoot, specPath, type ErrorCatalogueEntry, type OpenApiDocument } from "./lib/spec.js";

export const ERROR_CODES_TAG = "Error codes";
export const DISAGREEMENTS_TAG = "Where sources disagree";
export const VERSIONS_TAG = "Graph API versions";
export const DISAGREEMENT_KEY = "x-sources-disagree";
/** A description that records a choice between sources says so ("calling-api.md, sources disagree #7"). */
const MENTIONS_DISAGREEMENT = /sources disagree/i;
/** The notes shown on that page: x-sources-disagree, the x-decision-… notes, and descriptions citing a disagreement. */
export const isDisagreementKey = (key: string) => key === DISAGREEMENT_KEY || /^x-decision(-[a-z0-9-]+)?$/.test(key);
export const defaultDocsPath = join(repoRoot, "docs", "index.html");

/** Redocly must not phone home or print update notices, in CI or anywhere else. */
export const REDOCLY_ENV = { REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" } as const;

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** The x-error-catalogue extension as a markdown table, one row per code, in the document's order. */
export function errorCatalogueMarkdown(spec: OpenApiDocument): string {
  const catalogue = spec["x-error-catalogue"];
  const yesNo = (value: boolean) => (value ? "yes" : "no");
  const rows = catalogue.codes.map(
    (entry: ErrorCatalogueEntry) =>
      `| \`${entry.code}\` | ${cell(entry.title)} | \`${entry.category}\` | ${yesNo(entry.retryable)} | ` +
      `${yesNo(entry.token_refresh)} | ${cell(entry.description)} |`,
  );
  return [
    catalogue.description,
    "",
    "The client's `WhatsAppApiError` carries the same `category` and `retryable` values, generated from this table.",
    "",
    "| code | title | category | retryable | token refresh | meaning |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);
/** Schema keywords that only lead to a subschema: left out of a note's place. */
const PASS_THROUGH = new Set(["properties", "allOf", "anyOf", "oneOf", "then", "else", "if", "not", "content", "schema"]);

export interface Disagreement {
  /** Where the note stands, for people: `GET /{phone-number-id}/settings`, `CallingSettingsUpdate.sip.servers[]`. */
  where: string;
  choice: string;
}

/** A note's place in the document, from its path of keys. */
function placeOf(keys: string[]): string {
  let head = "";
  let rest = keys;
  if (keys[0] === "paths" || keys[0] === "webhooks") {
    const method = keys.findIndex((key) => HTTP_METHODS.has(key));
    head = method > 0 ? `${keys[method]!.toUpperCase()} ${keys[1]}` : keys[1]!;
    if (keys[0] === "webhooks") head = `webhook ${head}`;
    rest = method > 0 ? keys.slice(method + 1) : keys.slice(2);
  } else if (keys[0] === "components" && keys[1] === "schemas") {
    head = keys[2]!;
    rest = keys.slice(3);
  } else {
    head = keys[0]!;
    rest = keys.slice(1);
  }
  let place = head;
  for (const key of rest) {
    if (key === "items") place += "[]";
    else if (!PASS_THROUGH.has(key) && !/^\d+$/.test(key)) place += `.${key}`;
  }
  return place;
}

/** Every x-sources-disagree note of the document, in document order. */
export function disagreements(spec: OpenApiDocument): Disagreement[] {
  const found: Disagreement[] = [];
  const walk = (node: unknown, keys: string[]) => {
    if (Array.isArray(node)) node.forEach((item, index) => walk(item, [...keys, String(index)]));
    else if (node !== null && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        const cites = key === "description" && keys[0] !== "info" && MENTIONS_DISAGREEMENT.test(String(value));
        const note = typeof value === "string" && (isDisagreementKey(key) || cites);
        if (note) found.push({ where: placeOf(keys), choice: value.trim() });
        else walk(value, [...keys, key]);
      }
    }
  };
  walk(spec, []);
  return found;
}

export function disagreementsMarkdown(spec: OpenApiDocument): string {
  return [
    "Meta's pages, its generated references and its OpenAPI file do not always agree. Each choice below is written " +
      `in openapi.yaml next to the field it is about, as an \`${DISAGREEMENT_KEY}\` (or \`x-decision-…\`) note. The rule: what the package ` +
      "sends follows Meta's documented examples and is checked before it leaves; what Meta sends is read in every " +
      "documented form.",
    "",
    "| where | sources and choice |",
    "|---|---|",
    ...disagreements(spec).map(({ where, choice }) => `| \`${cell(where)}\` | ${cell(choice)} |`),
    "",
  ].join("\n");
}

export interface ApiVersionEntry {
  version: string;
  previous?: string;
  date: string;
  read: string[];
  sources: string[];
  changes: Record<string, string>;
}

export function versionsMarkdown(spec: OpenApiDocument): string {
  const entries = (spec["x-api-versions"] as ApiVersionEntry[] | undefined) ?? [];
  const sections = entries.map((entry) =>
    [
      // Bold, not a heading: Redoc would cut the tag's description at a heading.
      `**${entry.version}**${entry.previous ? ` (from ${entry.previous})` : ""}, ${entry.date}`,
      "",
      "| area | what changed |",
      "|---|---|",
      ...Object.entries(entry.changes).map(([area, change]) => `| \`${cell(area)}\` | ${cell(change.trim())} |`),
      "",
      "Sources:",
      "",
      ...entry.sources.map((source) => `- ${source.trim()}`),
      "",
    ].join("\n"),
  );
  return [
    "The default Graph API version is the `version` server variable; callers may pass another one. Each version the " +
      "document moved to, newest first, with what changed for each endpoint and the webhooks (`x-api-versions`).",
    "",
    ...sections,
  ].join("\n");
}

/** openapi.yaml with the extensions above added as description-only tags (x-traitTag: no operations). */
export function docsDocument(spec: OpenApiDocument): OpenApiDocument {
  const copy = structuredClone(spec);
  const tags = (copy.tags as { name: string }[] | undefined) ?? [];
  for (const name of [ERROR_CODES_TAG, DISAGREEMENTS_TAG, VERSIONS_TAG]) {
    if (tags.some((tag) => tag.name === name)) {
      throw new Error(`openapi.yaml already has a tag named "${name}"; build-docs adds it itself`);
    }
  }
  copy.tags = [
    ...tags,
    { name: ERROR_CODES_TAG, "x-traitTag": true, description: errorCatalogueMarkdown(spec) },
    { name: DISAGREEMENTS_TAG, "x-traitTag": true, description: disagreementsMarkdown(spec) },
    { name: VERSIONS_TAG, "x-traitTag": true, description: versionsMarkdown(spec) },
  ];
  return copy;
}

export interface BuildDocsOptions {
  /** The OpenAPI document to render; default openapi.yaml of the repository. */
  spec?: string;
  /** Where the page goes; default docs/index.html. */
  output?: string;
  /** The repository whose node_modules and redocly.yaml are used. */
  root?: string;
  /** Print Redocly's output. */
  verbose?: boolean;
}

/** Renders the docs page and returns its path and size in bytes. */
export function buildDocs(options: BuildDocsOptions = {}): { output: string; bytes: number } {
  const root = options.root ?? repoRoot;
  const output = options.output ?? join(root, "docs", "index.html");
  const spec = loadSpec(options.spec ?? join(root, "openapi.yaml"));
  const tempDir = mkdtempSync(join(tmpdir(), "whatsapp-calling-docs-"));
  try {
    // JSON is YAML, and it keeps every string exactly as parsed (the SDP examples carry \r\n).
    const tempSpec = join(tempDir, "openapi.json");
    writeFileSync(tempSpec, JSON.stringify(docsDocument(spec), null, 2));
    mkdirSync(dirname(output), { recursive: true });
    const run = spawnSync(
      join(root, "node_modules", ".bin", "redocly"),
      [
        "build-docs",
        tempSpec,
        "--inlineBundle",
        "--config",
        join(root, "redocly.yaml"),
        "--title",
        String((spec.info as { title?: string } | undefined)?.title ?? "API"),
        "--output",
        output,
      ],
      { cwd: root, env: { ...process.env, ...REDOCLY_ENV }, encoding: "utf8" },
    );
    if (options.verbose || run.status !== 0) {
      process.stdout.write(run.stdout ?? "");
      process.stderr.write(run.stderr ?? "");
    }
    if (run.error) throw run.error;
    if (run.status !== 0) throw new Error(`redocly build-docs failed with exit code ${run.status}`);
    return { output, bytes: statSync(output).size };
  } finally {
    rmSync(tempDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const outputArg = process.argv.indexOf("--output");
  const output = outputArg > 0 ? process.argv[outputArg + 1] : undefined;
  const { output: written, bytes } = buildDocs({ spec: specPath, ...(output ? { output } : {}) });
  console.log(`${relative(process.cwd(), written) || written}: ${(bytes / 1024).toFixed(0)} KiB, self-contained`);
}
