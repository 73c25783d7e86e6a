import { z } from 'zod';
import { NON_IDENTITY_FIELDS } from '../sweep/canonical.ts';
import {
  compareFactorValues,
  FACTOR_DEFS,
  type FactorType,
  type FactorValue,
  TRIAL_FACTOR_NAMES,
  type TrialFactorName,
} from '../sweep/factors.ts';
import type { Queryable } from './migrate.ts';
import { OWN_CLASSES_SQL } from './own-classes.ts';

/**
 * Seed-as-replicate aggregation, written once for the CLI and the dashboard. Factors map to SQL through this fixed
 * table only, built from the one factor list (sweep/factors.ts); request text never reaches the SQL string, values
 * always travel as parameters.
 */
interface FactorSql {
  sql: string;
  type: FactorType;
}
const trialColumns = Object.fromEntries(
  FACTOR_DEFS.map((def): [TrialFactorName, FactorSql] => [def.name, { sql: `t."${def.name}"`, type: def.type }]),
) as Record<TrialFactorName, FactorSql>;

export const FACTORS: Record<Factor, FactorSql> = {
  sweep: { sql: 's."name"', type: 'text' },
  ...trialColumns,
  /** The evaluation dataset (domain generalization); without it only the source dataset's own split counts. */
  evalDataset: { sql: 'ev."evalDataset"', type: 'text' },
  /**
   * Which classes of the evaluated dataset a result covers: all, or base and novel (base-to-novel). Without it a
   * trial counts on its own classes (OWN_CLASSES_SQL).
   */
  classSubset: { sql: 'cs."classSubset"', type: 'text' },
};

/** Factors of a trial's results rather than of the trial: one trial has a row per evaluated dataset and subset. */
export type ResultFactor = 'evalDataset' | 'classSubset';
export type Factor = 'sweep' | TrialFactorName | ResultFactor;
export const FACTOR_NAMES: Factor[] = ['sweep', ...TRIAL_FACTOR_NAMES, 'evalDataset', 'classSubset'];
export type { FactorType, FactorValue, TrialFactorName };
export { FACTOR_DEFS, TRIAL_FACTOR_NAMES };

const factorSchema = z.enum(FACTOR_NAMES as [Factor, ...Factor[]]);

export const cellQuerySchema = z
  .object({
    sweepIds: z.array(z.string().min(1)).min(1),
    factors: z.array(factorSchema).refine((list) => new Set(list).size === list.length, 'factors must be distinct'),
    split: z.string().min(1).default('test'),
    where: z.partialRecord(factorSchema, z.array(z.union([z.string(), z.number(), z.null()])).min(1)).default({}),
  })
  .strict();

export type CellQuery = z.input<typeof cellQuerySchema>;

export interface Cell {
  /** The cell's factor values, in the order the query named them. */
  key: Record<string, FactorValue>;
  /** Seeds with a result; mean and std are over these (one value per seed). */
  n: number;
  /** Seeds planned for this cell; n < expectedN means some results are still missing. */
  expectedN: number;
  mean: number | null;
  /** Population std (divides by n); 0 for n = 1. */
  stdPop: number | null;
  /** Sample std (divides by n - 1); null for n < 2. */
  stdSample: number | null;
  /** Seeds with a result, ascending. */
  seeds: number[];
  /** Seeds planned for the cell (its trials' seeds), ascending. */
  plannedSeeds: number[];
  /** Planned seeds without a result whose trial ended without one (failed or cancelled), ascending. */
  endedSeeds: number[];
  /** Planned seeds without a result because a search stopped their trial early (it never reads the test split). */
  stoppedSeeds: number[];
}

export interface CellReport {
  /** The requested factors, then the ones added because they vary inside a requested cell (`added`). */
  factors: Factor[];
  /**
   * Factors that were not asked for but take more than one value inside some requested cell: the report is split by
   * them, so that no cell pools two settings as if they were seeds. Callers show them as extra rows or series.
   */
  added: Factor[];
  cells: Cell[];
  /** Planned cells without a single result. */
  missing: Cell[];
}

/** Trials of one cell differ in a setting that no factor records, so no table can keep them apart. */
export class PoolingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoolingError';
  }
}

const RESULT_FACTORS: ResultFactor[] = ['evalDataset', 'classSubset'];

/** The class subsets planned for a trial's evaluated dataset `ev`: base and novel under base-to-novel, else all. */
const SUBSETS = `CROSS JOIN LATERAL unnest(CASE WHEN t."subsampleClasses" = 'base' AND ev."evalDataset" = t."dataset"
  THEN ARRAY['base', 'novel'] ELSE ARRAY['all'] END) AS cs("classSubset")`;

/**
 * Config fields that cannot change what a trial learns or scores on its source dataset, the seed, and
 * `subsampleClasses`, which is a factor (a config without it, stored before base-to-novel existed, means 'all').
 */
const NOT_SETTINGS = [...NON_IDENTITY_FIELDS, 'seed', 'evalDatasets', 'evalBatchSize', 'subsampleClasses'];

/** The trials of the query as SQL pieces shared by the statements of one cellStats call. */
interface TrialScope {
  params: unknown[];
  /** `WITH trials AS (...)` */
  cte: string;
  /** `FROM trials t` with its joins (the sweep's name, one row per evaluated dataset and class subset when needed) */
  from: (perResult: boolean) => string;
  /** whether the query groups or filters by class subset (a row per subset, `cs`) */
  perSubset: boolean;
  /** the query's filters, or '' */
  filterWhere: string;
}

function trialScope(query: z.output<typeof cellQuerySchema>, factors: Factor[]): TrialScope {
  const { sweepIds, where } = query;
  const params: unknown[] = [sweepIds];
  const filters = Object.entries(where).map(([factor, values]) => {
    const spec = FACTORS[factor as Factor];
    params.push(values);
    return `${spec.sql} = ANY($${params.length}::${spec.type}[])`;
  });
  const sweepJoin = factors.includes('sweep') || 'sweep' in where ? 'JOIN "Sweep" s ON s."id" = t."sweepId"' : '';
  const perSubset = factors.includes('classSubset') || 'classSubset' in where;
  const dedupe = factors.includes('sweep') ? 't."sweepId", t."configKey"' : 't."configKey"';
  // One configKey is one experiment: listed by two sweeps it still counts once (unique per sweep already).
  const trialColumns = [
    'id',
    'sweepId',
    'configKey',
    'createdAt',
    'seed',
    'reusedFromId',
    'evalDatasets',
    'config',
    'testTop1',
    'status',
    ...TRIAL_FACTOR_NAMES,
  ].map((column) => `t."${column}"`);
  const trials =
    sweepIds.length === 1
      ? `SELECT ${trialColumns.join(', ')} FROM "Trial" t WHERE t."sweepId" = ANY($1::text[])`
      : `SELECT DISTINCT ON (${dedupe}) ${trialColumns.join(', ')} FROM "Trial" t WHERE t."sweepId" = ANY($1::text[])
          ORDER BY ${dedupe}, t."createdAt", t."id"`;
  return {
    params,
    cte: `WITH trials AS (${trials})`,
    from: (perResult) =>
      `FROM trials t ${sweepJoin}
       ${
         perResult ? `CROSS JOIN LATERAL unnest(t."evalDatasets") AS ev("evalDataset") ${perSubset ? SUBSETS : ''}` : ''
       }`,
    filterWhere: filters.length > 0 ? `WHERE ${filters.join(' AND ')}` : '',
    perSubset,
  };
}

/**
 * What decides the factors a report needs: the distinct combinations, over the query's trials, of every factor and of
 * the settings no factor records. One scan instead of one per added factor and one for the pooling check; the
 * combinations are few (cells × settings) even when the trials are many. DISTINCT compares the settings as jsonb
 * (1.0 equals 1), which also costs less than hashing their text.
 */
interface Combinations {
  columns: Factor[];
  rows: Array<{ values: FactorValue[]; setting: string }>;
}

async function combinations(
  db: Queryable,
  scope: TrialScope,
  shown: Factor[],
  needsEval: boolean,
): Promise<Combinations> {
  // In the factor list's order whatever the request's order, so that the tables of one page send one statement.
  const columns = inFactorOrder([...shown, ...TRIAL_FACTOR_NAMES]);
  const select = columns.map((factor, i) => `${FACTORS[factor].sql} AS c${i}`);
  const { rows } = await db.query<Record<string, unknown>>(
    `${scope.cte}
     SELECT DISTINCT ${select.join(', ')}, ${SETTING} AS setting ${scope.from(needsEval)} ${scope.filterWhere}`,
    scope.params,
  );
  return {
    columns,
    rows: rows.map((row) => ({
      values: columns.map((_, i) => row[`c${i}`] as FactorValue),
      setting: JSON.stringify(row.setting),
    })),
  };
}

/** The trial's configuration minus what is not a setting of the experiment (SQL). */
const SETTING = `(t."config" - '{${NOT_SETTINGS.join(',')}}'::text[])`;

/**
 * A trial's top-1 on its own dataset's test split without reading TrialResult: its `testTop1` copy, or, when it reuses
 * another trial's results, that trial's (reuse links identical configs, so the source trained on the same dataset).
 * `join` brings the source in as `src` for a trial aliased `t`. The same answer as the join on
 * `COALESCE(t."reusedFromId", t."id")` that the other splits and the evaluation datasets take (cellStats below).
 */
export const TEST_TOP1 = {
  join: 'LEFT JOIN "Trial" src ON src."id" = t."reusedFromId"',
  sql: 'CASE WHEN t."reusedFromId" IS NULL THEN t."testTop1" ELSE src."testTop1" END',
} as const;

/** The distinct factors in FACTOR_NAMES order. */
function inFactorOrder(factors: Factor[]): Factor[] {
  return FACTOR_NAMES.filter((factor) => factors.includes(factor));
}

/** Each combination's cell under `grouping`, as one string per row. */
function cellIds(combos: Combinations, grouping: Factor[]): string[] {
  const at = grouping.map((factor) => combos.columns.indexOf(factor));
  const part = (value: FactorValue) => (value === null ? '-' : `${typeof value === 'number' ? 'n' : 's'}${value}`);
  return combos.rows.map((row) => at.map((i) => part(row.values[i] ?? null)).join('\u0000'));
}

/** Whether `pick` takes two values inside one cell (`ids` from cellIds). */
function variesInside(
  combos: Combinations,
  ids: string[],
  pick: (row: Combinations['rows'][number]) => FactorValue,
): boolean {
  const seen = new Map<string, FactorValue>();
  for (const [r, row] of combos.rows.entries()) {
    const id = ids[r] as string;
    const value = pick(row);
    if (!seen.has(id)) seen.set(id, value);
    else if (seen.get(id) !== value) return true;
  }
  return false;
}

/**
 * The trial factors that vary inside some cell of `shown`, added one at a time in the factor list's order (a factor
 * that varies only because an added one does, like CoOp's lr with its lrText, is then no longer added).
 */
function hiddenFactors(combos: Combinations, shown: Factor[]): Factor[] {
  const added: Factor[] = [];
  for (;;) {
    const grouping = [...shown, ...added];
    const ids = cellIds(combos, grouping);
    const next = TRIAL_FACTOR_NAMES.find((name) => {
      if (grouping.includes(name)) return false;
      const i = combos.columns.indexOf(name);
      return variesInside(combos, ids, (row) => row.values[i] ?? null);
    });
    if (next === undefined) return added;
    added.push(next);
  }
}

/** Refuses when, after every factor is in play, one cell still holds trials whose settings differ (PoolingError). */
async function assertOneSettingPerCell(
  db: Queryable,
  scope: TrialScope,
  combos: Combinations,
  factors: Factor[],
  needsEval: boolean,
): Promise<void> {
  if (!variesInside(combos, cellIds(combos, factors), (row) => row.setting)) return;
  const groupBy = factors.length > 0 ? factors.map((factor) => FACTORS[factor].sql).join(', ') : '()';
  const { rows } = await db.query<{ pair: unknown[] }>(
    `${scope.cte}
     SELECT (array_agg(DISTINCT ${SETTING}))[1:2] AS pair ${scope.from(needsEval)} ${scope.filterWhere}
      GROUP BY ${groupBy} HAVING count(DISTINCT ${SETTING}) > 1 LIMIT 1`,
    scope.params,
  );
  const pair = rows[0]?.pair;
  if (pair === undefined) return;
  const differences = differingPaths(pair[0], pair[1]);
  const shown = differences
    .slice(0, 3)
    .map((d) => `${d.path} (${d.values.map((v) => JSON.stringify(v) ?? 'unset').join(' vs ')})`);
  throw new PoolingError(
    `cannot aggregate without pooling different settings: trials of one cell differ in ${shown.join(', ')}${differences.length > 3 ? ` and ${differences.length - 3} more` : ''}, which is not a factor; look at these sweeps one at a time`,
  );
}

interface Difference {
  path: string;
  values: [unknown, unknown];
}

function differingPaths(a: unknown, b: unknown, at = ''): Difference[] {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((key) => differingPaths(a[key], b[key], at === '' ? key : `${at}.${key}`));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path: at || '(config)', values: [a, b] }];
}

/**
 * Mean, population std, sample std and n over seeds for each cell (the distinct values of `factors`) of the given
 * sweeps. The expected cells come from the sweeps' trials, so cells with no result yet are listed with n = 0.
 * A trial that reuses another's results is read through `reusedFromId`; the same configKey in two sweeps counts once
 * unless `sweep` is a factor. Never pools settings: factors that vary inside a requested cell are added to the report
 * (`added`), and trials that differ in a setting no factor records make it throw PoolingError.
 */
export async function cellStats(db: Queryable, query: CellQuery): Promise<CellReport> {
  const parsed = cellQuerySchema.parse(query);
  const { where } = parsed;
  // Without a result factor in play each trial counts on its own source dataset and classes: no unnest.
  const perEval = RESULT_FACTORS.some((factor) => parsed.factors.includes(factor) || factor in where);
  const scope = trialScope(parsed, parsed.factors);
  const { perSubset } = scope;
  const combos = await combinations(db, scope, parsed.factors, perEval);
  const added = hiddenFactors(combos, parsed.factors);
  const factors = [...parsed.factors, ...added];
  await assertOneSettingPerCell(db, scope, combos, factors, perEval);

  // The statement names the factors in the list's order, whatever the request's, so that the tables of one page that
  // group by the same factors send one statement (dashboards/tables.ts); the cells are ordered by `factors` below.
  const grouped = inFactorOrder(factors);
  const exprs = grouped.map((factor) => FACTORS[factor].sql);
  const columns = grouped.map((_, i) => `f${i}`);
  const select = exprs.map((expr, i) => `${expr} AS f${i}`);
  const evalColumn = perEval ? 'ev."evalDataset"' : 't."dataset"';
  const groupBy = columns.length > 0 ? columns.join(', ') : '()';

  // Single pass: planned (cell, seed) rows left-joined to their results, so cells without results stay listed. The
  // source datasets' test split, what nearly every table asks, is on the trial rows already: no join with every result.
  const ownTest = !perEval && parsed.split === 'test';
  const params = ownTest ? scope.params : [...scope.params, parsed.split];
  const splitParam = `$${params.length}`;
  const result = ownTest
    ? { join: TEST_TOP1.join, top1: TEST_TOP1.sql }
    : {
        join: `LEFT JOIN "TrialResult" r
          ON r."trialId" = COALESCE(t."reusedFromId", t."id") AND r."evalDataset" = ${evalColumn} AND r."split" = ${splitParam}
         AND r."classSubset" = ${perSubset ? 'cs."classSubset"' : `CASE WHEN ${evalColumn} = t."dataset" THEN ${OWN_CLASSES_SQL('t')} ELSE 'all' END`}`,
        top1: 'r."top1"',
      };
  const sql = `
    ${scope.cte},
    per_seed AS (
      SELECT ${[...select, 't."seed" AS seed'].join(', ')}, avg(${result.top1}) AS top1,
             bool_or(t."status" IN ('failed', 'cancelled')) AS ended_without,
             bool_and(t."status" = 'stopped') AS stopped
        ${scope.from(perEval)}
        ${result.join}
       ${scope.filterWhere}
       GROUP BY ${[...exprs, 't."seed"'].join(', ')}
    )
    SELECT ${[...columns, 'count(*)::int AS expected_n'].join(', ')},
           count(top1)::int AS n,
           avg(top1) AS mean,
           stddev_pop(top1) AS std_pop,
           stddev_samp(top1) AS std_sample,
           coalesce(array_agg(seed) FILTER (WHERE top1 IS NOT NULL), '{}') AS seeds,
           array_agg(seed) AS planned,
           coalesce(array_agg(seed) FILTER (WHERE top1 IS NULL AND ended_without), '{}') AS ended,
           coalesce(array_agg(seed) FILTER (WHERE top1 IS NULL AND stopped), '{}') AS stopped
      FROM per_seed
     GROUP BY ${groupBy}`;

  const { rows } = await db.query<Record<string, unknown>>(sql, params);
  const cells = rows.map((row): Cell => {
    const key: Record<string, FactorValue> = {};
    for (const factor of factors) key[factor] = row[`f${grouped.indexOf(factor)}`] as FactorValue;
    return {
      key,
      n: row.n as number,
      expectedN: row.expected_n as number,
      mean: row.mean as number | null,
      stdPop: row.std_pop as number | null,
      stdSample: row.std_sample as number | null,
      // Sorted here, not by the aggregate: an ordered aggregate makes PostgreSQL sort every per-seed row.
      seeds: [...(row.seeds as number[])].sort((a, b) => a - b),
      plannedSeeds: [...(row.planned as number[])].sort((a, b) => a - b),
      endedSeeds: [...(row.ended as number[])].sort((a, b) => a - b),
      stoppedSeeds: [...(row.stopped as number[])].sort((a, b) => a - b),
    };
  });
  cells.sort((a, b) => {
    for (const factor of factors) {
      const order = compareFactorValues(a.key[factor] ?? null, b.key[factor] ?? null);
      if (order !== 0) return order;
    }
    return 0;
  });
  return { factors, added, cells, missing: cells.filter((cell) => cell.n === 0) };
}

/**
 * The std of a mean over D datasets, propagated from their sample stds as if the datasets were independent:
 * sqrt(sum std_d²) / D; null when there is none, or when one of them has fewer than two seeds (no std).
 */
export function propagatedStd(stds: ReadonlyArray<number | null>): number | null {
  if (stds.length === 0 || stds.some((std) => std === null)) return null;
  return Math.sqrt(stds.reduce((sum: number, std) => sum + (std ?? 0) ** 2, 0)) / stds.length;
}

export interface AveragedCell {
  key: Record<string, FactorValue>;
  /** Mean of the per-cell means over the values of the averaged factor that have results. */
  mean: number | null;
  /** How many values (e.g. datasets) contributed, and how many were planned. */
  n: number;
  expectedN: number;
  /** Planned values without any result: the average is incomplete while this is non-empty. */
  missing: FactorValue[];
}

/**
 * Collapses one factor (usually `dataset`, the paper's "Average" column) by averaging the cell means, keeping the
 * other factors. Cells without results are listed as missing, never counted as zero.
 */
export function averageOver(report: CellReport, factor: Factor = 'dataset'): AveragedCell[] {
  if (!report.factors.includes(factor))
    throw new Error(`cannot average over ${factor}: it is not a factor of the report`);
  const rest = report.factors.filter((name) => name !== factor);
  const groups = new Map<string, { key: Record<string, FactorValue>; cells: Cell[] }>();
  for (const cell of report.cells) {
    const key = Object.fromEntries(rest.map((name) => [name, cell.key[name] ?? null]));
    const id = JSON.stringify(rest.map((name) => key[name]));
    const group = groups.get(id) ?? { key, cells: [] };
    group.cells.push(cell);
    groups.set(id, group);
  }
  return [...groups.values()].map(({ key, cells }) => {
    const present = cells.filter((cell) => cell.mean !== null);
    return {
      key,
      mean: present.length === 0 ? null : present.reduce((sum, cell) => sum + (cell.mean ?? 0), 0) / present.length,
      n: present.length,
      expectedN: cells.length,
      missing: cells.filter((cell) => cell.mean === null).map((cell) => cell.key[factor] ?? null),
    };
  });
}
