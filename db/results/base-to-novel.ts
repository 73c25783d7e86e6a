import { averageOver, type Cell, type CellReport, type Factor, type FactorValue, propagatedStd } from '../ablation.ts';
import { compareKeys, type FactorOrders, markBest, type Pivot, type PivotEntry, type PivotRow } from './pivot.ts';

/**
 * The base-to-novel table in the layout of CoCoOp's Table 1: per dataset (the average over datasets first), one row
 * per method (and per any other factor that varies), columns base, novel and HM.
 *
 * HM is the harmonic mean of the mean base and the mean novel accuracy of its row, computed after the averaging;
 * on the average row it is the harmonic mean of the dataset-averaged base and novel accuracies, not the average of
 * the per-dataset HMs (the convention of the community's result parsers and of the published tables). Being a
 * function of two means, it carries no std of its own. The average rows' base and novel stds are propagated from the
 * per-dataset sample stds, sqrt(sum std_d²) / D (db/ablation.ts propagatedStd).
 */
export const BASE_TO_NOVEL_COLUMNS = ['base', 'novel', 'HM'] as const;
export const AVERAGE_ROW = 'average';

export function harmonicMean(a: number | null, b: number | null): number | null {
  if (a === null || b === null) return null;
  return a + b === 0 ? 0 : (2 * a * b) / (a + b);
}

/** `report` is grouped by `rowFactors`, then `dataset` and `classSubset` (db/ablation.ts cellStats). */
export function baseToNovelPivot(report: CellReport, rowFactors: Factor[], orders: FactorOrders = {}): Pivot {
  const keyOf = (cell: { key: Record<string, FactorValue> }, dataset: FactorValue) => [
    dataset,
    ...rowFactors.map((factor) => cell.key[factor] ?? null),
  ];
  const rows = new Map<string, { key: FactorValue[]; base?: PivotEntry; novel?: PivotEntry }>();
  const put = (key: FactorValue[], subset: 'base' | 'novel', entry: PivotEntry) => {
    const id = JSON.stringify(key);
    const row = rows.get(id) ?? { key };
    row[subset] = entry;
    rows.set(id, row);
  };
  const entryOf = (cell: Cell): PivotEntry => ({
    mean: cell.mean,
    std: cell.stdSample,
    n: cell.n,
    expectedN: cell.expectedN,
    best: false,
  });
  for (const cell of report.cells) {
    const subset = cell.key.classSubset;
    if (subset === 'base' || subset === 'novel') put(keyOf(cell, cell.key.dataset ?? null), subset, entryOf(cell));
  }
  // The average row: the mean over datasets of each subset's means (its std propagated from theirs, as the
  // dashboard's average charts do), then HM of the two averages.
  for (const subset of ['base', 'novel'] as const) {
    const cells = report.cells.filter((cell) => cell.key.classSubset === subset);
    const stds = new Map<string, Array<number | null>>();
    for (const cell of cells) {
      if (cell.mean === null) continue;
      const id = JSON.stringify(keyOf(cell, AVERAGE_ROW));
      stds.set(id, [...(stds.get(id) ?? []), cell.stdSample]);
    }
    const averaged = averageOver({ ...report, cells, factors: report.factors.filter((f) => f !== 'classSubset') });
    for (const avg of averaged) {
      const key = keyOf(avg, AVERAGE_ROW);
      put(key, subset, {
        mean: avg.mean,
        std: propagatedStd(stds.get(JSON.stringify(key)) ?? []),
        n: avg.n,
        expectedN: avg.expectedN,
        best: false,
      });
    }
  }
  const out: PivotRow[] = [...rows.values()].map((row) => {
    const base = row.base ?? null;
    const novel = row.novel ?? null;
    const hm: PivotEntry | null =
      base && novel
        ? {
            mean: harmonicMean(base.mean, novel.mean),
            std: null,
            n: Math.min(base.n, novel.n),
            expectedN: Math.max(base.expectedN, novel.expectedN),
            best: false,
          }
        : null;
    return { key: row.key, entries: [base, novel, hm], average: null };
  });
  const factors: Factor[] = ['dataset', ...rowFactors];
  const order: FactorOrders = { ...orders, dataset: [AVERAGE_ROW, ...(orders.dataset ?? [])] };
  out.sort((a, b) => compareKeys(factors, a.key, b.key, order));
  // Best per column within each dataset: methods compete on the same classes only.
  const groups = new Map<FactorValue, PivotRow[]>();
  for (const row of out) groups.set(row.key[0] ?? null, [...(groups.get(row.key[0] ?? null) ?? []), row]);
  for (const group of groups.values()) markBest(group.map((row) => row.entries));
  return {
    rowFactors: factors,
    column: 'classSubset',
    columns: [...BASE_TO_NOVEL_COLUMNS],
    rows: out,
    averageLabel: null,
  };
}

export const BASE_TO_NOVEL_NOTE =
  "HM: harmonic mean of the row's mean base and mean novel accuracy; on the average rows, of the dataset-averaged base and novel (CoCoOp's convention), so it has no std of its own; on the average rows n counts datasets and ± is propagated from the datasets' stds, sqrt(Σ s²)/D";
