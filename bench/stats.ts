/** Small statistics and timing helpers shared by the benchmark scenarios. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0, samples };
}

/** Calls `fn` repeatedly for `ms` milliseconds; returns calls per second. */
export async function rate(fn: () => Promise<unknown>, ms: number): Promise<number> {
  const start = performance.now();
  let n = 0;
  let now = start;
  while (now - start < ms) {
    await fn();
    n++;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

/** The `q` quantile (0–1) of ascending `sorted` values (nearest rank); 0 when empty. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] as number;
}

/** `x` rounded to 2 decimals (for ratios in the raw figures). */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
