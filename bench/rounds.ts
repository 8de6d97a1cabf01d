// Interleaved rounds: every round runs each contender of a figure once, in an order that rotates (and reverses
// every other round), so that machine drift, collector debt and warm caches fall on every contender alike. A
// figure is then the per-round ratio (or difference) to the floor measured in the same round: its median and
// [min–max] over the rounds. Warm-up rounds run the same code first and are discarded.

export interface Contender {
  /** Key of the column: "floor", "whatsapp-calling", "whatsapp-api-js", "kapso". */
  name: string;
  /** Runs one batch and returns its cost per operation (µs of wall or CPU time). */
  measure: () => Promise<number>;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
}

export type Samples = Record<string, number[]>;

export async function runRounds(contenders: Contender[], rounds: number, warmup: number): Promise<Samples> {
  const samples: Samples = Object.fromEntries(contenders.map((contender) => [contender.name, []]));
  for (let round = 0; round < warmup + rounds; round += 1) {
    const rotated = contenders.map((_, index) => contenders[(index + round) % contenders.length]!);
    if (round % 2 === 1) rotated.reverse();
    for (const contender of rotated) {
      const value = await contender.measure();
      if (round >= warmup) samples[contender.name]!.push(value);
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

/** Runs `operation` `count` times with `concurrency` in flight; µs of wall time per operation. */
export async function concurrent(count: number, concurrency: number, operation: (index: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count) await operation(next++);
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return ((performance.now() - started) * 1000) / count;
}

/** Synchronous loop; µs per operation. */
export function loop(count: number, operation: (index: number) => unknown): number {
  const started = performance.now();
  for (let index = 0; index < count; index += 1) operation(index);
  return ((performance.now() - started) * 1000) / count;
}
