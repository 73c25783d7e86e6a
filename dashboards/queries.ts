import { z } from 'zod';
import {
  FACTOR_DEFS,
  FACTORS,
  type FactorType,
  type FactorValue,
  TEST_TOP1,
  TRIAL_FACTOR_NAMES,
  type TrialFactorName,
} from '../db/ablation.ts';
import type { Queryable } from '../db/migrate.ts';
import { TRIAL_STATUSES } from '../db/repositories.ts';
import { factorValues } from '../db/results/sweeps.ts';

/**
 * Read-only queries behind the dashboard. Column names come from the fixed tables below, never from a request;
 * request values always travel as query parameters.
 */

export interface SweepSummary {
  id: string;
  name: string;
  status: string;
  workflowId: string | null;
  createdAt: string;
  finishedAt: string | null;
  total: number;
  /** Trials per status; every status is listed, zero included. */
  counts: Record<string, number>;
  /** Finished trials (succeeded, failed, cancelled, reused) over all trials. */
  progress: number;
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'reused', 'stopped']);

export async function listSweeps(db: Queryable): Promise<SweepSummary[]> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    status: string;
    workflowId: string | null;
    createdAt: Date;
    finishedAt: Date | null;
    trial_status: string | null;
    n: number;
  }>(
    `SELECT s.id, s.name, s.status::text AS status, s."workflowId", s."createdAt", s."finishedAt",
            c.status::text AS trial_status, coalesce(c.n, 0)::int AS n
       FROM "Sweep" s
       LEFT JOIN (SELECT "sweepId", status, count(*) AS n FROM "Trial" GROUP BY "sweepId", status) c
         ON c."sweepId" = s.id
      ORDER BY s."createdAt" DESC, s.name`,
  );
  const sweeps = new Map<string, SweepSummary>();
  for (const row of rows) {
    let sweep = sweeps.get(row.id);
    if (sweep === undefined) {
      sweep = {
        id: row.id,
        name: row.name,
        status: row.status,
        workflowId: row.workflowId,
        createdAt: row.createdAt.toISOString(),
        finishedAt: row.finishedAt?.toISOString() ?? null,
        total: 0,
        counts: Object.fromEntries(TRIAL_STATUSES.map((status) => [status, 0])),
        progress: 0,
      };
      sweeps.set(row.id, sweep);
    }
    if (row.trial_status !== null) {
      sweep.counts[row.trial_status] = row.n;
      sweep.total += row.n;
    }
  }
  for (const sweep of sweeps.values()) {
    const done = Object.entries(sweep.counts).reduce((sum, [status, n]) => sum + (FINISHED.has(status) ? n : 0), 0);
    sweep.progress = sweep.total === 0 ? 0 : done / sweep.total;
  }
  return [...sweeps.values()];
}

/** Finds a sweep by name or id; null when neither matches. */
export async function findSweep(db: Queryable, nameOrId: string): Promise<SweepSummary | null> {
  const sweeps = await listSweeps(db);
  return sweeps.find((sweep) => sweep.name === nameOrId || sweep.id === nameOrId) ?? null;
}

/**
 * Columns of the trial table: what the client may sort and filter by, with their SQL and parameter types. The
 * factors come from the aggregation queries' own table (one per entry of sweep/factors.ts), so a trial column means
 * the same SQL in both places.
 */
const FACTOR_COLUMNS = Object.fromEntries(TRIAL_FACTOR_NAMES.map((name) => [name, FACTORS[name]])) as Record<
  TrialFactorName,
  { sql: string; type: FactorType }
>;
const COLUMNS = {
  id: { sql: 't.id', type: 'text' },
  status: { sql: 't.status::text', type: 'text' },
  ...FACTOR_COLUMNS,
  seed: { sql: 't.seed', type: 'int' },
  top1: { sql: TEST_TOP1.sql, type: 'float8' },
  durationMs: { sql: 't."durationMs"', type: 'int' },
  attempts: { sql: 't.attempts', type: 'int' },
  error: { sql: 't.error', type: 'text' },
} as const satisfies Record<string, { sql: string; type: FactorType }>;

export type TrialColumn = keyof typeof COLUMNS;
export const TRIAL_COLUMNS = Object.keys(COLUMNS) as TrialColumn[];
/** Columns filtered by equality (any of the listed values); `error` is filtered by substring instead. */
export const FILTER_COLUMNS = TRIAL_COLUMNS.filter((column) => column !== 'error' && column !== 'top1');

const numeric = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?(e-?\d+)?$/i)
    .transform(Number),
]);
const valueSchema = (type: 'text' | 'int' | 'float8') =>
  type === 'text' ? z.string().min(1) : type === 'int' ? numeric.pipe(z.number().int()) : numeric;

export const trialPageSchema = z
  .object({
    page: z.coerce.number().int().min(1).default(1),
    pageSize: z.coerce.number().int().min(1).max(500).default(50),
    sort: z.enum(TRIAL_COLUMNS as [TrialColumn, ...TrialColumn[]]).default('id'),
    dir: z.enum(['asc', 'desc']).default('asc'),
    /** Substring of the failure reason (case-insensitive). */
    error: z.string().min(1).max(200).optional(),
    filters: z.partialRecord(z.enum(FILTER_COLUMNS as [TrialColumn, ...TrialColumn[]]), z.array(z.unknown()).min(1)),
  })
  .strict();
export type TrialPageQuery = z.input<typeof trialPageSchema>;

export type TrialRow = Record<TrialFactorName, FactorValue> & {
  id: string;
  status: string;
  seed: number;
  /** Top-1 on the source dataset's test split (through the reused trial when this one reuses results). */
  top1: number | null;
  durationMs: number | null;
  attempts: number;
  error: string | null;
};

export interface TrialPage {
  total: number;
  page: number;
  pageSize: number;
  rows: TrialRow[];
}

/** One page of a sweep's trials, sorted and filtered in PostgreSQL. */
export async function trialPage(db: Queryable, sweepId: string, query: TrialPageQuery): Promise<TrialPage> {
  const { page, pageSize, sort, dir, error, filters } = trialPageSchema.parse(query);
  const params: unknown[] = [sweepId];
  const where = ['t."sweepId" = $1'];
  for (const [column, raw] of Object.entries(filters)) {
    const spec = COLUMNS[column as TrialColumn];
    const values = z.array(valueSchema(spec.type)).parse(raw);
    params.push(values);
    where.push(`${spec.sql} = ANY($${params.length}::${spec.type}[])`);
  }
  if (error !== undefined) {
    params.push(`%${error.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(`t.error ILIKE $${params.length}`);
  }
  const from = `FROM "Trial" t ${TEST_TOP1.join} WHERE ${where.join(' AND ')}`;
  const order = `${COLUMNS[sort].sql} ${dir === 'asc' ? 'ASC NULLS LAST' : 'DESC NULLS LAST'}, t.id ASC`;
  const select = TRIAL_COLUMNS.map((column) => `${COLUMNS[column].sql} AS "${column}"`).join(', ');
  const countParams = [...params];
  params.push(pageSize, (page - 1) * pageSize);
  const [counted, listed] = await Promise.all([
    db.query<{ n: number }>(`SELECT count(*)::int AS n ${from}`, countParams),
    db.query<TrialRow>(
      `SELECT ${select} ${from} ORDER BY ${order} LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    ),
  ]);
  return { total: counted.rows[0]?.n ?? 0, page, pageSize, rows: listed.rows };
}

/** Distinct values of each factor column in a sweep (nulls left out), and its seeds: what was swept and over which values. */
export async function sweepFactorValues(
  db: Queryable,
  sweepId: string,
): Promise<Record<string, Array<string | number>>> {
  const [values, seeds] = await Promise.all([
    // All factors, as the view list reads them, so that one request reading both sends one statement.
    factorValues(db, [sweepId]),
    db.query<{ seed: number }>(`SELECT DISTINCT seed FROM "Trial" WHERE "sweepId" = $1 ORDER BY seed`, [sweepId]),
  ]);
  const set = (list: FactorValue[]) => list.filter((value): value is string | number => value !== null);
  return {
    ...Object.fromEntries(TRIAL_FACTOR_NAMES.map((factor) => [factor, set(values.get(factor) ?? [])])),
    seed: seeds.rows.map((row) => row.seed),
  };
}

export interface CurvePoint {
  epoch: number;
  loss: number;
  trainAcc: number | null;
}

/** Per-epoch metrics of one trial (read through the trial it reuses, if any); null for an unknown trial. */
export async function learningCurve(db: Queryable, trialId: string): Promise<CurvePoint[] | null> {
  const trial = await db.query<{ source: string }>(
    `SELECT COALESCE("reusedFromId", id) AS source FROM "Trial" WHERE id = $1`,
    [trialId],
  );
  const source = trial.rows[0]?.source;
  if (source === undefined) return null;
  const { rows } = await db.query<CurvePoint>(
    `SELECT epoch, loss, "trainAcc" FROM "EpochMetric" WHERE "trialId" = $1 ORDER BY epoch`,
    [source],
  );
  return rows;
}

/**
 * Hyperparameter factors a sweep may vary besides method, dataset and shots (seed is a replicate, never one): the
 * sweep axes of sweep/factors.ts and the backbone.
 */
export const VARIATION_FACTORS: TrialFactorName[] = TRIAL_FACTOR_NAMES.filter(
  (name) => !['method', 'dataset', 'shots'].includes(name),
);

export interface FactorColumn {
  name: TrialFactorName;
  /** How the sweep file writes it (`cavpt.layers`), or the column name for method, dataset, backbone and shots. */
  label: string;
}

/** The factor columns of a sweep's trial table: method, dataset and shots, then every other factor the sweep varies. */
export function tableFactors(values: Record<string, Array<string | number>>): FactorColumn[] {
  return FACTOR_DEFS.filter(
    (def) => ['method', 'dataset', 'shots'].includes(def.name) || (values[def.name]?.length ?? 0) > 1,
  ).map((def) => ({ name: def.name, label: def.axis ?? def.name }));
}

/** Factors a parallel-coordinates axis may show. */
const PARALLEL_FACTORS: TrialColumn[] = ['method', 'dataset', 'shots', ...VARIATION_FACTORS];
/** Beyond this many lines a parallel-coordinates chart is unreadable and slow to draw. */
export const PARALLEL_LINE_LIMIT = 10_000;

export interface ParallelAxis {
  name: string;
  /** Factors are categories (their swept values, sorted); top-1 is a value axis. */
  type: 'category' | 'value';
  values?: Array<string | number>;
}
export interface ParallelData {
  axes: ParallelAxis[];
  /** One line per finished trial with a top-1: its value on each axis, in axis order. */
  lines: Array<Array<string | number>>;
  /** Finished trials with a top-1; more than lines.length when the cap sampled them. */
  total: number;
  truncated: boolean;
}

/**
 * Parallel coordinates over the factors that vary in the sweep, plus top-1: one line per finished trial, at most
 * `limit` of them.
 */
export async function parallelCoordinates(
  db: Queryable,
  sweepId: string,
  limit: number = PARALLEL_LINE_LIMIT,
): Promise<ParallelData> {
  const cap = z.number().int().min(1).max(PARALLEL_LINE_LIMIT).parse(limit);
  const values = await sweepFactorValues(db, sweepId);
  const varying = PARALLEL_FACTORS.filter((factor) => (values[factor]?.length ?? 0) > 1);
  // Past the cap, every k-th finished trial by id: a spread-out sample that is the same on every load.
  const select = [...varying.map((factor) => `${COLUMNS[factor].sql} AS "${factor}"`), `${TEST_TOP1.sql} AS top1`].join(
    ', ',
  );
  const { rows } = await db.query<Record<string, string | number> & { total: number }>(
    `WITH finished AS (
       SELECT ${select}, row_number() OVER (ORDER BY t.id) AS rn, count(*) OVER ()::int AS total
         FROM "Trial" t ${TEST_TOP1.join}
        WHERE t."sweepId" = $1 AND t.status::text IN ('succeeded', 'reused') AND ${TEST_TOP1.sql} IS NOT NULL
     )
     SELECT * FROM finished
      WHERE (rn - 1) % ceil(total::numeric / $2::int)::int = 0
      ORDER BY rn
      LIMIT $2::int`,
    [sweepId, cap],
  );
  const total = rows[0]?.total ?? 0;
  return {
    axes: [
      ...varying.map((factor): ParallelAxis => ({ name: factor, type: 'category', values: values[factor] ?? [] })),
      { name: 'top1', type: 'value' },
    ],
    lines: rows.map((row) => [...varying.map((factor) => row[factor] as string | number), row.top1 as number]),
    total,
    truncated: total > rows.length,
  };
}
