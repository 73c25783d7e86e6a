import type { FactorValue } from '../db/ablation.ts';
import { compareValues } from '../db/results/pivot.ts';

/**
 * Naming and ordering of a chart's series, pure. A series is keyed by the method and the factors cellStats had to add
 * to keep settings apart (db/ablation.ts); its name shows the method and only those other factors whose value differs
 * between the view's series, so that "dpt shots=2" is not drowned in factors every series shares.
 */
export interface SeriesKey {
  key: Record<string, FactorValue>;
}

/** The non-method factors whose values differ between the series, in the order of `factors`. */
export function differingFactors(series: SeriesKey[], factors: string[]): string[] {
  return factors.filter(
    (factor) =>
      factor !== 'method' && new Set(series.map((entry) => JSON.stringify(entry.key[factor] ?? null))).size > 1,
  );
}

/**
 * "method factor=value ...": the method when set, then each differing factor that is set for this series (a factor its
 * method does not read is null and says nothing); "all" when that leaves nothing.
 */
export function seriesName(key: Record<string, FactorValue>, differing: string[]): string {
  const parts: string[] = [];
  const method = key.method;
  if (method !== undefined && method !== null) parts.push(String(method));
  for (const factor of differing) {
    const value = key[factor];
    if (value !== undefined && value !== null) parts.push(`${factor}=${value}`);
  }
  return parts.length === 0 ? 'all' : parts.join(' ');
}

/**
 * Sorts series by method in `methodOrder` (methods it lacks after, by name), then by the other factors' values in the
 * order of `factors` (null first, numbers numerically).
 */
export function compareSeries(methodOrder: readonly string[], factors: string[]) {
  const rank = (method: FactorValue | undefined) => {
    const index = methodOrder.indexOf(String(method));
    return index === -1 ? methodOrder.length : index;
  };
  return (a: SeriesKey, b: SeriesKey): number => {
    const byRank = rank(a.key.method) - rank(b.key.method);
    if (byRank !== 0) return byRank;
    for (const factor of ['method', ...factors.filter((f) => f !== 'method')]) {
      const order = compareValues(a.key[factor] ?? null, b.key[factor] ?? null);
      if (order !== 0) return order;
    }
    return 0;
  };
}
