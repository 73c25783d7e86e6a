import { METHOD_ORDER } from '../../sweep/factors.ts';
import { averageOver, type Cell, type CellReport, type Factor, type FactorValue } from '../ablation.ts';

/**
 * A results pivot ready to render: one row per combination of the row factors, one column per value of the column
 * factor, and optionally an average column. Entries carry mean, the SAMPLE std over seeds (divides by n - 1; null
 * for n < 2), n (seeds with a result) and the planned seed count.
 */
export interface Pivot {
  rowFactors: Factor[];
  column: Factor;
  columns: FactorValue[];
  rows: PivotRow[];
  /** Label of the average column, or null when the pivot has none. */
  averageLabel: string | null;
}

export interface PivotEntry {
  mean: number | null;
  std: number | null;
  n: number;
  expectedN: number;
  /** The best mean of its column (ties all marked); higher is better for accuracy. */
  best: boolean;
  /** The published number for the same cell (`results --published`, db/results/published-marks.ts). */
  published?: PublishedMark;
}

export interface PublishedMark {
  value: number;
  /** our mean minus the published value; null while the cell has no result */
  diff: number | null;
  /** 1-based number of its source in the answer's source list */
  ref: number;
}

export interface AverageEntry {
  /** Mean of the column means that have results. */
  mean: number | null;
  /** Columns that contributed, and columns planned: the average is incomplete while n < expectedN. */
  n: number;
  expectedN: number;
  missing: FactorValue[];
  /** Only complete averages compete for best: an average over fewer datasets is not comparable. */
  best: boolean;
  published?: PublishedMark;
}

export interface PivotRow {
  key: FactorValue[];
  entries: Array<PivotEntry | null>;
  average: AverageEntry | null;
}

export interface PivotOptions {
  rowFactors: Factor[];
  column: Factor;
  /** 'all' averages every column, 'targets' skips the source columns (domain generalization), 'none' adds none. */
  average: 'all' | 'targets' | 'none';
  /** Columns put first, in this order (the source datasets of a domain-generalization table). */
  leadingColumns?: FactorValue[];
  averageLabel?: string;
  /** Factors whose values come in a given order (compareFactorValue); methods are in the paper's without it. */
  orders?: FactorOrders;
}

/** Builds the pivot from a cell report whose factors are the row factors followed by the column factor. */
export function buildPivot(report: CellReport, options: PivotOptions): Pivot {
  const { rowFactors, column } = options;
  const leading = options.leadingColumns ?? [];
  const orders = options.orders ?? {};
  const seen = distinct(
    column,
    report.cells.map((cell) => cell.key[column] ?? null),
    orders,
  );
  const columns = [...leading.filter((value) => seen.includes(value)), ...seen.filter((v) => !leading.includes(v))];
  const rowKey = (cell: Cell) => rowFactors.map((factor) => cell.key[factor] ?? null);
  const rowMap = new Map<string, { key: FactorValue[]; cells: Map<FactorValue, Cell> }>();
  for (const cell of report.cells) {
    const key = rowKey(cell);
    const id = JSON.stringify(key);
    const row = rowMap.get(id) ?? { key, cells: new Map() };
    row.cells.set(cell.key[column] ?? null, cell);
    rowMap.set(id, row);
  }

  const averages = new Map<string, AverageEntry>();
  if (options.average !== 'none') {
    const targets =
      options.average === 'targets' ? report.cells.filter((cell) => !leading.includes(cell.key[column] ?? null)) : null;
    const averaged = averageOver(targets ? { ...report, cells: targets } : report, column);
    for (const avg of averaged) {
      averages.set(JSON.stringify(rowFactors.map((factor) => avg.key[factor] ?? null)), {
        mean: avg.mean,
        n: avg.n,
        expectedN: avg.expectedN,
        missing: avg.missing,
        best: false,
      });
    }
  }

  const rows: PivotRow[] = [...rowMap.entries()].map(([id, row]) => ({
    key: row.key,
    entries: columns.map((value) => {
      const cell = row.cells.get(value);
      return cell ? { mean: cell.mean, std: cell.stdSample, n: cell.n, expectedN: cell.expectedN, best: false } : null;
    }),
    average: options.average === 'none' ? null : (averages.get(id) ?? null),
  }));
  rows.sort((a, b) => compareKeys(rowFactors, a.key, b.key, orders));
  markBest(rows.map((row) => row.entries));
  markBest(rows.map((row) => [row.average?.n === row.average?.expectedN ? row.average : null]));
  const averageLabel =
    options.average === 'none'
      ? null
      : (options.averageLabel ?? (options.average === 'targets' ? 'average (targets)' : 'average'));
  return { rowFactors, column, columns, rows, averageLabel };
}

export function markBest(table: Array<Array<{ mean: number | null; best: boolean } | null>>): void {
  const width = Math.max(0, ...table.map((row) => row.length));
  for (let col = 0; col < width; col++) {
    const means = table.map((row) => row[col]?.mean).filter((mean): mean is number => typeof mean === 'number');
    if (means.length === 0) continue;
    const best = Math.max(...means);
    for (const row of table) {
      const entry = row[col];
      if (entry && entry.mean === best) entry.best = true;
    }
  }
}

/** How a factor value reads in a table or a JSON key: null (the factor does not apply) is "(unset)". */
export function showValue(value: FactorValue): string {
  return value === null ? '(unset)' : String(value);
}

/**
 * The pivot as data: what `dpt-sweep results --format json` prints and the dashboard's tables carry. Cells are keyed by
 * the column value as shown; a planned row without any result in a column has null there.
 */
export interface PivotJson {
  caption: string;
  /** the lines under the table (seeds and their warnings, the layout's own) */
  notes: string[];
  /** the sources of the published numbers the entries carry (`published.ref`) */
  sources: PublishedSourceJson[];
  std: 'sample';
  rowFactors: Factor[];
  column: Factor;
  columns: FactorValue[];
  averageLabel: string | null;
  rows: Array<{
    key: Record<string, FactorValue>;
    cells: Record<string, PivotEntry | null>;
    average: AverageEntry | null;
  }>;
}

export interface PublishedSourceJson {
  ref: number;
  source: string;
  url: string;
  epochs: number | null;
}

export function pivotJson(
  pivot: Pivot,
  caption: string,
  extras: { notes?: string[]; sources?: PublishedSourceJson[] } = {},
): PivotJson {
  return {
    caption,
    notes: extras.notes ?? [],
    sources: extras.sources ?? [],
    std: 'sample',
    rowFactors: pivot.rowFactors,
    column: pivot.column,
    columns: pivot.columns,
    averageLabel: pivot.averageLabel,
    rows: pivot.rows.map((row) => ({
      key: Object.fromEntries(pivot.rowFactors.map((factor, i) => [factor, row.key[i] ?? null])),
      cells: Object.fromEntries(pivot.columns.map((value, i) => [showValue(value), row.entries[i] ?? null])),
      average: row.average,
    })),
  };
}

/** The default locale's order, as `localeCompare` without arguments, built once (a collator per call is slow). */
const collator = new Intl.Collator();

export function compareValues(a: FactorValue, b: FactorValue): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}

/** Values of a factor listed in a given order, ahead of the others: methods in the paper's, sweeps as requested. */
export type FactorOrders = Partial<Record<Factor, readonly FactorValue[]>>;

/**
 * The order of one factor's values in tables and maps: those `orders` lists first, in its order (methods default to
 * METHOD_ORDER, the paper's), then every other value by compareValues.
 */
export function compareFactorValue(factor: Factor, a: FactorValue, b: FactorValue, orders: FactorOrders = {}): number {
  const listed = orders[factor] ?? (factor === 'method' ? METHOD_ORDER : undefined);
  if (listed !== undefined && a !== b) {
    const rank = (value: FactorValue) => {
      const i = listed.indexOf(value);
      return i === -1 ? listed.length : i;
    };
    const byRank = rank(a) - rank(b);
    if (byRank !== 0) return byRank;
  }
  return compareValues(a, b);
}

/** Keys of `factors`, value by value (compareFactorValue). */
export function compareKeys(
  factors: readonly Factor[],
  a: FactorValue[],
  b: FactorValue[],
  orders: FactorOrders = {},
): number {
  for (const [i, factor] of factors.entries()) {
    const order = compareFactorValue(factor, a[i] ?? null, b[i] ?? null, orders);
    if (order !== 0) return order;
  }
  return 0;
}

function distinct(factor: Factor, values: FactorValue[], orders: FactorOrders): FactorValue[] {
  return [...new Set(values)].sort((a, b) => compareFactorValue(factor, a, b, orders));
}
