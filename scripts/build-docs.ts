// npm run docs: writes docs/index.html, a single self-contained page (Redoc inlined, no CDN) rendered from
// openapi.yaml. The error-code catalogue is not written twice: the x-error-catalogue extension is turned into a
// markdown table and added, in a temporary copy of the document, as the description of an "Error codes" tag.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { loadSpec, repoRoot, specPath, type ErrorCatalogueEntry, type OpenApiDocument } from "./lib/spec.js";

export const ERROR_CODES_TAG = "Error codes";
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

/** openapi.yaml with the error catalogue added as a description-only tag (x-traitTag: no operations). */
export function docsDocument(spec: OpenApiDocument): OpenApiDocument {
  const copy = structuredClone(spec);
  const tags = (copy.tags as { name: string }[] | undefined) ?? [];
  if (tags.some((tag) => tag.name === ERROR_CODES_TAG)) {
    throw new Error(`openapi.yaml already has a tag named "${ERROR_CODES_TAG}"; build-docs adds it itself`);
  }
  copy.tags = [...tags, { name: ERROR_CODES_TAG, "x-traitTag": true, description: errorCatalogueMarkdown(spec) }];
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
