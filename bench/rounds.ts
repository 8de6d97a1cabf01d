// Interleaved rounds: every round runs each contender of a figure once, in an order that rotates (and reverses
// every other round), so that machine drift, collector debt and warm caches fall on every contender alike. A
// figure is then the per-round ratio (or difference) to the floor measured in the same round: its median and
// [min–max] over the rounds. A shorter warm-up pass of every contender runs first and is discarded.

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

// A full collection before every batch, outside the clock: each batch then starts with an empty heap debt and
// pays for its own garbage only, not for the previous contender's.
setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

export interface Contender {
  /** Key of the column: "floor", "whatsapp-calling", "whatsapp-api-js", "kapso". */
  name: string;
  /**
   * Runs a batch of `count` operations and returns the cost per operation (µs of wall or CPU time), or the wall
   * cost with this process's CPU cost beside it (kept as `<name>:cpu`).
   */
  measure: (count: number) => Promise<number | { wall: number; cpu: number }>;
}

export interface Plan {
  rounds: number;
  /** Operations per contender per round. */
  count: number;
  /** Operations per contender in the warm-up pass before the first round (not recorded). */
  warmup: number;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
}

export type Samples = Record<string, number[]>;

export async function runRounds(contenders: Contender[], plan: Plan): Promise<Samples> {
  const samples: Samples = Object.fromEntries(contenders.map((contender) => [contender.name, []]));
  for (const contender of contenders) {
    collectGarbage();
    await contender.measure(plan.warmup);
  }
  for (let round = 0; round < plan.rounds; round += 1) {
    const rotated = contenders.map((_, index) => contenders[(index + round) % contenders.length]!);
    if (round % 2 === 1) rotated.reverse();
    for (const contender of rotated) {
      collectGarbage();
      const value = await contender.measure(plan.count);
      if (typeof value === "number") samples[contender.name]!.push(value);
      else {
        samples[contender.name]!.push(value.wall);
        (samples[`${contender.name}:cpu`] ??= []).push(value.cpu);
      }
    }
  }
  return samples;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >>> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Per-round `subject / floor`. */
export function ratios(samples: Samples, subject: string, floor = "floor"): number[] {
  return samples[subject]!.map((value, round) => value / samples[floor]![round]!);
}

/** Per-round `subject − floor`. */
export function differences(samples: Samples, subject: string, floor = "floor"): number[] {
  return samples[subject]!.map((value, round) => value - samples[floor]![round]!);
}

/** Runs `operation` `count` times one after the other; µs per operation. */
export async function sequential(count: number, operation: (index: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let index = 0; index < count; index += 1) await operation(index);
  return ((performance.now() - started) * 1000) / count;
}

/**
 * Like `sequential`, but µs of this process's CPU time (user + system, all threads) per operation: for work that
 * never waits on I/O, this is the work itself, and it does not grow when other processes take the cores.
 */
export async function sequentialCpu(count: number, operation: (index: number) => Promise<unknown> | unknown): Promise<number> {
  const started = process.cpuUsage();
  for (let index = 0; index < count; index += 1) await operation(index);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / count;
}

/**
 * Runs `operation` `count` times with `concurrency` in flight (1: one after the other); µs of wall time per
 * operation, and µs of this process's CPU time per operation.
 */
export async function inFlight(count: number, concurrency: number, operation: (index: number) => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  let next = 0;
  const worker = async () => {
    while (next < count) await operation(next++);
  };
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const wall = ((performance.now() - started) * 1000) / count;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / count };
}

/** The `<name>:cpu` samples of a run, under their contenders' names. */
export function cpuSamples(samples: Samples): Samples {
  return Object.fromEntries(Object.entries(samples).flatMap(([key, values]) => (key.endsWith(":cpu") ? [[key.slice(0, -4), values]] : [])));
}

/** A synchronous loop; µs of this process's CPU time per operation. */
export function loopCpu(count: number, operation: (index: number) => unknown): number {
  const started = process.cpuUsage();
  for (let index = 0; index < count; index += 1) operation(index);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / count;
}
