import { FACTOR_NAMES, type Factor, type FactorValue } from '../ablation.ts';
import type { Queryable } from '../migrate.ts';
import { sweepIdFor } from '../repositories.ts';

/** A sweep is addressed by its id (what `status` prints) or by its name (what the sweep file says). */
export function sweepIdOf(nameOrId: string): string {
  return /^s_[0-9a-f]{24}$/.test(nameOrId) ? nameOrId : sweepIdFor(nameOrId);
}

export interface ResolvedSweep {
  id: string;
  name: string;
}

export class UnknownSweepError extends Error {
  constructor(
    readonly unknown: string[],
    readonly known: string[],
  ) {
    const shown = known.slice(0, 30).join(', ');
    const more = known.length > 30 ? ` and ${known.length - 30} more` : '';
    super(`no sweep named ${unknown.join(', ')}; known sweeps: ${known.length === 0 ? '(none)' : `${shown}${more}`}`);
    this.name = 'UnknownSweepError';
  }
}

/** Looks the sweeps up, in the order given; any unknown one fails with the list of known names. */
export async function resolveSweeps(db: Queryable, namesOrIds: string[]): Promise<ResolvedSweep[]> {
  const ids = namesOrIds.map(sweepIdOf);
  const { rows } = await db.query<ResolvedSweep>(`SELECT id, name FROM "Sweep" WHERE id = ANY($1::text[])`, [ids]);
  const byId = new Map(rows.map((row) => [row.id, row]));
  const unknown = namesOrIds.filter((_, i) => !byId.has(ids[i] as string));
  if (unknown.length > 0) {
    const known = await db.query<{ name: string }>(`SELECT name FROM "Sweep" ORDER BY name`);
    throw new UnknownSweepError(
      unknown,
      known.rows.map((row) => row.name),
    );
  }
  return [...new Map(ids.map((id) => [id, byId.get(id) as ResolvedSweep])).values()];
}

/** Trial columns that are factors; `sweep` and `evalDataset` are derived and handled apart. */
const TRIAL_FACTORS = FACTOR_NAMES.filter((factor) => factor !== 'sweep' && factor !== 'evalDataset');
/** The evaluation datasets: the distinct lists first, since a sweep has a handful of lists but one per trial. */
const EVAL_DATASETS = `(SELECT array_agg(DISTINCT e)
    FROM (SELECT DISTINCT t2."evalDatasets" FROM "Trial" t2 WHERE t2."sweepId" = ANY($1::text[])) d,
         unnest(d."evalDatasets") e) AS "evalDataset"`;

/**
 * The distinct values each factor takes over the trials of the sweeps (null included when unset), to tell which
 * factors were swept. Column names come from the fixed factor list, never from input.
 */
export async function factorValues(
  db: Queryable,
  sweepIds: string[],
  /** only these factors (the others come back empty): a view's check needs one or two of them */
  only: readonly Factor[] = FACTOR_NAMES,
): Promise<Map<Factor, FactorValue[]>> {
  const selects = TRIAL_FACTORS.filter((factor) => only.includes(factor)).map(
    (factor) => `array_agg(DISTINCT t."${factor}") AS "${factor}"`,
  );
  if (only.includes('evalDataset')) selects.push(EVAL_DATASETS);
  if (only.includes('sweep')) selects.push('array_agg(DISTINCT t."sweepId") AS sweep');
  const { rows } = await db.query<Record<string, FactorValue[]>>(
    `SELECT ${selects.join(', ')} FROM "Trial" t WHERE t."sweepId" = ANY($1::text[])`,
    [sweepIds],
  );
  const row = rows[0] ?? {};
  return new Map(FACTOR_NAMES.map((factor) => [factor, row[factor] ?? []]));
}

/** Factors taking more than one value: what the sweep varies. */
export function variedFactors(values: Map<Factor, FactorValue[]>, exclude: Factor[] = []): Factor[] {
  return [...values].filter(([factor, list]) => list.length > 1 && !exclude.includes(factor)).map(([f]) => f);
}
