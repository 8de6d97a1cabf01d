// Prints BENCHMARKS.md's table from bench.json files: whatsapp-calling's column of each file (labelled), then the
// peers' columns of the last one, then the target.
//
//   npx tsx bench/table.ts 0.1.0=before.json "perf+hooks=test-results/bench.json"
import { readFileSync } from "node:fs";
import { formatTarget, formatValue, met, type Figure } from "./figure.js";

const runs = process.argv.slice(2).map((argument) => {
  const [label, file] = argument.includes("=") ? (argument.split("=", 2) as [string, string]) : [argument, argument];
  return { label, result: JSON.parse(readFileSync(file, "utf8")) as { figures: Figure[] } };
});
if (runs.length === 0) throw new Error("usage: npx tsx bench/table.ts [label=]bench.json …");
const last = runs[runs.length - 1]!.result;
const header = ["figure", ...runs.map(({ label }) => `whatsapp-calling ${label}`), "whatsapp-api-js", "Kapso", "target", "met"];
const escape = (text: string) => text.replaceAll("|", "\\|");
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map(() => "---").join("|")}|`);
for (const figure of last.figures) {
  const ours = runs.map(({ result }) => {
    const same = result.figures.find((other) => other.id === figure.id);
    return same ? formatValue(same, same.values["whatsapp-calling"]) : "—";
  });
  const verdict = met(figure);
  const cells = [
    escape(figure.title),
    ...ours,
    formatValue(figure, figure.values["whatsapp-api-js"]),
    formatValue(figure, figure.values.kapso),
    formatTarget(figure),
    verdict === undefined ? "" : verdict ? "yes" : "**no**",
  ];
  console.log(`| ${cells.join(" | ")} |`);
}
