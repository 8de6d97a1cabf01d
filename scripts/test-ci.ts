// npm run test:ci: runs vitest with its JSON reporter and ends the log with the plain line
// "N passed, N failed" (", N skipped" when some were skipped), which CI reads.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./lib/spec.js";

const resultsFile = join(repoRoot, ".vitest-results.json");
rmSync(resultsFile, { force: true });
const run = spawnSync(
  process.execPath,
  [join(repoRoot, "node_modules/vitest/vitest.mjs"), "run", "--reporter=default", "--reporter=json", `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)],
  { cwd: repoRoot, stdio: "inherit", env: { ...process.env, CI: process.env.CI ?? "true" } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const results = JSON.parse(readFileSync(resultsFile, "utf8")) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
    testResults: { status: string; assertionResults: unknown[] }[];
  };
  passed = results.numPassedTests;
  failed = results.numFailedTests;
  skipped = results.numPendingTests + results.numTodoTests;
  // A file that fails to load has no assertion results; count it as a failure so that it cannot hide.
  failed += results.testResults.filter((file) => file.status === "failed" && file.assertionResults.length === 0).length;
} catch {
  failed += 1;
}
if (run.status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || run.status !== 0 ? 1 : 0);
