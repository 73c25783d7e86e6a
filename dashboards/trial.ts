import { type FactorValue, TRIAL_FACTOR_NAMES } from '../db/ablation.ts';
import { type AttentionMaps, loadAttentionMaps } from '../db/attention.ts';
import type { Queryable } from '../db/migrate.ts';

/**
 * One trial in full, for the dashboard's trial page. Results, curve, checkpoint and provenance are read through the
 * trial whose results it reuses (`reusedFromId`), as every other dashboard query does; attempts are the trial's own.
 */

export interface TrialDetail {
  id: string;
  sweep: { id: string; name: string };
  status: string;
  factors: Record<string, FactorValue>;
  seed: number;
  /** The resolved TrialConfig. */
  config: unknown;
  /** The trial whose results this one reuses, or null. */
  reusedFrom: string | null;
  baseDiff: Array<{ path: string; value: unknown; base: unknown }>;
  attempts: Array<{
    attempt: number;
    status: string;
    startedAt: string;
    finishedAt: string | null;
    error: string | null;
    backend: string | null;
  }>;
  curve: Array<{
    epoch: number;
    loss: number;
    lossMain: number | null;
    lossCavpt: number | null;
    trainAcc: number | null;
    lrVisual: number | null;
    lrText: number | null;
  }>;
  checkpointEpoch: number | null;
  /** stored attention maps (`dpt-sweep attention`), through the trial whose prompts it reuses */
  attention: AttentionMaps[];
  results: Array<{
    evalDataset: string;
    split: string;
    /** all, or base / novel under base-to-novel */
    classSubset: string;
    top1: number;
    correct: number;
    total: number;
  }>;
  provenance: {
    codeVersion: string | null;
    backend: string | null;
    weightsSha256: string | null;
    splitHash: string | null;
  };
}

/** Config paths left out of the base comparison: the seed is the replicate (shown as `seed`), not a setting. */
const NOT_COMPARED = new Set(['seed']);

export async function trialDetail(db: Queryable, trialId: string): Promise<TrialDetail | null> {
  const factorSelect = TRIAL_FACTOR_NAMES.map((name) => `t."${name}"`).join(', ');
  const found = await db.query<
    Record<string, FactorValue> & {
      id: string;
      sweepId: string;
      sweepName: string;
      status: string;
      seed: number;
      config: unknown;
      reusedFromId: string | null;
      source: string;
      codeVersion: string | null;
      backend: string | null;
      weightsSha256: string | null;
      splitHash: string | null;
    }
  >(
    `SELECT t.id, t."sweepId", s.name AS "sweepName", t.status::text AS status, t.seed, t.config, t."reusedFromId",
            COALESCE(src.id, t.id) AS source, ${factorSelect},
            COALESCE(src."codeVersion", t."codeVersion") AS "codeVersion",
            COALESCE(src.backend, t.backend) AS backend,
            COALESCE(src."weightsSha256", t."weightsSha256") AS "weightsSha256",
            COALESCE(src."splitHash", t."splitHash") AS "splitHash"
       FROM "Trial" t
       JOIN "Sweep" s ON s.id = t."sweepId"
       LEFT JOIN "Trial" src ON src.id = t."reusedFromId"
      WHERE t.id = $1`,
    [trialId],
  );
  const trial = found.rows[0];
  if (trial === undefined) return null;
  const [attempts, curve, checkpoint, results, baseDiff, attention] = await Promise.all([
    db.query<{
      attempt: number;
      status: string;
      startedAt: Date;
      finishedAt: Date | null;
      error: string | null;
      backend: string | null;
    }>(
      `SELECT attempt, outcome::text AS status, "startedAt", "endedAt" AS "finishedAt", error, backend
         FROM "TrialAttempt" WHERE "trialId" = $1 ORDER BY attempt`,
      [trial.id],
    ),
    db.query<TrialDetail['curve'][number]>(
      `SELECT epoch, loss, "lossMain", "lossCavpt", "trainAcc", "lrVisual", "lrText"
         FROM "EpochMetric" WHERE "trialId" = $1 ORDER BY epoch`,
      [trial.source],
    ),
    db.query<{ epoch: number | null }>(`SELECT max(epoch) AS epoch FROM "Checkpoint" WHERE "trialId" = $1`, [
      trial.source,
    ]),
    db.query<TrialDetail['results'][number]>(
      `SELECT "evalDataset", split, "classSubset", top1, correct, total FROM "TrialResult" WHERE "trialId" = $1
        ORDER BY "evalDataset", split, "classSubset"`,
      [trial.source],
    ),
    configDiff(db, trial.sweepId, String(trial.method), trial.config),
    loadAttentionMaps(db, trial.id),
  ]);
  return {
    id: trial.id,
    sweep: { id: trial.sweepId, name: trial.sweepName },
    status: trial.status,
    factors: Object.fromEntries(TRIAL_FACTOR_NAMES.map((name) => [name, trial[name] ?? null])),
    seed: trial.seed,
    config: trial.config,
    reusedFrom: trial.reusedFromId,
    baseDiff,
    attempts: attempts.rows.map((row) => ({
      ...row,
      startedAt: row.startedAt.toISOString(),
      finishedAt: row.finishedAt?.toISOString() ?? null,
    })),
    curve: curve.rows,
    checkpointEpoch: checkpoint.rows[0]?.epoch ?? null,
    attention,
    results: results.rows,
    provenance: {
      codeVersion: trial.codeVersion,
      backend: trial.backend,
      weightsSha256: trial.weightsSha256,
      splitHash: trial.splitHash,
    },
  };
}

/** Leaves of a config as dotted paths (arrays are leaves), with their JSON text. */
export function configLeaves(config: unknown, at = '', into = new Map<string, unknown>()): Map<string, unknown> {
  if (typeof config === 'object' && config !== null && !Array.isArray(config)) {
    for (const [key, value] of Object.entries(config)) configLeaves(value, at === '' ? key : `${at}.${key}`, into);
  } else if (at !== '') into.set(at, config);
  return into;
}

/**
 * Where this config differs from the sweep's base: a sweep records no base cell config, so the base of each leaf is
 * its most common value among the sweep's trials of the same method (another method's trials differ in settings it
 * does not read, which would bury the real differences); unset counts as a value; ties go to the smallest JSON text,
 * so the answer is stable. Counted in PostgreSQL, which sends back one row per distinct (path, value), not every
 * config.
 */
async function configDiff(
  db: Queryable,
  sweepId: string,
  method: string,
  config: unknown,
): Promise<Array<{ path: string; value: unknown; base: unknown }>> {
  const { rows } = await db.query<{ path: string[]; value: unknown; n: number; total: number }>(
    // Trials repeat their config across seeds: walk each distinct config once, weighted by how many trials have it.
    `WITH RECURSIVE configs(config, n) AS (
       SELECT t.config - 'seed', count(*) FROM "Trial" t WHERE t."sweepId" = $1 AND t.method = $2 GROUP BY 1
     ),
     leaves(path, value, n) AS (
       SELECT ARRAY[e.key], e.value, c.n FROM configs c, jsonb_each(c.config) AS e
       UNION ALL
       SELECT l.path || e.key, e.value, l.n
         FROM leaves l,
              jsonb_each(CASE WHEN jsonb_typeof(l.value) = 'object' THEN l.value ELSE '{}'::jsonb END) AS e
     )
     SELECT path, value, sum(n)::int AS n, (SELECT sum(n)::int FROM configs) AS total
       FROM leaves WHERE jsonb_typeof(value) <> 'object'
      GROUP BY path, value`,
    [sweepId, method],
  );
  // Absent stands for "unset": JSON has no undefined, so it is marked apart from a stored null.
  const ABSENT = '\u0000absent';
  const counts = new Map<string, Map<string, number>>();
  const total = rows[0]?.total ?? 0;
  for (const row of rows) {
    const path = row.path.join('.');
    const byValue = counts.get(path) ?? new Map<string, number>();
    byValue.set(JSON.stringify(row.value), row.n);
    counts.set(path, byValue);
  }
  const mine = configLeaves(config);
  const paths = [...new Set([...counts.keys(), ...mine.keys()])].filter((path) => !NOT_COMPARED.has(path)).sort();
  const diff: Array<{ path: string; value: unknown; base: unknown }> = [];
  for (const path of paths) {
    const byValue = new Map(counts.get(path) ?? []);
    const present = [...byValue.values()].reduce((sum, n) => sum + n, 0);
    if (total > present) byValue.set(ABSENT, total - present);
    const [base] = [...byValue.entries()].sort(
      (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
    )[0] ?? [ABSENT];
    const value = mine.has(path) ? JSON.stringify(mine.get(path)) : ABSENT;
    if (value === base) continue;
    const parse = (text: string) => (text === ABSENT ? null : (JSON.parse(text) as unknown));
    diff.push({ path, value: parse(value), base: parse(base) });
  }
  return diff;
}
