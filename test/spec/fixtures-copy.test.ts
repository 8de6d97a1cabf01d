// test/fixtures is a byte-exact copy of the project's shared fixtures, so that a clone outside this workspace
// still has them. Where the shared folder is beside the repository (as in CI), the copy must not have drifted.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/spec.js";
import { fixturesDir } from "../helpers/fixtures.js";

const sharedDir = join(repoRoot, "..", "shared", "fixtures");

// test/fixtures/reference-samples holds the samples of ../shared/reference (checked in test/webhooks/reference-samples.test.ts).
const OWN_FOLDERS = ["reference-samples/"];

function files(root: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name)) : [relative(root, join(dir, entry.name))],
    );
  return walk(root)
    .filter((file) => !OWN_FOLDERS.some((folder) => file.startsWith(folder)))
    .sort();
}

describe("test/fixtures", () => {
  it("holds the webhook, API and signature fixtures", () => {
    const copied = files(fixturesDir);
    expect(copied).toContain("webhooks/signature.cases.json");
    expect(copied).toContain("api/calls.accept.request.json");
    expect(copied.length).toBeGreaterThanOrEqual(30);
  });

  it.skipIf(!existsSync(sharedDir))("is byte for byte the same as ../shared/fixtures", () => {
    expect(files(fixturesDir)).toEqual(files(sharedDir));
    for (const file of files(sharedDir)) {
      expect(readFileSync(join(fixturesDir, file)).equals(readFileSync(join(sharedDir, file))), file).toBe(true);
    }
  });
});
