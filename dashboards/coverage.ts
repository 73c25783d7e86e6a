import { cellStats, type Factor, type FactorValue } from '../db/ablation.ts';
import type { Queryable } from '../db/migrate.ts';
import { compareKeys } from '../db/results/pivot.ts';
import { sweepFactorValues } from './queries.ts';

/**
 * The missing-cell map: every planned cell of a sweep (rows = method and the factors it varies, columns = dataset and,
 * when swept, shots) with how many of its planned seeds have a result. Counted by db/ablation.ts cellStats.
 */

export interface CoverageCell {
  /** Indices into rows and columns. */
  row: number;
  column: number;
  n: number;
  expectedN: number;
}
export interface CoverageMap {
  rowFactors: Factor[];
  columnFactors: Factor[];
  rows: string[];
  columns: string[];
  cells: CoverageCell[];
  /** Planned cells without a single result. */
  missing: number;
  /** Planned cells with some but not all seeds. */
  partial: number;
}

const rowLabel = (factors: Factor[], values: FactorValue[]) =>
  factors.map((factor, i) => (factor === 'method' ? String(values[i]) : `${factor}=${values[i]}`)).join(' ');
const columnLabel = (factors: Factor[], values: FactorValue[]) =>
  factors.map((factor, i) => (factor === 'shots' ? `${values[i]}-shot` : String(values[i]))).join(' ');

export async function coverageMap(db: Queryable, sweepId: string): Promise<CoverageMap> {
  const values = await sweepFactorValues(db, sweepId);
  const varying = (factor: string) => (values[factor]?.length ?? 0) > 1;
  const columnFactors: Factor[] = varying('shots') ? ['dataset', 'shots'] : ['dataset'];
  // Rows: the method and every factor cellStats finds varying inside a (method, column) cell — the sweep's arms.
  const report = await cellStats(db, { sweepIds: [sweepId], factors: ['method', ...columnFactors] });
  const rowFactors: Factor[] = ['method', ...report.added];

  const axis = (factors: Factor[]) => {
    const keys = new Map<string, FactorValue[]>();
    for (const cell of report.cells) {
      const key = factors.map((factor) => cell.key[factor] ?? null);
      keys.set(JSON.stringify(key), key);
    }
    const sorted = [...keys.entries()].sort((a, b) => compareKeys(factors, a[1], b[1]));
    return { index: new Map(sorted.map(([id], i) => [id, i])), keys: sorted.map(([, key]) => key) };
  };
  const rows = axis(rowFactors);
  const columns = axis(columnFactors);
  const indexOf = (index: Map<string, number>, factors: Factor[], key: Record<string, FactorValue>) =>
    index.get(JSON.stringify(factors.map((factor) => key[factor] ?? null))) as number;

  const cells = report.cells.map(
    (cell): CoverageCell => ({
      row: indexOf(rows.index, rowFactors, cell.key),
      column: indexOf(columns.index, columnFactors, cell.key),
      n: cell.n,
      expectedN: cell.expectedN,
    }),
  );
  return {
    rowFactors,
    columnFactors,
    rows: rows.keys.map((key) => rowLabel(rowFactors, key)),
    columns: columns.keys.map((key) => columnLabel(columnFactors, key)),
    cells,
    missing: report.missing.length,
    partial: cells.filter((cell) => cell.n > 0 && cell.n < cell.expectedN).length,
  };
}
