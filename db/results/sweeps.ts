import { z } from 'zod';
import { compareFactorValues } from '../../sweep/factors.ts';
import { PROTOCOLS, type ProtocolName, protocolOf } from '../../sweep/protocol.ts';
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
  /** the sweep file's protocol (sweep/protocol.ts); few-shot for a file that names none */
  protocol: ProtocolName;
}

/** The protocol as a stored sweep file holds it (validated when it was launched). */
const storedProtocol = z
  .union([z.enum(PROTOCOLS), z.object({ name: z.enum(PROTOCOLS), targets: z.array(z.string()).optional() })])
  .optional();

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
  const { rows } = await db.query<{ id: string; name: string; protocol: unknown }>(
    `SELECT id, name, spec -> 'protocol' AS protocol FROM "Sweep" WHERE id = ANY($1::text[])`,
    [ids],
  );
  const byId = new Map(
    rows.map((row): [string, ResolvedSweep] => [
      row.id,
      {
        id: row.id,
        name: row.name,
        protocol: protocolOf(storedProtocol.catch(undefined).parse(row.protocol ?? undefined)).name,
      },
    ]),
  );
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

/** Trial columns that are factors; `sweep` and the result factors are derived and handled apart. */
const TRIAL_FACTORS = FACTOR_NAMES.filter(
  (factor) => factor !== 'sweep' && factor !== 'evalDataset' && factor !== 'classSubset',
);

/**
 * The distinct values each factor takes over the trials of the sweeps (null included when unset), to tell which
 * factors were swept. Column names come from the fixed factor list, never from input. One DISTINCT over the factor
 * columns together, split per factor here: a sweep has few distinct combinations (its cells), and one hash pass over
 * the trials costs a third of one sorted `array_agg(DISTINCT)` per column (bench/dashboard.ts).
 */
export async function factorValues(
  db: Queryable,
  sweepIds: string[],
  /** only these factors (the others come back empty): a view's check needs one or two of them */
  only: readonly Factor[] = FACTOR_NAMES,
): Promise<Map<Factor, FactorValue[]>> {
  // The class subsets follow from the trials' subsampleClasses: base-to-novel trials have a base and a novel half.
  const columns = TRIAL_FACTORS.filter(
    (factor) => only.includes(factor) || (factor === 'subsampleClasses' && only.includes('classSubset')),
  );
  const selects = columns.map((factor) => `t."${factor}"`);
  if (only.includes('sweep')) selects.push('t."sweepId" AS sweep');
  const [combos, evalDatasets] = await Promise.all([
    selects.length === 0
      ? { rows: [] }
      : db.query<Record<string, FactorValue>>(
          `SELECT DISTINCT ${selects.join(', ')}
             FROM "Trial" t WHERE t."sweepId" = ANY($1::text[])`,
          [sweepIds],
        ),
    only.includes('evalDataset')
      ? // The distinct lists first: a sweep has a handful of lists but one per trial.
        db.query<{ evalDataset: string }>(
          `SELECT DISTINCT e AS "evalDataset"
             FROM (SELECT DISTINCT t."evalDatasets" FROM "Trial" t WHERE t."sweepId" = ANY($1::text[])) d,
                  unnest(d."evalDatasets") e`,
          [sweepIds],
        )
      : { rows: [] },
  ]);
  const values = new Map<Factor, FactorValue[]>(FACTOR_NAMES.map((factor) => [factor, []]));
  const distinctOf = (list: FactorValue[]) => [...new Set(list)].sort((a, b) => compareFactorValues(a, b, 'last'));
  for (const factor of only.includes('sweep') ? [...columns, 'sweep' as const] : columns)
    values.set(factor, distinctOf(combos.rows.map((row) => row[factor] ?? null)));
  values.set('evalDataset', distinctOf(evalDatasets.rows.map((row) => row.evalDataset)));
  if (only.includes('classSubset')) {
    const subsamples = combos.rows.map((row) => row.subsampleClasses);
    values.set(
      'classSubset',
      distinctOf(subsamples.flatMap((value) => (value === 'base' ? ['base', 'novel'] : ['all']))),
    );
    if (!only.includes('subsampleClasses')) values.set('subsampleClasses', []);
  }
  return values;
}

/** Factors taking more than one value: what the sweep varies. */
export function variedFactors(values: Map<Factor, FactorValue[]>, exclude: Factor[] = []): Factor[] {
  return [...values].filter(([factor, list]) => list.length > 1 && !exclude.includes(factor)).map(([f]) => f);
}
