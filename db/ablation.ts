import { z } from 'zod';
import type { Queryable } from './migrate.ts';

/**
 * Seed-as-replicate aggregation, written once for the CLI and the dashboard. Factors map to SQL through this fixed
 * table only; request text never reaches the SQL string, values always travel as parameters.
 */
export const FACTORS = {
  sweep: { sql: 's."name"', type: 'text' },
  method: { sql: 't."method"', type: 'text' },
  dataset: { sql: 't."dataset"', type: 'text' },
  backbone: { sql: 't."backbone"', type: 'text' },
  shots: { sql: 't."shots"', type: 'int' },
  lr: { sql: 't."lr"', type: 'float8' },
  lrText: { sql: 't."lrText"', type: 'float8' },
  cavptMode: { sql: 't."cavptMode"', type: 'text' },
  cavptLayers: { sql: 't."cavptLayers"', type: 'int' },
  cavptLength: { sql: 't."cavptLength"', type: 'int' },
  kN: { sql: 't."kN"', type: 'int' },
  alpha: { sql: 't."alpha"', type: 'float8' },
  beta: { sql: 't."beta"', type: 'float8' },
  epochs: { sql: 't."epochs"', type: 'int' },
  /** The evaluation dataset (domain generalization); without it only the source dataset's own split counts. */
  evalDataset: { sql: 'ev."evalDataset"', type: 'text' },
} as const;

export type Factor = keyof typeof FACTORS;
export const FACTOR_NAMES = Object.keys(FACTORS) as Factor[];
export type FactorValue = string | number | null;

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
  seeds: number[];
}

export interface CellReport {
  factors: Factor[];
  cells: Cell[];
  /** Planned cells without a single result. */
  missing: Cell[];
}

/**
 * Mean, population std, sample std and n over seeds for each cell (the distinct values of `factors`) of the given
 * sweeps. The expected cells come from the sweeps' trials, so cells with no result yet are listed with n = 0.
 * A trial that reuses another's results is read through `reusedFromId`; the same configKey in two sweeps counts once
 * unless `sweep` is a factor.
 */
export async function cellStats(db: Queryable, query: CellQuery): Promise<CellReport> {
  const { sweepIds, factors, split, where } = cellQuerySchema.parse(query);
  const params: unknown[] = [sweepIds, split];
  const exprs = factors.map((factor) => FACTORS[factor].sql);
  const columns = factors.map((_, i) => `f${i}`);
  const select = exprs.map((expr, i) => `${expr} AS f${i}`);
  const filters = Object.entries(where).map(([factor, values]) => {
    const spec = FACTORS[factor as Factor];
    params.push(values);
    return `${spec.sql} = ANY($${params.length}::${spec.type}[])`;
  });
  // Without evalDataset in play each trial counts on its own source dataset: no unnest, no per-row array.
  const perEval = factors.includes('evalDataset') || 'evalDataset' in where;
  const evalJoin = perEval ? 'CROSS JOIN LATERAL unnest(t."evalDatasets") AS ev("evalDataset")' : '';
  const evalColumn = perEval ? 'ev."evalDataset"' : 't."dataset"';
  const sweepJoin = factors.includes('sweep') || 'sweep' in where ? 'JOIN "Sweep" s ON s."id" = t."sweepId"' : '';
  const dedupe = factors.includes('sweep') ? 't."sweepId", t."configKey"' : 't."configKey"';
  const groupBy = columns.length > 0 ? columns.join(', ') : '()';

  // One configKey is one experiment: listed by two sweeps it still counts once (unique per sweep already).
  const trialColumns = [
    'id',
    'sweepId',
    'configKey',
    'createdAt',
    'seed',
    'reusedFromId',
    'evalDatasets',
    ...Object.values(FACTORS).flatMap((spec) => (spec.sql.startsWith('t.') ? [spec.sql.slice(3, -1)] : [])),
  ].map((column) => `t."${column}"`);
  const trials =
    sweepIds.length === 1
      ? `SELECT ${trialColumns.join(', ')} FROM "Trial" t WHERE t."sweepId" = ANY($1::text[])`
      : `SELECT DISTINCT ON (${dedupe}) ${trialColumns.join(', ')} FROM "Trial" t WHERE t."sweepId" = ANY($1::text[])
          ORDER BY ${dedupe}, t."createdAt", t."id"`;

  // Single pass: planned (cell, seed) rows left-joined to their results, so cells without results stay listed.
  const sql = `
    WITH trials AS (${trials}),
    per_seed AS (
      SELECT ${[...select, 't."seed" AS seed'].join(', ')}, avg(r."top1") AS top1
        FROM trials t
        ${sweepJoin}
        ${evalJoin}
        LEFT JOIN "TrialResult" r
          ON r."trialId" = COALESCE(t."reusedFromId", t."id") AND r."evalDataset" = ${evalColumn} AND r."split" = $2
       ${filters.length > 0 ? `WHERE ${filters.join(' AND ')}` : ''}
       GROUP BY ${[...exprs, 't."seed"'].join(', ')}
    )
    SELECT ${[...columns, 'count(*)::int AS expected_n'].join(', ')},
           count(top1)::int AS n,
           avg(top1) AS mean,
           stddev_pop(top1) AS std_pop,
           stddev_samp(top1) AS std_sample,
           coalesce(array_agg(seed ORDER BY seed) FILTER (WHERE top1 IS NOT NULL), '{}') AS seeds
      FROM per_seed
     GROUP BY ${groupBy}
     ORDER BY ${columns.length > 0 ? columns.map((c) => `${c} NULLS FIRST`).join(', ') : '1'}`;

  const { rows } = await db.query<Record<string, unknown>>(sql, params);
  const cells = rows.map((row): Cell => {
    const key: Record<string, FactorValue> = {};
    factors.forEach((factor, i) => {
      key[factor] = row[`f${i}`] as FactorValue;
    });
    return {
      key,
      n: row.n as number,
      expectedN: row.expected_n as number,
      mean: row.mean as number | null,
      stdPop: row.std_pop as number | null,
      stdSample: row.std_sample as number | null,
      seeds: row.seeds as number[],
    };
  });
  return { factors, cells, missing: cells.filter((cell) => cell.n === 0) };
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
