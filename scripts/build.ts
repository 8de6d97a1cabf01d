// dist/ as users load it: one esbuild bundle per entry point instead of tsc's file per module, because the ESM
// loader resolves, reads, compiles and links every file on its own, and that, not the code, was most of a cold
// import (34 ms of `whatsapp-calling`'s, 29 ms of `whatsapp-calling/webhooks`').
//
//   npx tsx scripts/build.ts [--out-dir DIR] [--readable]   (npm run build runs it after generate and lint;
//                                                          default dist/; --readable keeps identifiers)
//
// - The entry points are the .js targets of package.json `exports` and `bin`: a new entry point is one line there.
// - One build with code splitting, so that every module is in dist/ once: a WhatsAppError thrown by one entry
//   point is `instanceof` the class another one exports. Left to itself esbuild makes a chunk per set of entry
//   points sharing code (eight here, some of 150 bytes), and each file costs a cold import about a millisecond.
//   So the code that exported entry points (and the sandbox they load on demand) share is grouped here instead,
//   by who imports it, into as few chunks as keep an entry point from loading another's code (sharedChunks()):
//   chunks/shared.js (the errors, logging, the webhook core: what nearly every entry point loads) and the
//   client's chunk, shared with ./media and the sandbox. What only the sandbox and the CLI share (werift's side)
//   is left to esbuild: separate chunks, loaded on demand.
// - Platform neutral: the web entry points must not depend on Node; the node-only ones (./node, the sandbox, the
//   CLI) only import node: builtins, which stay imports, as peer dependencies (werift) do. Dependencies
//   (openapi-fetch) are bundled: see `packages` below.
// - Minified, identifiers included: V8 compiling the files is most of a cold import once they are few (4.8 ms of
//   the client's in a profile, for 82 kB whitespace-minified; 62 kB minified). Not keepNames: its helper is a
//   chunk of its own that every entry point would load. So each error class writes out its own name, and stack
//   frames inside the package read as the minified names; no source maps, since linkShared() rewrites the text.
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
/**
 * Minified bytes under which a group of shared modules is not worth a file of its own. Bytes as bundled, not as
 * written: a longer comment must not move a module to another chunk (16,000 source bytes had, for check.ts).
 */
const MIN_CHUNK_BYTES = 6_000;
/** What the bundles import shared module N by until the path of its chunk from each output file is known. */
const SHARED_SPECIFIER = "whatsapp-calling:shared";

interface Entry {
  /** The source, relative to the repository: src/webhooks/index.ts. */
  in: string;
  /** The output without .js, relative to dist/: src/webhooks/index. */
  out: string;
  /** Whether package.json `exports` names it (what only the bin shares is left to esbuild). */
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

// Dependencies are bundled: resolving the bare specifier and loading one more file was the largest single cost of
// a cold import of the client (14.2 → 8.5 ms in the bench's cold-import group, BENCHMARKS.md). They stay in `dependencies` for the declarations, which
// import their types. Peer dependencies (werift) are the user's own copy, and stay imports.
const packages = Object.keys(packageJson.peerDependencies ?? {});
const options: BuildOptions = {
  absWorkingDir: repoRoot,
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  external: ["node:*", ...packages, ...packages.map((name) => `${name}/*`)],
  minifySyntax: true,
  minifyWhitespace: true,
  // Node prints the source line of an uncaught error's throw: a line of the bundle, not the whole 36 kB file.
  lineLimit: 160,
  legalComments: "none",
  logLevel: "warning",
};

interface SharedModule {
  /** Relative to the repository: src/errors.ts. */
  path: string;
  /** Its chunk, relative to dist/ and without .js: chunks/shared. */
  chunk: string;
  names: string[];
  /** Whether some module imports it as a namespace (`import * as media`): its chunk exports one for it too. */
  namespace: boolean;
}

/**
 * The chunk of each module that two or more loaders import (path → chunk). A loader is an exported entry point or
 * a bundle one of them imports on demand (the sandbox). Modules are grouped by the loaders that import them, and
 * a file costs each of its loaders a cold-import millisecond or so, so a group joins a chunk that its entry points
 * load already, the one the fewest others load, where there is one: the sandbox's request validators go with
 * the client's transport, which only . and ./media load (and ./media is used with .). The widest group is
 * chunks/shared; a group of MIN_CHUNK_BYTES or more does not join it (every entry point would load it) but is a
 * chunk of its own when no other will do; a smaller one joins chunks/shared at worst.
 */
function sharedChunks(entries: Entry[], graph: Metafile): Map<string, string> {
  const { inputs } = graph;
  // A module's size is its bytes in a bundle that has it (the same in each).
  const size = new Map<string, number>();
  for (const output of Object.values(graph.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) size.set(path, Math.max(size.get(path) ?? 0, bytesInOutput));
  }
  const exported = entries.filter((candidate) => candidate.exported).map((entry) => entry.in);
  const loaders = [...exported];
  const reachedBy = new Map<string, string[]>();
  for (let next = 0; next < loaders.length; next++) {
    const seen = new Set<string>();
    const visit = (path: string) => {
      if (seen.has(path) || !inputs[path]) return;
      seen.add(path);
      for (const imported of inputs[path].imports) {
        if (imported.external) continue;
        if (imported.kind === "import-statement") visit(imported.path);
        else if (imported.kind === "dynamic-import" && !loaders.includes(imported.path)) loaders.push(imported.path);
      }
    };
    visit(loaders[next]!);
    for (const path of seen) reachedBy.set(path, [...(reachedBy.get(path) ?? []), loaders[next]!]);
  }
  const groups = new Map<string, { loaders: string[]; bytes: number; paths: string[]; chunk?: string }>();
  for (const [path, by] of reachedBy) {
    if (by.length < 2) continue;
    const group = groups.get(by.join(" ")) ?? { loaders: by, bytes: 0, paths: [] };
    group.bytes += size.get(path) ?? 0;
    group.paths.push(path);
    groups.set(by.join(" "), group);
  }
  const ordered = [...groups.values()].sort((a, b) => b.loaders.length - a.loaders.length || b.bytes - a.bytes);
  // Each chunk and what loads it; a chunk is loaded by more loaders as groups join it.
  const loadersOf = new Map<string, Set<string>>();
  const place = (group: (typeof ordered)[number], chunk: string) => {
    group.chunk = chunk;
    loadersOf.set(chunk, new Set([...(loadersOf.get(chunk) ?? []), ...group.loaders]));
  };
  /** The chunk that every entry point of `group` loads already and the fewest other loaders do (a big group never joins chunks/shared). */
  const hostOf = (group: (typeof ordered)[number], big: boolean) => {
    const needed = group.loaders.filter((loader) => exported.includes(loader));
    const hosts = [...loadersOf]
      .filter(([chunk, loaders]) => (!big || chunk !== "chunks/shared") && needed.every((entry) => loaders.has(entry)))
      .sort(([, a], [, b]) => a.size - b.size);
    return hosts[0]?.[0];
  };
  let own = 0;
  for (const [index, group] of ordered.entries()) {
    if (index === 0) place(group, "chunks/shared");
    else if (group.bytes >= MIN_CHUNK_BYTES) place(group, hostOf(group, true) ?? `chunks/shared-${++own}`);
  }
  for (const group of ordered.filter((candidate) => !candidate.chunk)) place(group, hostOf(group, false) ?? "chunks/shared");
  const chunks = new Map<string, string>();
  for (const group of ordered) for (const path of group.paths) chunks.set(path, group.chunk!);
  return chunks;
}

/** The name a chunk exports a shared module's export by: prefixed with the module's number, as two may share a name. */
const alias = (module: number, name: string) => `_${module}_${name}`;

/**
 * Outside its chunk, an import of a shared module becomes an external `whatsapp-calling:shared/N`, which
 * linkShared() points at the chunk once the output files are known. Each chunk is a virtual entry point that
 * re-exports its modules' names.
 */
function importShared(shared: SharedModule[]): Plugin {
  const number = new Map(shared.map(({ path }, index) => [path, index]));
  const chunkOf = (path: string) => shared[number.get(path)!]!.chunk;
  const chunkNames = [...new Set(shared.map(({ chunk }) => chunk))];
  return {
    name: "import-shared",
    setup(builder) {
      builder.onResolve({ filter: /^\./ }, (args) => {
        if (args.kind === "entry-point" || args.namespace !== "file") return undefined;
        const path = relative(repoRoot, resolve(dirname(args.importer), args.path.replace(/\.js$/, ".ts")));
        const importer = relative(repoRoot, args.importer);
        if (!number.has(path) || (number.has(importer) && chunkOf(importer) === chunkOf(path))) return undefined;
        return { path: `${SHARED_SPECIFIER}/${number.get(path)}`, external: true };
      });
      // An entry point that another one imports (./media, re-exported by .) is shared: its bundle re-exports its
      // names from its chunk.
      builder.onResolve({ filter: /\.ts$/ }, (args) => {
        const module = args.kind === "entry-point" ? number.get(relative(repoRoot, resolve(repoRoot, args.path))) : undefined;
        return module === undefined ? undefined : { path: args.path, namespace: "shared-entry", pluginData: module };
      });
      builder.onLoad({ filter: /.*/, namespace: "shared-entry" }, (args) => ({
        contents: `export * from "${SHARED_SPECIFIER}/${args.pluginData as number}";`,
        loader: "js",
      }));
      builder.onResolve({ filter: new RegExp(`^${SHARED_SPECIFIER}/\\d+$`) }, (args) => ({ path: args.path, external: true }));
      builder.onResolve({ filter: /^chunks\/[\w-]+\.ts$/ }, (args) =>
        chunkNames.includes(args.path.slice(0, -".ts".length)) ? { path: args.path.slice(0, -".ts".length), namespace: "shared-chunk" } : undefined,
      );
      builder.onLoad({ filter: /.*/, namespace: "shared-chunk" }, (args) => ({
        contents: shared
          .flatMap(({ path, chunk, names, namespace }, module) => {
            if (chunk !== args.path) return [];
            const source = JSON.stringify(`./${path}`);
            const lines = [`export { ${names.map((name) => `${name} as ${alias(module, name)}`).join(", ")} } from ${source};`];
            // Not `export * as`: esbuild's helper for a namespace would be a chunk that every entry point loads.
            // A frozen object of the module's (constant) exports serves `import * as` as well.
            if (namespace) {
              lines.push(`import { ${names.map((name) => `${name} as _ns${alias(module, name)}`).join(", ")} } from ${source};`);
              lines.push(`export const _${module} = Object.freeze({ __proto__: null, ${names.map((name) => `${JSON.stringify(name)}: _ns${alias(module, name)}`).join(", ")} });`);
            }
            return lines;
          })
          .join("\n"),
        resolveDir: repoRoot,
        loader: "js",
      }));
    },
  };
}

/**
 * Rewrites an output file's imports of `whatsapp-calling:shared/N` (as esbuild prints them, minified) into imports
 * of module N's names from its chunk, relative to the file.
 */
function linkShared(text: string, shared: SharedModule[], from: string, outDir: string): string {
  const linked = text.replace(
    // Whitespace anywhere between the parts: esbuild breaks lines longer than lineLimit inside import lists.
    new RegExp(`(import|export)\\s*(\\{[^}]*\\}|\\*\\s*as\\s+[\\w$]+|\\*)\\s*from\\s*"${SHARED_SPECIFIER}/(\\d+)"`, "g"),
    (_, keyword: string, bindings: string, module: string) => {
      const n = Number(module);
      let path = relative(dirname(from), join(outDir, `${shared[n]!.chunk}.js`));
      if (!path.startsWith(".")) path = `./${path}`;
      const namespace = /^\*\s*as\s+([\w$]+)$/.exec(bindings);
      if (namespace) return `${keyword}{_${n} as ${namespace[1]}}from${JSON.stringify(path)}`;
      const names =
        bindings === "*"
          ? shared[n]!.names.map((name) => [name, name])
          : bindings
              .slice(1, -1)
              .split(",")
              .map((binding) => binding.trim().split(/\s+as\s+/))
              .map(([name, local]) => [name!, local ?? name!]);
      return `${keyword}{${names.map(([name, local]) => `${alias(n, name!)} as ${local}`).join(",")}}from${JSON.stringify(path)}`;
    },
  );
  const left = linked.indexOf(SHARED_SPECIFIER);
  if (left >= 0) throw new Error(`an import of a shared chunk that the build cannot link: ${linked.slice(Math.max(0, left - 80), left + 40)}`);
  return linked;
}

/** The modules that some module imports as a namespace (`import * as x from "./y.js"`), from the sources. */
function namespaceImports(inputs: Metafile["inputs"]): Set<string> {
  const found = new Set<string>();
  for (const importer of Object.keys(inputs)) {
    for (const [, specifier] of readFileSync(join(repoRoot, importer), "utf8").matchAll(/(?:import|export)\s*\*\s*as\s+[\w$]+\s+from\s*["'](\.[^"']+)["']/g)) {
      found.add(relative(repoRoot, resolve(repoRoot, dirname(importer), specifier!.replace(/\.js$/, ".ts"))));
    }
  }
  return found;
}

/** `readable`: identifiers kept (bench/profile.ts, so that a profile's frames have their names). */
export async function buildDist(outDir = join(repoRoot, "dist"), { readable = false } = {}): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  execFileSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", join(repoRoot, "tsconfig.build.json"), "--outDir", outDir], {
    cwd: repoRoot,
    stdio: "inherit",
  });
  const entries = entryPoints();
  const common = { ...options, minifyIdentifiers: !readable };
  // Grouped by minified sizes even for --readable, so that its chunks are the same as dist/'s.
  const { metafile: graph } = await build({ ...options, minifyIdentifiers: true, entryPoints: entries.map((entry) => entry.in), outdir: outDir, write: false, metafile: true });
  const chunks = sharedChunks(entries, graph);
  // Each shared module's export names, from a bundle of it alone.
  const { metafile: alone } = await build({ ...common, entryPoints: [...chunks.keys()], outdir: outDir, outbase: repoRoot, write: false, metafile: true });
  const namespaces = namespaceImports(graph.inputs);
  const shared = [...chunks].map(([path, chunk]): SharedModule => {
    const names = alone.outputs[relative(repoRoot, join(outDir, path.replace(/\.ts$/, ".js")))]!.exports;
    return { path, chunk, names, namespace: namespaces.has(path) };
  });
  const { outputFiles } = await build({
    ...common,
    entryPoints: [
      ...entries.map(({ in: source, out }) => ({ in: source, out })),
      ...[...new Set(chunks.values())].map((chunk) => ({ in: `${chunk}.ts`, out: chunk })),
    ],
    outdir: outDir,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    plugins: [importShared(shared)],
    write: false,
  });
  for (const file of outputFiles) {
    const text = linkShared(file.text, shared, file.path, outDir);
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, text, { mode: text.startsWith("#!") ? 0o755 : 0o644 });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  const { values } = parseArgs({ options: { "out-dir": { type: "string" }, readable: { type: "boolean" } } });
  await buildDist(values["out-dir"] && resolve(values["out-dir"]), { readable: values.readable });
}
