// Reading openapi.yaml: the one source every generated file, test and script starts from.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { parse } from "yaml";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const specPath = join(repoRoot, "openapi.yaml");

export interface ErrorCatalogueEntry {
  code: number;
  title: string;
  category: string;
  retryable: boolean;
  token_refresh: boolean;
  description: string;
}

// Only the parts of the document that the scripts read are typed here.
export interface OpenApiDocument {
  openapi: string;
  servers: { url: string; variables: { version: { default: string; "x-pattern": string } } }[];
  paths: Record<string, Record<string, { operationId?: string } | unknown>>;
  webhooks: Record<string, Record<string, { operationId?: string; summary?: string }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
  "x-error-catalogue": { description: string; codes: ErrorCatalogueEntry[] };
  [key: string]: unknown;
}

export function readSpecText(path = specPath): string {
  return readFileSync(path, "utf8");
}

export function loadSpec(path = specPath): OpenApiDocument {
  return parse(readSpecText(path)) as OpenApiDocument;
}

/** The Graph API server entry: its URL template and the `version` variable. */
export function graphServer(spec: OpenApiDocument) {
  const server = spec.servers[0];
  if (!server?.url.endsWith("/{version}")) {
    throw new Error("openapi.yaml: servers[0].url must end with /{version}");
  }
  const version = server.variables.version;
  const pattern = new RegExp(version["x-pattern"]);
  if (!pattern.test(version.default)) {
    throw new Error(`openapi.yaml: default version ${version.default} does not match ${version["x-pattern"]}`);
  }
  return {
    baseUrl: server.url.slice(0, -"/{version}".length),
    defaultVersion: version.default,
    versionPattern: version["x-pattern"],
  };
}
