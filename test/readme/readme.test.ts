// The README cannot rot: every ```ts block is type-checked against the package's entry points (strict, as users
// would import them), and the "API reference" section names every runtime export of every entry point, every
// option of every *Options interface and every member of the client.
//
// A block that is partial on purpose is skipped when the line before its fence is `<!-- readme-check: skip -->`.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/spec.js";

const README = join(repoRoot, "README.md");
const SKIP_MARKER = "<!-- readme-check: skip -->";
const workDir = join(repoRoot, "test-results", "readme-examples");

interface Block {
  /** 1-based line of the first code line in README.md. */
  line: number;
  code: string;
}

function typescriptBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let index = 0; index < lines.length; index++) {
    const fence = /^(\s*)(```+|~~~+)\s*(\S*)/.exec(lines[index]!);
    if (!fence) continue;
    const [, indent, marker, language] = fence;
    const end = lines.findIndex((line, at) => at > index && line.trimStart().startsWith(marker!));
    if (end < 0) throw new Error(`README.md:${index + 1}: unclosed code fence`);
    const skipped = lines[index - 1]?.trim() === SKIP_MARKER;
    if (["ts", "typescript"].includes(language!) && !skipped) {
      const code = lines
        .slice(index + 1, end)
        .map((line) => (line.startsWith(indent!) ? line.slice(indent!.length) : line))
        .join("\n");
      blocks.push({ line: index + 2, code });
    }
    index = end;
  }
  return blocks;
}

/** The markdown under a `## heading`, up to the next `## ` heading. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) return "";
  const next = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, next < 0 ? undefined : next);
}

const packageJson = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
  name: string;
  exports: Record<string, string | { types?: string; default?: string }>;
};

/** Entry point name -> its source file, from the exports map (./dist/src/x.js -> src/x.ts). */
const entryPoints = Object.entries(packageJson.exports).flatMap(([subpath, target]) => {
  const file = typeof target === "string" ? target : target.default;
  if (!file?.endsWith(".js")) return [];
  const name = subpath === "." ? packageJson.name : `${packageJson.name}/${subpath.replace(/^\.\//, "")}`;
  return [{ name, source: join(repoRoot, file.replace(/^\.\/dist\//, "").replace(/\.js$/, ".ts")) }];
});

describe("README.md", () => {
  const markdown = readFileSync(README, "utf8");
  const blocks = typescriptBlocks(markdown);
  let program: ts.Program;
  let files: { path: string; block: Block }[];

  beforeAll(() => {
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });
    files = blocks.map((block) => {
      const path = join(workDir, `readme-line-${block.line}.ts`);
      // Each block is its own module (top-level await, no clashes between blocks).
      writeFileSync(path, `${block.code}\nexport {};\n`);
      return { path, block };
    });
    const config = ts.getParsedCommandLineOfConfigFile(join(repoRoot, "tsconfig.json"), {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
      },
    })!;
    program = ts.createProgram({
      rootNames: [...files.map((file) => file.path), ...entryPoints.map((entry) => entry.source)],
      options: {
        ...config.options,
        noEmit: true,
        // The package's own names, as users import them, resolved to the sources behind the exports map.
        paths: Object.fromEntries(entryPoints.map((entry) => [entry.name, [entry.source]])),
      },
    });
  }, 60_000);

  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  it("has TypeScript examples", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });

  it("has ```ts examples that type-check against the package (strict)", () => {
    const problems = files.flatMap(({ path, block }) =>
      ts.getPreEmitDiagnostics(program, program.getSourceFile(path)).map((diagnostic) => {
        const where =
          diagnostic.file && diagnostic.start !== undefined
            ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line
            : 0;
        const location = diagnostic.file?.fileName === path ? `README.md:${block.line + where}` : relative(repoRoot, diagnostic.file?.fileName ?? path);
        return `${location}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`;
      }),
    );
    expect(problems).toEqual([]);
  });

  it("imports every entry point somewhere in its examples", () => {
    const imported = new Set(blocks.flatMap((block) => [...block.code.matchAll(/from\s+"([^"]+)"/g)].map((match) => match[1])));
    for (const entry of entryPoints) expect(imported, entry.name).toContain(entry.name);
  });

  it('names every export, option and client member in "API reference"', () => {
    const reference = section(markdown, "API reference");
    expect(reference.length).toBeGreaterThan(0);
    const checker = program.getTypeChecker();
    const missing: string[] = [];
    // Names count when they appear in code: `inline code` or a fenced block of the section.
    const code = reference.match(/```[\s\S]*?```|`[^`\n]+`/g) ?? [];
    const identifiers = new Set(code.flatMap((span) => span.match(/[A-Za-z_$][\w$]*/g) ?? []));
    const mentioned = (name: string) => identifiers.has(name);
    for (const entry of entryPoints) {
      const module = checker.getSymbolAtLocation(program.getSourceFile(entry.source)!)!;
      for (const symbol of checker.getExportsOfModule(module)) {
        const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        const isValue = (target.flags & ts.SymbolFlags.Value) !== 0;
        const name = symbol.getName();
        if (isValue && !mentioned(name)) missing.push(`${entry.name}: ${name}`);
        const isOptions = target.flags & ts.SymbolFlags.Interface && (/Options$/.test(name) || name === "CallingClient");
        if (isOptions) {
          const type = checker.getDeclaredTypeOfSymbol(target);
          for (const property of checker.getPropertiesOfType(type)) {
            if (!mentioned(property.getName())) missing.push(`${entry.name}: ${name}.${property.getName()}`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
