// Size and cold start of what users import, from the installed tarball and the installed peers.
// - size: an esbuild bundle (minified, ESM, platform node, node: built-ins external) of one named import,
//   dependencies included (openapi-fetch for us, zod for Kapso), gzip level 9, in kB of 1,000 bytes;
// - cold import: fresh node processes timing `await import(specifier)` from the consumer folder; the figure is
//   the median over the runs minus the median of importing a trivial one-line module in the same runs (the ESM
//   loader's fixed cost), with the [min–max] of the per-run differences.
import { execFileSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { summarize } from "./rounds.js";
import type { Column, Figure, Settings } from "./figure.js";
import { packageDir } from "./package.js";

const IMPORTS: { id: string; title: string; target: number; entries: Partial<Record<Column, string>> }[] = [
  {
    id: "size-client",
    title: "gzip size of `import { createCallingClient }`, esbuild minified (openapi-fetch included)",
    target: 8,
    entries: {
      "whatsapp-calling": 'export { createCallingClient } from "whatsapp-calling";',
      "whatsapp-api-js": 'export { WhatsAppAPI } from "whatsapp-api-js";',
      kapso: 'export { WhatsAppClient } from "@kapso/whatsapp-cloud-api";',
    },
  },
  {
    id: "size-webhooks",
    title: "gzip size of `import { createWebhookHandler }`",
    target: 6,
    entries: {
      "whatsapp-calling": 'export { createWebhookHandler } from "whatsapp-calling/webhooks";',
      "whatsapp-api-js": 'export { WhatsAppAPI } from "whatsapp-api-js/middleware/web-standard";',
      kapso: 'export { verifySignature, normalizeWebhook } from "@kapso/whatsapp-cloud-api/server";',
    },
  },
];

export async function gzipBytes(contents: string): Promise<{ minified: number; gzip: number }> {
  const result = await build({
    stdin: { contents, resolveDir: packageDir, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "node",
    write: false,
    logLevel: "error",
  });
  const code = result.outputFiles[0]!.contents;
  return { minified: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength };
}

export async function sizeFigures(): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const { id, title, target, entries } of IMPORTS) {
    const values: Figure["values"] = {};
    const absolute: Record<string, number> = {};
    for (const [column, contents] of Object.entries(entries) as [Column, string][]) {
      const { minified, gzip } = await gzipBytes(contents);
      const kB = gzip / 1000;
      values[column] = { median: kB, min: kB, max: kB };
      absolute[`${column} minified kB`] = minified / 1000;
    }
    figures.push({ id, title, unit: "kB", target, values, absolute, note: Object.values(entries).join(" | ") });
  }
  return figures;
}

const COLD: { name: string; specifier: string }[] = [
  { name: "trivial", specifier: "./trivial.mjs" },
  { name: "trivial package", specifier: "bench-trivial-package" },
  { name: "whatsapp-calling", specifier: "whatsapp-calling" },
  { name: "whatsapp-calling/webhooks", specifier: "whatsapp-calling/webhooks" },
  { name: "whatsapp-api-js", specifier: "whatsapp-api-js" },
  { name: "kapso", specifier: "@kapso/whatsapp-cloud-api" },
];

const TIMER =
  "const t = performance.now(), c = process.cpuUsage(); await import(process.argv[1]); const u = process.cpuUsage(c);" +
  "process.stdout.write(JSON.stringify([performance.now() - t, (u.user + u.system) / 1000]));";

/** Wall and CPU ms of one import in a fresh process. */
function importMs(specifier: string): [wall: number, cpu: number] {
  const output = execFileSync(process.execPath, ["--input-type=module", "-e", TIMER, specifier], { cwd: packageDir, encoding: "utf8" });
  return JSON.parse(output) as [number, number];
}

export function coldImportFigures(settings: Settings, log: (line: string) => void): Figure[] {
  // 31 processes each: a cold import is a few ms against a shared machine's jitter of as much, so the median needs them.
  const runs = settings.quick ? 2 : 31;
  log(`cold import, ${runs} fresh processes each`);
  const samples: Record<string, number[]> = Object.fromEntries(COLD.map(({ name }) => [name, []]));
  const cpuSamples: Record<string, number[]> = Object.fromEntries(COLD.map(({ name }) => [name, []]));
  for (let run = 0; run < runs + 1; run += 1) {
    const order = run % 2 === 0 ? COLD : [...COLD].reverse();
    for (const { name, specifier } of order) {
      const [wall, cpu] = importMs(specifier);
      if (run === 0) continue; // the first run warms the disk cache
      samples[name]!.push(wall);
      cpuSamples[name]!.push(cpu);
    }
  }
  const over = (from: Record<string, number[]>, name: string, floor = "trivial") => {
    const differences = from[name]!.map((ms, run) => ms - from[floor]![run]!);
    return { ...summarize(differences), median: summarize(from[name]!).median - summarize(from[floor]!).median };
  };
  // Wall ms of each import, and its CPU ms, medians.
  const absolute = Object.fromEntries(
    Object.keys(samples).flatMap((name) => [
      [name, summarize(samples[name]!).median],
      [`${name}:cpu`, summarize(cpuSamples[name]!).median],
    ]),
  );
  return [
    {
      id: "cold-import-client",
      title: "cold import of `whatsapp-calling` over a trivial module",
      unit: "ms",
      target: 7,
      values: { "whatsapp-calling": over(samples, "whatsapp-calling"), "whatsapp-api-js": over(samples, "whatsapp-api-js"), kapso: over(samples, "kapso") },
      absolute,
    },
    {
      id: "cold-import-client-cpu",
      title: "(the same, CPU ms of the importing process: steadier than wall time on a shared machine)",
      unit: "ms",
      values: { "whatsapp-calling": over(cpuSamples, "whatsapp-calling"), "whatsapp-api-js": over(cpuSamples, "whatsapp-api-js"), kapso: over(cpuSamples, "kapso") },
    },
    {
      id: "cold-import-webhooks",
      title: "cold import of `whatsapp-calling/webhooks` over a trivial module",
      unit: "ms",
      target: 4,
      values: { "whatsapp-calling": over(samples, "whatsapp-calling/webhooks") },
      absolute,
    },
    {
      id: "cold-import-webhooks-cpu",
      title: "(the same, CPU ms)",
      unit: "ms",
      values: { "whatsapp-calling": over(cpuSamples, "whatsapp-calling/webhooks") },
    },
    // What a package's own code costs: over a trivial package imported by name, which pays Node's resolution of a
    // bare specifier through `exports` as every package does (BENCHMARKS.md).
    {
      id: "cold-import-client-by-name",
      title: "(cold import of `whatsapp-calling` over a trivial package imported by name)",
      unit: "ms",
      values: {
        "whatsapp-calling": over(samples, "whatsapp-calling", "trivial package"),
        "whatsapp-api-js": over(samples, "whatsapp-api-js", "trivial package"),
        kapso: over(samples, "kapso", "trivial package"),
      },
    },
    {
      id: "cold-import-webhooks-by-name",
      title: "(cold import of `whatsapp-calling/webhooks` over a trivial package imported by name)",
      unit: "ms",
      values: { "whatsapp-calling": over(samples, "whatsapp-calling/webhooks", "trivial package") },
    },
  ];
}
