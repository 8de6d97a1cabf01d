// `npm run bump-api-version` on a temporary copy of the repository (its files as git sees them, node_modules
// linked): the new version reaches generated/ and the URLs the client calls; bad input changes nothing.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphServer, loadSpec, repoRoot } from "../../scripts/lib/spec.js";
import { CHANGELOG_AREAS, CHANGELOG_KEY, versionsBetween } from "../../scripts/bump-api-version.js";

/** A copy of the working tree: tracked files and new files git does not ignore, plus a link to node_modules. */
function copyRepository(): string {
  const listing = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  if (listing.status !== 0) throw new Error(`git ls-files failed: ${listing.stderr}`);
  const copy = mkdtempSync(join(tmpdir(), "whatsapp-calling-bump-"));
  try {
    for (const file of listing.stdout.split("\0").filter(Boolean)) {
      const source = join(repoRoot, file);
      // Regular files only: a file deleted in the working tree, or a link (a node_modules link in a copy), is skipped.
      if (!existsSync(source) || !lstatSync(source).isFile()) continue;
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      copyFileSync(source, join(copy, file));
    }
    symlinkSync(join(repoRoot, "node_modules"), join(copy, "node_modules"), "dir");
  } catch (error) {
    rmSync(copy, { recursive: true, force: true });
    throw error;
  }
  return copy;
}

function bump(cwd: string, ...args: string[]) {
  const result = spawnSync("npm", ["run", "--silent", "bump-api-version", "--", ...args], { cwd, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, output: result.stdout + result.stderr };
}

const original = graphServer(loadSpec()).defaultVersion;
const [major] = original.slice(1).split(".").map(Number);
const next = `v${major! + 1}.0`;

describe("npm run bump-api-version", () => {
  let copy: string;
  let originalSpec: Buffer;

  beforeAll(() => {
    copy = copyRepository();
    originalSpec = readFileSync(join(copy, "openapi.yaml"));
  });

  afterAll(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it(`moves the copy from ${original} to ${next}: openapi.yaml (the version and a changelog entry to fill), generated/, docs`, () => {
    const result = bump(copy, next, "--skip-tests");
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toContain(`Graph API version ${original} -> ${next}`);
    expect(result.stdout).toMatch(/changed {2}openapi\.yaml/);
    expect(result.stdout).toMatch(/changed {2}generated\/api-version\.ts/);
    expect(result.stdout).toContain("tests: skipped (--skip-tests)");
    expect(result.stdout).toContain("Calling API reference, its version selector");

    expect(result.stdout).toContain(`${CHANGELOG_KEY} has a new ${next} entry; replace its TODOs`);
    expect(result.stdout).toContain(`read Meta's changelogs for ${versionsBetween(original, next).join(", ")}`);

    // openapi.yaml: the server variable's default changed in place, and the changelog has a new first entry
    // with a TODO per endpoint; every other line as it was.
    const before = originalSpec.toString("utf8").split("\n");
    const after = readFileSync(join(copy, "openapi.yaml"), "utf8").split("\n");
    const listLine = after.indexOf(`${CHANGELOG_KEY}:`) + 1;
    expect(listLine).toBe(before.indexOf(`${CHANGELOG_KEY}:`) + 1);
    const added = after.length - before.length;
    expect(added).toBeGreaterThan(CHANGELOG_AREAS.length);
    const rest = [...after.slice(0, listLine), ...after.slice(listLine + added)];
    const differing = before.flatMap((line, index) => (line === rest[index] ? [] : [[line, rest[index]]]));
    expect(differing).toEqual([[`        default: ${original}`, `        default: ${next}`]]);
    expect(after[listLine]).toBe(`  - version: ${next}`);
    const entry = (loadSpec(join(copy, "openapi.yaml"))[CHANGELOG_KEY] as { version: string; previous: string; changes: Record<string, string> }[])[0]!;
    expect(entry.version).toBe(next);
    expect(entry.previous).toBe(original);
    expect(Object.keys(entry.changes)).toEqual([...CHANGELOG_AREAS]);
    for (const change of Object.values(entry.changes)) expect(change).toMatch(/^TODO: /);
    // The changelog's own mentions of the old version are not listed as places to look at.
    expect(result.stdout).not.toMatch(/openapi\.yaml:\d+: - version:/);

    const apiVersion = readFileSync(join(copy, "generated", "api-version.ts"), "utf8");
    expect(apiVersion).toContain(`export const DEFAULT_API_VERSION = ${JSON.stringify(next)};`);
    // Without --skip-docs the page is rebuilt from the new spec.
    expect(readFileSync(join(copy, "docs", "index.html"), "utf8")).toContain(next);
    // The repository itself is untouched.
    expect(graphServer(loadSpec()).defaultVersion).toBe(original);
  }, 120_000);

  it(`makes the copy's client call /${next}/...`, async () => {
    const seen: { method: string; url: string }[] = [];
    const server: Server = createServer((request: IncomingMessage, response) => {
      seen.push({ method: request.method ?? "", url: request.url ?? "" });
      request.resume();
      request.on("end", () => {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ messaging_product: "whatsapp", success: true }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = (await import(pathToFileURL(join(copy, "src", "index.ts")).href)) as typeof import("../../src/index.js");
      expect(client.DEFAULT_API_VERSION).toBe(next);
      const calls = client.createCallingClient({
        phoneNumberId: "117823401562387",
        accessToken: "test-token",
        baseUrl: `http://127.0.0.1:${port}`,
        retry: false,
      });
      await calls.terminate("wacid.bump-test");
      expect(seen).toEqual([{ method: "POST", url: `/${next}/117823401562387/calls` }]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it.each(["24", "v24", "latest", "v24.0.1", "24.0"])("refuses the malformed version %j and changes nothing", (bad) => {
    const spec = readFileSync(join(copy, "openapi.yaml"));
    const generated = readFileSync(join(copy, "generated", "api-version.ts"));
    const result = bump(copy, bad, "--skip-tests", "--skip-docs");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`"${bad}" is not a Graph API version: it must look like v24.0`);
    expect(result.stderr).toContain("Nothing was changed.");
    expect(readFileSync(join(copy, "openapi.yaml")).equals(spec)).toBe(true);
    expect(readFileSync(join(copy, "generated", "api-version.ts")).equals(generated)).toBe(true);
  });

  it("refuses a missing version or an unknown option", () => {
    const none = bump(copy, "--skip-tests");
    expect(none.status).not.toBe(0);
    expect(none.stderr).toContain("expected exactly one version, got none");
    const unknown = bump(copy, next, "--yes");
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain("unknown option --yes");
  });

  it(`refuses to go back to ${original} without --force, then goes back byte for byte with it (the unfilled entry removed)`, () => {
    const spec = readFileSync(join(copy, "openapi.yaml"));
    const refused = bump(copy, original, "--skip-tests", "--skip-docs");
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(`${original} is older than the current ${next}`);
    expect(refused.stderr).toContain("--force");
    expect(readFileSync(join(copy, "openapi.yaml")).equals(spec)).toBe(true);

    const forced = bump(copy, original, "--force", "--skip-tests", "--skip-docs");
    expect(forced.status, forced.output).toBe(0);
    expect(forced.stdout).toContain(`Graph API version: ${next} -> ${original} (backwards, --force)`);
    expect(forced.stdout).toContain("docs: skipped (--skip-docs)");
    expect(forced.stdout).toContain(`${CHANGELOG_KEY} lost the unfilled ${next} entry`);
    expect(readFileSync(join(copy, "openapi.yaml")).equals(originalSpec)).toBe(true);
    expect(readFileSync(join(copy, "generated", "api-version.ts"), "utf8")).toContain(
      `export const DEFAULT_API_VERSION = ${JSON.stringify(original)};`,
    );
  }, 120_000);

  it("does nothing when the version is already current", () => {
    const result = bump(copy, original);
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toContain(`openapi.yaml already uses ${original}; nothing to do.`);
    expect(readFileSync(join(copy, "openapi.yaml")).equals(originalSpec)).toBe(true);
  });
});
