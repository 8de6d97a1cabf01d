// `npm run bench` works: one run with tiny counts (BENCH_QUICK=1) on the packed package, into its own folder.
// It checks that every figure of BENCHMARKS.md comes out, for whatsapp-calling and for each peer that has an
// equivalent, as a finite number. Nothing here looks at how fast anything is: quick counts measure nothing.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { repoRoot } from "../../scripts/lib/spec.js";

interface Summary {
  median: number;
  min: number;
  max: number;
}

const outputDir = join(repoRoot, "test-results", "bench-quick");

// Every figure, with the columns it must have.
const expected: Record<string, string[]> = {
  "terminate-sequential": ["whatsapp-calling", "whatsapp-api-js", "kapso"],
  "terminate-sequential-cpu": ["whatsapp-calling", "whatsapp-api-js", "kapso"],
  "terminate-concurrent": ["whatsapp-calling", "whatsapp-api-js", "kapso"],
  "terminate-concurrent-cpu": ["whatsapp-calling", "whatsapp-api-js", "kapso"],
  "client-own-work": ["whatsapp-calling", "whatsapp-api-js", "kapso"],
  "verify-parse-connect": ["whatsapp-calling", "whatsapp-api-js", "kapso"],
  "verify-parse-batch": ["whatsapp-calling", "whatsapp-api-js", "kapso"],
  "handler-connect": ["whatsapp-calling", "whatsapp-api-js"],
  "handler-batch": ["whatsapp-calling", "whatsapp-api-js"],
  "node-server": ["whatsapp-calling", "whatsapp-api-js"],
  "dedupe-full": ["whatsapp-calling"],
  "size-client": ["whatsapp-calling", "whatsapp-api-js", "kapso"],
  "size-webhooks": ["whatsapp-calling", "whatsapp-api-js", "kapso"],
  "cold-import-client": ["whatsapp-calling", "whatsapp-api-js", "kapso"],
  "cold-import-client-cpu": ["whatsapp-calling", "whatsapp-api-js", "kapso"],
  "cold-import-webhooks": ["whatsapp-calling"],
  "cold-import-webhooks-cpu": ["whatsapp-calling"],
  "cold-import-client-by-name": ["whatsapp-calling", "whatsapp-api-js", "kapso"],
  "cold-import-webhooks-by-name": ["whatsapp-calling"],
};

it("BENCH_QUICK=1 npm run bench prints and writes every figure, for the package and its peers", () => {
  const run = spawnSync(process.execPath, [join(repoRoot, "node_modules/tsx/dist/cli.mjs"), "bench/run.ts"], {
    cwd: repoRoot,
    encoding: "utf8",
    env: { ...process.env, BENCH_QUICK: "1", BENCH_OUTPUT_DIR: outputDir },
  });
  expect(run.status, run.stderr).toBe(0);

  const result = JSON.parse(readFileSync(join(outputDir, "bench.json"), "utf8")) as {
    package: { name: string; version: string };
    machine: { node: string; cores: number };
    quick: boolean;
    rounds: number;
    figures: { id: string; title: string; unit: string; target: number; values: Record<string, Summary> }[];
  };
  const packageJson = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
  expect(result.package).toEqual({ name: "whatsapp-calling", version: packageJson.version });
  expect(result.machine.node).toBe(process.version);
  expect(result.quick).toBe(true);
  expect(Object.fromEntries(result.figures.map((figure) => [figure.id, Object.keys(figure.values).sort()]))).toEqual(
    Object.fromEntries(Object.entries(expected).map(([id, columns]) => [id, [...columns].sort()])),
  );
  // Every figure of the table has its target; the CPU companions of wall-time figures and the cold imports
  // over a trivial package (the same imports against another floor) have none.
  for (const figure of result.figures) expect(figure.target === undefined, figure.id).toBe(/-(cpu|by-name)$/.test(figure.id));
  for (const figure of result.figures) {
    for (const [column, summary] of Object.entries(figure.values)) {
      for (const value of [summary.median, summary.min, summary.max]) expect(Number.isFinite(value), `${figure.id} ${column}`).toBe(true);
      expect(summary.min, `${figure.id} ${column}`).toBeLessThanOrEqual(summary.max);
      // Each figure's title is a line of the printed table.
      expect(run.stdout).toContain(figure.title);
    }
  }
  // Sizes do not depend on timing: a bundle of the package's client is never empty.
  expect(result.figures.find((figure) => figure.id === "size-client")!.values["whatsapp-calling"]!.median).toBeGreaterThan(1);
}, 240_000);
