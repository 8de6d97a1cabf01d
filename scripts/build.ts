// dist/ as users load it: one esbuild bundle per entry point instead of tsc's file per module, because the ESM
// loader resolves, reads, compiles and links every file on its own, and that, not the code, was most of a cold
// import (34 ms of `whatsapp-calling`'s, 29 ms of `whatsapp-calling/webhooks`').
//
//   npx tsx scripts/build.ts [--out-dir DIR]   (npm run build runs it after generate and lint; default dist/)
//
// - The entry points are the .js targets of package.json `exports` and `bin`: a new entry point is one line there.
// - One build with code splitting, so that every module is in dist/ once: a WhatsAppError thrown by one entry
//   point is `instanceof` the class another one exports. Left to itself esbuild makes a chunk per set of entry
//   points sharing code (eight here, some of 150 bytes) and each costs a cold import about a millisecond; so the
//   modules that two or more exported entry points import (errors, logging, the schema checker, the webhook
//   core) all go into one chunk, chunks/shared.js, and each entry point loads itself, that chunk and the
//   dependencies. What only dynamic imports or the CLI share (the sandbox, werift) is left to esbuild's
//   splitting: separate chunks, loaded on demand as before.
// - Platform neutral: the web entry points must not depend on Node; the node-only ones (./node, the sandbox, the
//   CLI) only import node: builtins, which stay imports, as dependencies and peer dependencies do.
// - Whitespace and syntax minified (a cold import parses less), identifiers kept (stack traces stay readable);
//   no source maps, as before.
// - Types are tsc's declarations (emitDeclarationOnly), at the same paths under dist/ as the bundles.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build, type BuildOptions, type Metafile, type Plugin } from "esbuild";
import { repoRoot } from "./lib/spec.js";

interface PackageJson {
  exports: Record<string, string | Record<string, string>>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const packageJson = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as PackageJson;
const SHARED_OUT = "chunks/shared";
/** What the entry points import the shared chunk by until its path relative to each output file is known. */
const SHARED_SPECIFIER = "whatsapp-calling:shared";

interface Entry {
  /** The source, relative to the repository: src/webhooks/index.ts. */
  in: string;
  /** The output without .js, relative to dist/: src/webhooks/index. */
  out: string;
  /** Whether package.json `exports` names it (the bin does not share its modules into the shared chunk). */
  exported: boolean;
}

/** `./dist/src/webhooks/index.js` → src/webhooks/index.ts bundled to `<outDir>/src/webhooks/index.js`. */
export function entryPoints(): Entry[] {
  const targets = (values: string[], exported: boolean) =>
    values.filter((target) => target.startsWith("./dist/") && target.endsWith(".js")).map((target) => ({ target, exported }));
  const all = [
    ...targets(Object.values(packageJson.exports).flatMap((target) => (typeof target === "string" ? [target] : Object.values(target))), true),
    ...targets(Object.values(packageJson.bin ?? {}), false),
  ];
  const entries = new Map<string, Entry>();
  for (const { target, exported } of all) {
    const out = target.slice("./dist/".length, -".js".length);
    entries.set(out, { in: `${out}.ts`, out, exported: exported || (entries.get(out)?.exported ?? false) });
  }
  return [...entries.values()];
}

const packages = Object.keys({ ...packageJson.dependencies, ...packageJson.peerDependencies });
const common: BuildOptions = {
  absWorkingDir: repoRoot,
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  external: ["node:*", ...packages, ...packages.map((name) => `${name}/*`)],
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: "none",
  logLevel: "warning",
};

/** The modules (relative to the repository) that two or more exported entry points reach by static imports. */
function sharedModules(entries: Entry[], inputs: Metafile["inputs"]): Set<string> {
  const reachedBy = new Map<string, number>();
  for (const entry of entries.filter((candidate) => candidate.exported)) {
    const seen = new Set<string>();
    const visit = (path: string) => {
      if (seen.has(path) || !inputs[path]) return;
      seen.add(path);
      for (const imported of inputs[path].imports) if (imported.kind === "import-statement" && !imported.external) visit(imported.path);
    };
    visit(entry.in);
    for (const path of seen) reachedBy.set(path, (reachedBy.get(path) ?? 0) + 1);
  }
  return new Set([...reachedBy].filter(([, count]) => count > 1).map(([path]) => path));
}

/** The shared chunk's name for a shared module's export: prefixed with the module's number, as two may export one name. */
const alias = (module: number, name: string) => `_${module}_${name}`;

/**
 * Outside the shared chunk, an import of a shared module becomes an external `whatsapp-calling:shared/N`, which
 * linkShared() points at the chunk once the output files are known. The chunk is a virtual entry point that
 * re-exports every shared module's names.
 */
function importShared(shared: [path: string, names: string[]][]): Plugin {
  const number = new Map(shared.map(([path], index) => [path, index]));
  return {
    name: "import-shared",
    setup(builder) {
      builder.onResolve({ filter: /^\./ }, (args) => {
        if (args.namespace !== "file" || number.has(relative(repoRoot, args.importer))) return undefined;
        const module = number.get(relative(repoRoot, resolve(dirname(args.importer), args.path.replace(/\.js$/, ".ts"))));
        return module === undefined ? undefined : { path: `${SHARED_SPECIFIER}/${module}`, external: true };
      });
      builder.onResolve({ filter: new RegExp(`^${SHARED_OUT}\\.ts$`) }, () => ({ path: SHARED_OUT, namespace: "shared-chunk" }));
      builder.onLoad({ filter: /.*/, namespace: "shared-chunk" }, () => ({
        contents: shared
          .map(([path, names], module) => `export { ${names.map((name) => `${name} as ${alias(module, name)}`).join(", ")} } from "./${path}";`)
          .join("\n"),
        resolveDir: repoRoot,
        loader: "js",
      }));
    },
  };
}

/**
 * Rewrites an output file's imports of `whatsapp-calling:shared/N` (as esbuild prints them, minified) into imports
 * of the shared chunk's prefixed names, at `path` from the file.
 */
function linkShared(text: string, shared: [path: string, names: string[]][], path: string): string {
  const specifier = JSON.stringify(path);
  const linked = text.replace(new RegExp(`(import|export)(\\{[^}]*\\}|\\*)from"${SHARED_SPECIFIER}/(\\d+)"`, "g"), (_, keyword: string, bindings: string, module: string) => {
    const n = Number(module);
    const names =
      bindings === "*"
        ? shared[n]![1].map((name) => [name, name])
        : bindings.slice(1, -1).split(",").map((binding) => binding.split(" as ") as [string, string?]).map(([name, local]) => [name, local ?? name]);
    return `${keyword}{${names.map(([name, local]) => `${alias(n, name!)} as ${local}`).join(",")}}from${specifier}`;
  });
  const left = linked.indexOf(SHARED_SPECIFIER);
  if (left >= 0) throw new Error(`an import of the shared chunk that the build cannot link: ${linked.slice(Math.max(0, left - 80), left + 40)}`);
  return linked;
}

export async function buildDist(outDir = join(repoRoot, "dist")): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  execFileSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", join(repoRoot, "tsconfig.build.json"), "--outDir", outDir], {
    cwd: repoRoot,
    stdio: "inherit",
  });
  const entries = entryPoints();
  const graph = await build({ ...common, entryPoints: entries.map((entry) => entry.in), outdir: outDir, write: false, metafile: true });
  const sharedPaths = [...sharedModules(entries, graph.metafile.inputs)];
  const entryInShared = entries.find((entry) => sharedPaths.includes(entry.in));
  if (entryInShared) throw new Error(`${entryInShared.in} is an entry point that another entry point imports: import what both need from a third module`);
  // Each shared module's export names, from a bundle of it alone.
  const exported = await build({ ...common, entryPoints: sharedPaths, outdir: outDir, outbase: repoRoot, write: false, metafile: true });
  const shared = sharedPaths.map((path): [string, string[]] => [path, exported.metafile.outputs[relative(repoRoot, join(outDir, path.replace(/\.ts$/, ".js")))]!.exports]);
  const { outputFiles } = await build({
    ...common,
    entryPoints: [...entries.map(({ in: source, out }) => ({ in: source, out })), { in: `${SHARED_OUT}.ts`, out: SHARED_OUT }],
    outdir: outDir,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    plugins: [importShared(shared)],
    write: false,
  });
  const sharedFile = join(outDir, `${SHARED_OUT}.js`);
  for (const file of outputFiles) {
    const path = relative(dirname(file.path), sharedFile);
    const text = linkShared(file.text, shared, path.startsWith(".") ? path : `./${path}`);
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, text, { mode: text.startsWith("#!") ? 0o755 : 0o644 });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  const { values } = parseArgs({ options: { "out-dir": { type: "string" } } });
  await buildDist(values["out-dir"] && resolve(values["out-dir"]));
}
