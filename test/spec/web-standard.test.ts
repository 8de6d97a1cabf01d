// The package's runtime code runs on Node, Bun, Deno and edge workers: web-standard APIs only, except in the one
// node-only adapter module. The build loads no Node types for the same reason (tsconfig.build.json).
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/spec.js";

// The sandbox is a Node program (node:http, werift), loaded by /testing only when a sandbox is started.
const NODE_ONLY = new Set(["src/node.ts", "src/testing/sandbox/server.ts", "src/testing/sandbox/media.ts", "src/testing/cli.ts"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [relative(repoRoot, path)] : [];
  });
}

const runtimeFiles = [...sourceFiles(join(repoRoot, "src")), ...sourceFiles(join(repoRoot, "generated"))].filter(
  (file) => !NODE_ONLY.has(file),
);

describe("runtime code uses web-standard APIs only", () => {
  it("finds the runtime files", () => {
    expect(runtimeFiles).toContain("src/client.ts");
    expect(runtimeFiles).toContain("src/webhooks/signature.ts");
    expect(runtimeFiles).toContain("generated/request-validators.ts");
    expect(runtimeFiles).toContain("generated/webhook-validators.ts");
  });

  it.each(runtimeFiles)("%s", (file) => {
    const code = readFileSync(join(repoRoot, file), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    expect(code).not.toMatch(/from\s+["']node:/);
    expect(code).not.toMatch(/\brequire\s*\(/);
    expect(code).not.toMatch(/\bBuffer\b/);
    expect(code).not.toMatch(/\bprocess\./);
    expect(code).not.toMatch(/\b__dirname\b/);
  });
});
