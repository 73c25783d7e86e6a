/**
 * How much of a search's objective each axis explains on its own, cheap and stable enough to recompute on every
 * page view: the correlation ratio η² (Pearson's; between-group over total sum of squares). On a full grid it equals
 * the main-effect share that fANOVA (Hutter et al. 2014, "An Efficient Approach for Assessing Hyperparameter
 * Importance") attributes to the axis; on the scattered points of a random or TPE search it is an approximation that
 * needs no model fit and no random forest seed. Pure.
 */

export interface ImportanceAxis {
  key: string;
  kind: 'numeric' | 'categorical';
}
export interface ImportanceRow {
  params: Record<string, string | number>;
  value: number;
}
export interface AxisImportance {
  key: string;
  /** share of the objective's variance explained by this axis alone, 0..1 */
  share: number;
  groups: number;
}

/**
 * Bins of a numeric axis with many distinct values: with one group per value, η² of n distinct values on n rows
 * would be 1 whatever the effect, so a continuous axis is coarsened to a few equal-count groups first.
 */
export const IMPORTANCE_BINS = 4;

const ABSENT = 'absent';

/**
 * Correlation ratio η² per axis (between-group variance over total variance of the objective, each row weighted
 * equally), the main-effect share that fANOVA reports for a full grid. Numeric axes with more than IMPORTANCE_BINS
 * distinct values are cut into IMPORTANCE_BINS equal-count bins by rank (ties kept in one bin); categorical axes and
 * numeric ones with few values group by value. Sorted by share descending, then key.
 * Returns [] when fewer than 3 rows or the objective has zero variance.
 *
 * Rows whose value is not finite are ignored. Rows without the axis form one "absent" group; on a numeric axis,
 * values that are not finite numbers group by value, apart from the binned numbers.
 */
export function axisImportance(rows: readonly ImportanceRow[], axes: readonly ImportanceAxis[]): AxisImportance[] {
  const keys = new Set<string>();
  for (const axis of axes) {
    if (keys.has(axis.key)) throw new Error(`axisImportance: axis ${axis.key} is listed twice`);
    keys.add(axis.key);
  }
  const kept = rows.filter((row) => Number.isFinite(row.value));
  if (kept.length < 3) return [];
  const values = kept.map((row) => row.value);
  // Exact equality, not a variance threshold: the mean of equal floats can differ from them in the last bit.
  if (values.every((v) => v === values[0])) return [];
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const total = values.reduce((s, v) => s + (v - mean) ** 2, 0);
  if (!(total > 0)) return [];

  const result = axes.map((axis): AxisImportance => {
    const labels = axis.kind === 'numeric' ? numericLabels(kept, axis.key) : kept.map((r) => valueLabel(r, axis.key));
    const groups = new Map<string, { n: number; sum: number }>();
    labels.forEach((label, i) => {
      const g = groups.get(label) ?? { n: 0, sum: 0 };
      g.n += 1;
      g.sum += values[i]!;
      groups.set(label, g);
    });
    let between = 0;
    for (const g of groups.values()) between += g.n * (g.sum / g.n - mean) ** 2;
    return { key: axis.key, share: Math.min(1, Math.max(0, between / total)), groups: groups.size };
  });
  return result.sort((a, b) => b.share - a.share || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The group of a row by its raw value; the type is part of the label, so 1 and "1" stay apart. */
function valueLabel(row: ImportanceRow, key: string): string {
  if (!Object.hasOwn(row.params, key)) return ABSENT;
  const v = row.params[key];
  return typeof v === 'number' ? `n:${v}` : `s:${String(v)}`;
}

/**
 * Groups of a numeric axis. With more than IMPORTANCE_BINS distinct finite numbers, each distinct value goes to the
 * bin where its first row falls in rank order (floor(rank · bins / count)), so equal values never straddle a
 * boundary and the bins hold about the same number of rows.
 */
function numericLabels(rows: readonly ImportanceRow[], key: string): string[] {
  const numbers: number[] = [];
  for (const row of rows) {
    const v = row.params[key];
    if (Object.hasOwn(row.params, key) && typeof v === 'number' && Number.isFinite(v)) numbers.push(v);
  }
  const distinct = [...new Set(numbers)].sort((a, b) => a - b);
  if (distinct.length <= IMPORTANCE_BINS) return rows.map((r) => valueLabel(r, key));

  const sorted = [...numbers].sort((a, b) => a - b);
  const binOf = new Map<number, number>();
  sorted.forEach((v, rank) => {
    if (!binOf.has(v)) binOf.set(v, Math.floor((rank * IMPORTANCE_BINS) / sorted.length));
  });
  return rows.map((row) => {
    const v = row.params[key];
    if (Object.hasOwn(row.params, key) && typeof v === 'number' && Number.isFinite(v)) return `bin:${binOf.get(v)}`;
    return valueLabel(row, key);
  });
}
