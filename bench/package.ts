// What is measured is what users install: dist/ built from this checkout, packed with `npm pack` and installed
// from the tarball into a folder of its own (test-results/bench-package, with its own package.json). The peers
// resolve from the repository's node_modules (pinned devDependencies), one folder up the same lookup path.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const repoRoot = join(import.meta.dirname, "..");
export const packageDir = join(repoRoot, "test-results", "bench-package");

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/**
 * Builds dist/ (tsc, as `npm run build` does after generating: generated/ is committed and drift-checked), packs
 * it and installs the tarball. Returns the installed version.
 */
export function installPackedPackage(log: (line: string) => void): string {
  log("building dist/ (tsc -p tsconfig.build.json)");
  rmSync(join(repoRoot, "dist"), { recursive: true, force: true });
  execFileSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: repoRoot, stdio: "inherit" });
  rmSync(packageDir, { recursive: true, force: true });
  mkdirSync(packageDir, { recursive: true });
  log("packing (npm pack) and installing the tarball into test-results/bench-package");
  // prepack would rebuild dist/ a second time (generate + lint + tsc); dist/ was just built.
  const packed = JSON.parse(
    execFileSync(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", packageDir], { cwd: repoRoot, encoding: "utf8" }),
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
  // The floor of the cold-import figure: a module that is as cheap to load as a module can be.
  writeFileSync(join(packageDir, "trivial.mjs"), "export const trivial = 1;\n");
  // Resolves specifiers from the consumer folder, as a user's module there would.
  writeFileSync(join(packageDir, "resolve.mjs"), "export const resolve = (specifier) => import.meta.resolve(specifier);\n");
  if (!readdirSync(join(packageDir, "node_modules", "whatsapp-calling")).includes("dist")) throw new Error("the packed package has no dist/");
  return packed[0]!.version;
}

/** Imports a module as the consumer folder would (`whatsapp-calling`, `whatsapp-api-js`, …). */
export async function importFromPackage<T = any>(specifier: string): Promise<T> {
  const { resolve } = (await import(pathToFileURL(join(packageDir, "resolve.mjs")).href)) as { resolve: (specifier: string) => string };
  return (await import(resolve(specifier))) as T;
}
