// What is measured is what users install: dist/ built from this checkout, packed with `npm pack` and installed
// from the tarball into a folder of its own with its own package.json (test-results/bench-package). The peers
// resolve from the repository's node_modules (pinned devDependencies), further up the same lookup path.
// Nothing of the repository is written: dist/ is built into a staging copy, so that the bench can run while
// the package tests rebuild the repository's dist/.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const repoRoot = join(import.meta.dirname, "..");
/** Where the bench writes: bench.json, the staging copy and the consumer folder. Default test-results/. */
export const outputDir = process.env.BENCH_OUTPUT_DIR ?? join(repoRoot, "test-results");
export const packageDir = join(outputDir, "bench-package");
const stagingDir = join(outputDir, "bench-staging");

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/**
 * Builds dist/ (scripts/build.ts, as `npm run build` does after generate and lint: generated/ is committed and
 * drift-checked) into a staging copy of the package's files, packs it and installs the tarball. Returns the
 * installed version.
 */
export function installPackedPackage(log: (line: string) => void, { readable = false } = {}): string {
  rmSync(stagingDir, { recursive: true, force: true });
  rmSync(packageDir, { recursive: true, force: true });
  mkdirSync(packageDir, { recursive: true });
  log("building dist/ (scripts/build.ts) into a staging copy of the package");
  execFileSync(process.execPath, [join(repoRoot, "node_modules/tsx/dist/cli.mjs"), "scripts/build.ts", "--out-dir", join(stagingDir, "dist"), ...(readable ? ["--readable"] : [])], {
    cwd: repoRoot,
    stdio: "inherit",
  });
  for (const file of ["package.json", "openapi.yaml", "README.md", "LICENSE"]) cpSync(join(repoRoot, file), join(stagingDir, file));
  log("packing (npm pack) and installing the tarball into the consumer folder");
  // prepack would build a second time (generate + lint + build) into the staging copy's own dist/.
  const packed = JSON.parse(
    execFileSync(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", packageDir], { cwd: stagingDir, encoding: "utf8" }),
  ) as { filename: string; version: string }[];
  const tarball = packed[0]!.filename.replace(/^.*\//, "");
  writeFileSync(
    join(packageDir, "package.json"),
    `${JSON.stringify({ name: "bench-consumer", private: true, type: "module", dependencies: { "whatsapp-calling": `file:./${tarball}` } }, null, 2)}\n`,
  );
  execFileSync(npm, ["install", "--no-audit", "--no-fund", "--prefer-offline", "--no-package-lock", "--loglevel=error"], {
    cwd: packageDir,
    stdio: "inherit",
  });
  // The floors of the cold-import figures: a module that is as cheap to load as a module can be, and the same as
  // a package imported by name through `exports`, as every package is: that resolution alone costs Node 20 about
  // 1.5–2 ms the first time (it compiles the regular expression that checks an exports target's segments).
  writeFileSync(join(packageDir, "trivial.mjs"), "export const trivial = 1;\n");
  const trivialPackage = join(packageDir, "node_modules", "bench-trivial-package");
  mkdirSync(trivialPackage, { recursive: true });
  writeFileSync(join(trivialPackage, "package.json"), `${JSON.stringify({ name: "bench-trivial-package", type: "module", exports: { ".": "./index.js" } })}\n`);
  writeFileSync(join(trivialPackage, "index.js"), "export const trivial = 1;\n");
  // Resolves specifiers from the consumer folder, as a user's module there would.
  writeFileSync(join(packageDir, "resolve.mjs"), "export const resolve = (specifier) => import.meta.resolve(specifier);\n");
  if (!existsSync(join(packageDir, "node_modules", "whatsapp-calling", "dist", "src", "index.js"))) throw new Error("the packed package has no dist/");
  return packed[0]!.version;
}

/** Imports a module as the consumer folder would (`whatsapp-calling`, `whatsapp-api-js`, …). */
export async function importFromPackage<T = any>(specifier: string): Promise<T> {
  const { resolve } = (await import(pathToFileURL(join(packageDir, "resolve.mjs")).href)) as { resolve: (specifier: string) => string };
  return (await import(resolve(specifier))) as T;
}
