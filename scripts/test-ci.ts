// npm run test:ci: every check CI makes, then the test suite. Each check counts as one test, so that a stale
// generated/ or a type error fails the run as clearly as a failing test. The log always ends with the plain line
// "N passed, N failed" (", N skipped" when some were skipped), which CI reads; vitest's counts come from its
// JSON reporter.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./lib/spec.js";

const checks: [name: string, command: string][] = [
  ["generated/ matches openapi.yaml", "npm run --silent check:generated"],
  ["openapi.yaml passes redocly lint", "npm run --silent lint"],
  ["type check (src, generated, tests, type-level tests)", "npm run --silent typecheck"],
  ["build dist/", "npx tsx scripts/build.ts"],
  ["package: publint and are-the-types-wrong", "npm run --silent check:package"],
  ["package: size budgets", "npm run --silent size"],
];

let passed = 0;
let failed = 0;
let skipped = 0;
const failures: string[] = [];

for (const [name, command] of checks) {
  console.log(`\n=== check: ${name} (${command})`);
  const run = spawnSync(command, { cwd: repoRoot, stdio: "inherit", shell: true });
  if (run.status === 0) {
    passed += 1;
    console.log(`=== ok: ${name}`);
  } else {
    failed += 1;
    failures.push(name);
    console.log(`=== FAILED: ${name} (exit ${run.status})`);
  }
}

// test/runtimes/runtimes.test.ts writes its runtime × check table here; it is printed once, below.
const runtimesTable = join(repoRoot, "test-results", "runtimes.txt");
rmSync(runtimesTable, { force: true });

/** One vitest run; its counts come from the JSON reporter and are added to the summary. */
function vitest(label: string, args: string[]): void {
  const resultsFile = join(repoRoot, ".vitest-results.json");
  rmSync(resultsFile, { force: true });
  console.log(`\n=== tests: ${label}`);
  const run = spawnSync(
    process.execPath,
    [join(repoRoot, "node_modules/vitest/vitest.mjs"), "run", "--reporter=default", "--reporter=json", `--outputFile.json=${resultsFile}`, ...args],
    { cwd: repoRoot, stdio: "inherit", env: { ...process.env, CI: process.env.CI ?? "true", RUNTIMES_TABLE_PRINTED_BY_CI: "1" } },
  );
  const failedBefore = failed;
  try {
    const results = JSON.parse(readFileSync(resultsFile, "utf8")) as {
      numPassedTests: number;
      numFailedTests: number;
      numPendingTests: number;
      numTodoTests: number;
      testResults: { name: string; status: string; assertionResults: unknown[] }[];
    };
    passed += results.numPassedTests;
    failed += results.numFailedTests;
    skipped += results.numPendingTests + results.numTodoTests;
    // A file that fails to load has no assertion results; count it as a failure so that it cannot hide.
    for (const file of results.testResults) {
      if (file.status === "failed" && file.assertionResults.length === 0) {
        failed += 1;
        failures.push(`test file did not load: ${file.name}`);
      }
    }
  } catch {
    failed += 1;
    failures.push(`${label}: vitest wrote no results`);
  }
  if (run.status !== 0 && failed === failedBefore) {
    failed += 1;
    failures.push(`${label}: vitest exited with ${run.status}`);
  }
}

const filters = process.argv.slice(2);
if (filters.length > 0) {
  vitest("vitest", filters);
} else {
  // The runtime smoke test spawns six runtimes, a compiler and npm; it runs on its own, after the others, so
  // that it never competes for the (shared) cores with the tests that drive deadlines and load.
  vitest("vitest (all but test/runtimes)", ["--exclude", "test/runtimes/**"]);
  vitest("vitest: test/runtimes (every runtime × check)", ["test/runtimes/"]);
}

if (existsSync(runtimesTable)) console.log(`\n${readFileSync(runtimesTable, "utf8")}`);
if (failures.length > 0) console.log(`\nFailed checks and files:\n- ${failures.join("\n- ")}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
