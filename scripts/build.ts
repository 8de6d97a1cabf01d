// dist/ as users load it: one esbuild bundle per entry point instead of tsc's file per module, because the ESM
// loader resolves, reads, compiles and links every file on its own, and that, not the code, was most of a cold
// import (34 ms of `whatsapp-calling`'s, 29 ms of `whatsapp-calling/webhooks`').
//
//   npx tsx scripts/build.ts [--out-dir DIR] [--readable]   (npm run build runs it after generate and lint;
//                                                          default dist/; --readable keeps identifiers)
//
// - The entry points are the .js targets of package.json `exports` and `bin`: a new entry point is one line there.
// - Each is one self-contained file: no chunks shared between entry points. A second file costs a cold import
//   1.5 to 3 ms however small it is (the loader's read, compile and link of one more module): /webhooks loaded in
//   4.3 ms as two files and in 1.9 ms as one, `.` in 6.6 ms as three and in 3.5 ms as one (BENCHMARKS.md). The
//   code two entry points share is so in both; where that matters it is built for it: the error classes match
//   their copies in `instanceof` (src/errors.ts), and what crosses from one bundle to another (a client's context
//   for ./media, the handler's core for ./node) is found by registered symbols.
// - A module imported on demand (`import("./sandbox/index.js")`) is a bundle of its own, at its path under dist/,
//   so that the importer stays small and the relative specifier holds.
// - Platform neutral: the web entry points must not depend on Node; the node-only ones (./node, the sandbox, the
//   CLI) only import node: builtins, which stay imports, as peer dependencies (werift) do. Dependencies
//   (openapi-fetch) are bundled: see `packages` below.
// - Minified, identifiers included: V8 compiling the files is most of a cold import once they are few (4.8 ms of
//   the client's in a profile, for 82 kB whitespace-minified; 62 kB minified). Not keepNames: each error class
//   writes out its own name, and stack frames inside the package read as the minified names; no source maps.
// - Types are tsc's declarations (emitDeclarationOnly), at the same paths under dist/ as the bundles.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build, type BuildOptions, type Plugin } from "esbuild";
import { repoRoot } from "./lib/spec.js";

interface PackageJson {
  exports: Record<string, string | Record<string, string>>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const packageJson = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as PackageJson;

/** `./dist/src/webhooks/index.js` → src/webhooks/index.ts (bundled to `<outDir>/src/webhooks/index.js`), once each. */
export function entryPoints(): string[] {
  const targets = [
    ...Object.values(packageJson.exports).flatMap((target) => (typeof target === "string" ? [target] : Object.values(target))),
    ...Object.values(packageJson.bin ?? {}),
  ];
  const sources = targets.filter((target) => target.startsWith("./dist/") && target.endsWith(".js")).map((target) => `${target.slice("./dist/".length, -".js".length)}.ts`);
  return [...new Set(sources)];
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

/**
 * Keeps a dynamic import of one of the package's modules an import, and hands the module to `found`, which builds
 * it as a bundle of its own.
 */
function onDemand(entry: string, found: (source: string) => void): Plugin {
  return {
    name: "on-demand",
    setup(builder) {
      builder.onResolve({ filter: /^\./ }, (args) => {
        if (args.kind !== "dynamic-import") return undefined;
        const module = relative(repoRoot, resolve(args.resolveDir, args.path.replace(/\.js$/, ".ts")));
        found(module);
        // Written from the bundle's place, not the importing module's: the two differ once it is bundled.
        const path = relative(dirname(entry), module).replace(/\.ts$/, ".js");
        return { path: path.startsWith(".") ? path : `./${path}`, external: true };
      });
    },
  };
}

/** `readable`: identifiers kept (bench/profile.ts, so that a profile's frames have their names). */
export async function buildDist(outDir = join(repoRoot, "dist"), { readable = false } = {}): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  execFileSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", join(repoRoot, "tsconfig.build.json"), "--outDir", outDir], {
    cwd: repoRoot,
    stdio: "inherit",
  });
  const sources = entryPoints();
  for (let next = 0; next < sources.length; next++) {
    const source = sources[next]!;
    const { outputFiles } = await build({
      ...options,
      minifyIdentifiers: !readable,
      entryPoints: [{ in: source, out: source.slice(0, -".ts".length) }],
      outdir: outDir,
      plugins: [onDemand(source, (module) => void (sources.includes(module) || sources.push(module)))],
      write: false,
    });
    for (const file of outputFiles) {
      mkdirSync(dirname(file.path), { recursive: true });
      writeFileSync(file.path, file.text, { mode: file.text.startsWith("#!") ? 0o755 : 0o644 });
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  const { values } = parseArgs({ options: { "out-dir": { type: "string" }, readable: { type: "boolean" } } });
  await buildDist(values["out-dir"] && resolve(values["out-dir"]), { readable: values.readable });
}
