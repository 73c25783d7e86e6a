import { AXES, type AxisKey, type AxisValue } from '../../sweep/axes.ts';
import { materialiseVariations } from '../../sweep/expand.ts';
import { parseSweepObject, type SearchSpec, varyAxes } from '../../sweep/schema.ts';
import { rungEpochs } from '../../sweep/search/halving.ts';
import { type AxisImportance, axisImportance, type ImportanceAxis } from '../../sweep/search/importance.ts';
import { configurationObjective, meanStd } from '../../sweep/search/objective.ts';
import { spaceAxes } from '../../sweep/search/space.ts';
import type { Queryable } from '../migrate.ts';
import { readRungDecisions, readSuggestions, searchTrials } from '../search.ts';

/**
 * What a search has done, for `status`, `results` and the dashboard alike: the rungs (who stopped where), every
 * configuration with its validation and test accuracy as mean ± sample std over seeds, the best so far, the epochs
 * trained against the grid, and an importance per axis. Read-only.
 */
export interface SearchReport {
  kind: SearchSpec['kind'];
  metric: string;
  /** `eta 3, rungs 1, 3, 9 epochs` or `16 suggestions in batches of 4, seed 0, 10 random first` */
  settings: string;
  rungs: RungSummary[];
  suggestions: { made: number; budget: number } | null;
  /** epochs trained by the sweep's trials, and what training every planned configuration in full would take */
  epochs: { trained: number; full: number };
  configurations: ConfigurationRow[];
  best: ConfigurationRow | null;
  importance: { method: string; basis: string; axes: AxisImportance[] };
}

export interface RungSummary {
  rung: number;
  epochs: number;
  /** candidates that reached it (decided or not) */
  candidates: number;
  promoted: number;
  /** whether its decision is written */
  decided: boolean;
}

export interface Stat {
  mean: number;
  std: number | null;
  n: number;
}

export interface ConfigurationRow {
  candidate: number;
  params: Record<string, AxisValue>;
  /** the most epochs its trials reached */
  epochs: number;
  /** `finished`, `stopped at 3 epochs`, `running`, `failed` */
  state: string;
  /** the objective at `epochs` (mean over cells of the seed means) */
  objective: number | null;
  /** validation top-1 at `epochs`, over seeds (each seed's mean over datasets and shots) */
  val: Stat | null;
  /** test top-1 of finished trials, over seeds; null for a configuration that stopped early */
  test: Stat | null;
}

export const IMPORTANCE_METHOD =
  'correlation ratio η²: the share of the objective’s variance between the groups of one axis (its values, or 4 equal-count bins of a numeric axis), the main-effect share fANOVA reports on a full grid';

/** The search kind of a stored sweep file, or null: a cheap look before the report. */
export async function searchKindOf(db: Queryable, sweepId: string): Promise<SearchSpec['kind'] | null> {
  const { rows } = await db.query<{ kind: string | null }>(
    `SELECT spec #>> '{search,kind}' AS kind FROM "Sweep" WHERE id = $1`,
    [sweepId],
  );
  const kind = rows[0]?.kind;
  return kind === 'successive-halving' || kind === 'tpe' ? kind : null;
}

/** The search report of a sweep, or null when the sweep is not a search. */
export async function searchReport(db: Queryable, sweepId: string): Promise<SearchReport | null> {
  const { rows } = await db.query<{ spec: unknown }>(`SELECT spec FROM "Sweep" WHERE id = $1`, [sweepId]);
  if (rows.length === 0) return null;
  let file: ReturnType<typeof parseSweepObject>;
  try {
    file = parseSweepObject(rows[0]!.spec);
  } catch {
    return null;
  }
  const search = file.search;
  if (!search) return null;
  const trials = await searchTrials(db, sweepId);
  const { rows: epochRows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "EpochMetric" m JOIN "Trial" t ON t.id = m."trialId" WHERE t."sweepId" = $1`,
    [sweepId],
  );
  const { rows: tests } = await db.query<{ trialId: string; top1: number }>(
    `SELECT t.id AS "trialId", t."testTop1" AS top1 FROM "Trial" t
      WHERE t."sweepId" = $1 AND t.status = 'succeeded' AND t."testTop1" IS NOT NULL`,
    [sweepId],
  );
  const testOf = new Map(tests.map((r) => [r.trialId, r.top1]));

  let params: Map<number, Record<string, AxisValue>>;
  let axes: AxisKey[];
  let rungs: RungSummary[] = [];
  let suggestions: SearchReport['suggestions'] = null;
  let full: number;
  /** the epochs every configuration's importance value is read at; undefined: each at the furthest it reached */
  let basisEpochs: number | undefined;
  let basis: string;
  if (search.kind === 'successive-halving') {
    const variations = materialiseVariations(file.vary);
    params = new Map(variations.map((v, i) => [i, v as Record<string, AxisValue>]));
    axes = file.vary && file.vary.mode !== 'explicit' ? varyAxes(file.vary) : explicitAxes(variations);
    const decisions = await readRungDecisions(db, sweepId);
    const epochsOf = rungEpochs(search);
    const candidates = new Set(trials.flatMap((t) => (t.candidate === null ? [] : [t.candidate])));
    let reached = candidates;
    rungs = epochsOf.map((epochs, rung) => {
      const decided = decisions.filter((d) => d.rung === rung);
      const summary = {
        rung,
        epochs,
        candidates: decided.length > 0 ? decided.length : reached.size,
        promoted: decided.filter((d) => d.promoted).length,
        decided: decided.length > 0,
      };
      reached = decided.length > 0 ? new Set(decided.filter((d) => d.promoted).map((d) => d.candidate)) : new Set();
      return summary;
    });
    full = trials.length * search.maxEpochs;
    // Every configuration has a result at the first rung, after the same training: the fair basis for importance.
    basisEpochs = epochsOf[0];
    basis = `the first rung (${epochsOf[0]} epoch${epochsOf[0] === 1 ? '' : 's'}), where every configuration has a result`;
  } else {
    const stored = await readSuggestions(db, sweepId);
    params = new Map(stored.map((s) => [s.index, s.params]));
    axes = spaceAxes(search);
    suggestions = { made: stored.length, budget: search.trials };
    full = trials.reduce((n, t) => n + t.epochs, 0);
    basisEpochs = undefined;
    basis = 'each suggestion at its full training';
  }

  const byCandidate = new Map<number, typeof trials>();
  for (const t of trials) {
    if (t.candidate === null) continue;
    const list = byCandidate.get(t.candidate);
    if (list) list.push(t);
    else byCandidate.set(t.candidate, [t]);
  }
  const configurations: ConfigurationRow[] = [];
  const importanceRows: Array<{ params: Record<string, string | number>; value: number }> = [];
  for (const [candidate, list] of [...byCandidate].sort((a, b) => a[0] - b[0])) {
    const epochs = Math.max(0, ...list.flatMap((t) => [...t.validation.keys()]));
    const at = (e: number) =>
      list.flatMap((t) => {
        const top1 = t.validation.get(e);
        return top1 === undefined ? [] : [{ dataset: t.dataset, shots: t.shots, seed: t.seed, top1 }];
      });
    const reachedPoints = at(epochs);
    const finished = list.filter((t) => testOf.has(t.id));
    configurations.push({
      candidate,
      params: params.get(candidate) ?? {},
      epochs,
      state: stateOf(list, epochs),
      objective: configurationObjective(reachedPoints),
      val: overSeeds(reachedPoints),
      test: overSeeds(
        finished.map((t) => ({ dataset: t.dataset, shots: t.shots, seed: t.seed, top1: testOf.get(t.id)! })),
      ),
    });
    const value = configurationObjective(basisEpochs === undefined ? reachedPoints : at(basisEpochs));
    if (value !== null)
      importanceRows.push({ params: (params.get(candidate) ?? {}) as Record<string, string | number>, value });
  }
  const importanceAxes: ImportanceAxis[] = axes.map((key) => ({
    key,
    kind: AXES[key].kind === 'enum' ? 'categorical' : 'numeric',
  }));
  return {
    kind: search.kind,
    metric: search.metric,
    settings:
      search.kind === 'successive-halving'
        ? `eta ${search.eta}, rungs at ${rungEpochs(search).join(', ')} epochs`
        : `${search.trials} suggestions in batches of ${search.batch}, seed ${search.seed}, ${search.startup} random first`,
    rungs,
    suggestions,
    epochs: { trained: epochRows[0]?.n ?? 0, full },
    configurations,
    best: bestOf(configurations),
    importance: { method: IMPORTANCE_METHOD, basis, axes: axisImportance(importanceRows, importanceAxes) },
  };
}

/** The axes an explicit list of variations sets, in axis-list order. */
function explicitAxes(variations: ReadonlyArray<Record<string, unknown>>): AxisKey[] {
  const keys = new Set(variations.flatMap((v) => Object.keys(v)));
  return (Object.keys(AXES) as AxisKey[]).filter((key) => keys.has(key));
}

/** Mean ± std over seeds of each seed's mean over its (dataset, shots) cells. */
function overSeeds(points: ReadonlyArray<{ dataset: string; shots: number; seed: number; top1: number }>): Stat | null {
  const bySeed = new Map<number, Array<{ dataset: string; shots: number; top1: number }>>();
  for (const p of points) {
    const list = bySeed.get(p.seed);
    if (list) list.push(p);
    else bySeed.set(p.seed, [p]);
  }
  return meanStd([...bySeed.values()].map((list) => configurationObjective(list) ?? Number.NaN));
}

function stateOf(list: ReadonlyArray<{ status: string }>, epochs: number): string {
  const statuses = new Set(list.map((t) => t.status));
  if (statuses.has('running') || statuses.has('queued') || statuses.has('pending')) return 'running';
  if (statuses.has('succeeded')) return 'finished';
  if (statuses.has('stopped')) return `stopped at ${epochs} epoch${epochs === 1 ? '' : 's'}`;
  return [...statuses].sort().join(', ');
}

/**
 * The best configuration so far: of those that reached the most epochs, the highest objective (configurations are
 * compared after the same training only); ties to the lower candidate.
 */
function bestOf(rows: readonly ConfigurationRow[]): ConfigurationRow | null {
  const scored = rows.filter((r) => r.objective !== null);
  if (scored.length === 0) return null;
  const furthest = Math.max(...scored.map((r) => r.epochs));
  return (
    scored
      .filter((r) => r.epochs === furthest)
      .sort((a, b) => (b.objective as number) - (a.objective as number) || a.candidate - b.candidate)[0] ?? null
  );
}
