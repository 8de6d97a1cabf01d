// npm run bench: every figure of BENCHMARKS.md in one run, measured on the packed package side by side with
// hand-written floors and the peers (whatsapp-api-js, Kapso), in interleaved rounds after a warm-up. Prints the
// table and writes test-results/bench.json. Only ratios travel across machines; the µs are this machine's.
// Never part of the test suite's pass/fail: nothing here asserts a speed.
//
//   npm run bench                   full counts, 7 rounds (about 2–3 minutes on 2 cores)
//   BENCH_QUICK=1 npm run bench     tiny counts, 2 rounds: proves the harness works (CI runs it once)
//   BENCH_ONLY=client,webhooks,size,cold npm run bench   some groups only
import { cpus, totalmem } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { clientFigures } from "./client.js";
import { COLUMNS, formatTarget, formatValue, met, type Figure, type Settings } from "./figure.js";
import { installPackedPackage, outputDir } from "./package.js";
import { coldImportFigures, sizeFigures } from "./size.js";
import { startServer } from "./remote.js";
import { webhookFigures } from "./webhooks.js";

const quick = process.env.BENCH_QUICK === "1" || process.argv.includes("--quick");
const settings: Settings = { quick, rounds: quick ? 2 : Number(process.env.BENCH_ROUNDS ?? 7) };
const groups = new Set((process.env.BENCH_ONLY ?? "client,webhooks,size,cold").split(","));
const started = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);

function printTable(figures: Figure[]) {
  const header = ["figure", "whatsapp-calling", "whatsapp-api-js", "Kapso", "target", "met"];
  const rows = figures.map((figure) => {
    const verdict = met(figure);
    return [figure.title, ...COLUMNS.map((column) => formatValue(figure, figure.values[column])), formatTarget(figure), verdict === undefined ? "" : verdict ? "yes" : "NO"];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
  for (const row of rows) console.log(line(row));
}

const version = installPackedPackage(log);
const figures: Figure[] = [];
const server = await startServer();
try {
  if (groups.has("client")) figures.push(...(await clientFigures(`http://127.0.0.1:${server.ports.graph}`, settings, log)));
  if (groups.has("webhooks")) figures.push(...(await webhookFigures(server, settings, log)));
} finally {
  server.close();
}
if (groups.has("size")) figures.push(...(await sizeFigures()));
if (groups.has("cold")) figures.push(...coldImportFigures(settings, log));

const seconds = (performance.now() - started) / 1000;
const cpu = cpus();
const machine = { node: process.version, platform: `${process.platform} ${process.arch}`, cores: cpu.length, cpu: cpu[0]?.model ?? "unknown", memoryGB: Math.round(totalmem() / 2 ** 30) };
console.log(
  `\nwhatsapp-calling ${version} (packed) · Node ${machine.node} · ${machine.cores} × ${machine.cpu} · ` +
    `${quick ? "QUICK (counts too small to mean anything)" : `${settings.rounds} rounds after a warm-up`} · ${seconds.toFixed(0)} s\n` +
    "ratios: median [min–max] of per-round contender / floor; µs: over the floor where there is one\n",
);
printTable(figures);
mkdirSync(outputDir, { recursive: true });
writeFileSync(
  join(outputDir, "bench.json"),
  `${JSON.stringify({ package: { name: "whatsapp-calling", version }, machine, ...settings, seconds, figures }, null, 2)}\n`,
);
console.log(`\nwrote ${join(outputDir, "bench.json")}`);
