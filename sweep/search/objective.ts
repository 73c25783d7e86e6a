/**
 * The objective a search maximises for one configuration: the mean over its (dataset, shots) cells of the mean over
 * seeds of its trials' validation top-1. Seeds are replicates, so each cell counts once however many seeds it has;
 * a seed whose trial failed is left out of its cell's mean. Null when no trial has a result. Pure.
 */
export interface ValidationPoint {
  dataset: string;
  shots: number;
  top1: number;
}

export function configurationObjective(points: readonly ValidationPoint[]): number | null {
  const cells = new Map<string, number[]>();
  for (const p of points) {
    if (!Number.isFinite(p.top1)) continue;
    const key = `${p.dataset}\u0000${p.shots}`;
    const list = cells.get(key);
    if (list) list.push(p.top1);
    else cells.set(key, [p.top1]);
  }
  if (cells.size === 0) return null;
  let sum = 0;
  for (const values of cells.values()) sum += values.reduce((a, b) => a + b, 0) / values.length;
  return sum / cells.size;
}

/** Mean and sample standard deviation (n − 1; null for one value) of the finite values. */
export function meanStd(values: readonly number[]): { mean: number; std: number | null; n: number } | null {
  const xs = values.filter(Number.isFinite);
  if (xs.length === 0) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length === 1) return { mean, std: null, n: 1 };
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1);
  return { mean, std: Math.sqrt(variance), n: xs.length };
}
