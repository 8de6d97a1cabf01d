// One row of the table: a figure, its value for each column (whatsapp-calling and the peers), the target the
// package must meet, and the absolute medians behind a ratio (this machine's, for context only).
import { differences, ratios, summarize, type Plan, type Samples, type Summary } from "./rounds.js";

export const COLUMNS = ["whatsapp-calling", "whatsapp-api-js", "kapso"] as const;
export type Column = (typeof COLUMNS)[number];

export interface Figure {
  id: string;
  title: string;
  /** ratio: per-round value / floor; µs, ms, kB: absolute (µs over the floor where a floor is named). */
  unit: "ratio" | "µs" | "ms" | "kB";
  /** whatsapp-calling's value must be at most this. */
  target?: number;
  values: Partial<Record<Column, Summary>>;
  /** Median µs (or ms) per operation of each contender, the floor included. */
  absolute?: Record<string, number>;
  note?: string;
}

export interface Settings {
  quick: boolean;
  rounds: number;
}

/** The rounds of one figure: `full` operations per round (`quick` in quick mode), a tenth of that to warm up. */
export function plan(settings: Settings, full: number, quick: number): Plan {
  const count = settings.quick ? quick : full;
  return { rounds: settings.rounds, count, warmup: Math.max(1, Math.round(count / 10)) };
}

function absolute(samples: Samples): Record<string, number> {
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, summarize(values).median]));
}

/** A figure of per-round ratios to the contender named "floor". */
export function ratioFigure(id: string, title: string, samples: Samples, target?: number, note?: string): Figure {
  const values: Figure["values"] = {};
  for (const column of COLUMNS) if (samples[column]) values[column] = summarize(ratios(samples, column));
  return { id, title, unit: "ratio", target, values, absolute: absolute(samples), note };
}

/** A figure of per-round differences to the floor (µs), or of absolute values when there is no floor. */
export function microsecondsFigure(id: string, title: string, samples: Samples, target?: number, note?: string): Figure {
  const values: Figure["values"] = {};
  for (const column of COLUMNS) {
    if (samples[column]) values[column] = summarize(samples.floor ? differences(samples, column) : samples[column]!);
  }
  return { id, title, unit: "µs", target, values, absolute: absolute(samples), note };
}

export function met(figure: Figure): boolean | undefined {
  const ours = figure.values["whatsapp-calling"];
  if (figure.target === undefined || !ours) return undefined;
  return ours.median <= figure.target;
}

export function formatValue(figure: Figure, summary: Summary | undefined): string {
  if (!summary) return "—";
  const digits = figure.unit === "ratio" ? 2 : figure.unit === "kB" ? 1 : Math.abs(summary.median) >= 10 ? 1 : 2;
  const number = (value: number) => value.toFixed(digits);
  const unit = figure.unit === "ratio" ? "" : ` ${figure.unit}`;
  if (summary.min === summary.max) return `${number(summary.median)}${unit}`;
  return `${number(summary.median)} [${number(summary.min)}–${number(summary.max)}]${unit}`;
}

export function formatTarget(figure: Figure): string {
  if (figure.target === undefined) return "";
  return `≤ ${figure.unit === "ratio" ? figure.target.toFixed(2) : figure.target} ${figure.unit === "ratio" ? "" : figure.unit}`.trim();
}
