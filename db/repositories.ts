import { createHash } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import { FACTOR_DEFS, type FactorDef, type FactorValue, type TrialFactorName } from '../sweep/factors.ts';
import { DatabaseError } from './errors.ts';
import type { Queryable } from './migrate.ts';
import { OWN_CLASSES_SQL } from './own-classes.ts';

/**
 * Idempotent writes. Activities run at least once, so every write is an upsert on a natural key, and an upsert that
 * changes nothing leaves the row untouched (updatedAt included): applying the same writes twice leaves identical rows.
 * Writes go through SQL on the pool (multi-row, conditional upserts that Prisma has no API for); reads for the
 * CLI and dashboard can use the Prisma client on the same pool.
 */

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

/** Deterministic ids: a retried write derives the same id, so it can never create a second row. */
export const sweepIdFor = (name: string) => `s_${hash(`sweep:${name}`).slice(0, 24)}`;
export const trialIdFor = (sweepId: string, configKey: string) =>
  `t_${hash(`trial:${sweepId}:${configKey}`).slice(0, 24)}`;

export const TRIAL_STATUSES = [
  'pending',
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'reused',
  'stopped',
] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];

/** Which states a trial may move to from which; moving to the state it is already in is a no-op, not an error. */
const TRANSITIONS: Record<TrialStatus, readonly TrialStatus[]> = {
  pending: ['queued', 'running', 'cancelled', 'reused'],
  queued: ['running', 'cancelled', 'reused', 'failed'],
  running: ['succeeded', 'failed', 'cancelled', 'queued', 'stopped'],
  succeeded: [],
  failed: ['queued'],
  cancelled: ['queued'],
  reused: [],
  // Halted at a successive-halving rung; a promotion trains it on from its checkpoint.
  stopped: ['running', 'queued'],
};

const sweepSchema = z.object({
  name: z.string().min(1),
  spec: z.unknown(),
  specHash: z.string().min(1),
  maxParallel: z.number().int().positive(),
  reuseResults: z.boolean().default(true),
  codeVersion: z.string().min(1),
  workflowId: z.string().min(1).nullable().default(null),
});
export type SweepInput = z.input<typeof sweepSchema>;

/** Creates the sweep or updates its definition (a changed file reconciles into the same sweep); returns its id. */
export async function upsertSweep(db: Queryable, input: SweepInput): Promise<string> {
  const sweep = sweepSchema.parse(input);
  const id = sweepIdFor(sweep.name);
  await db.query(
    `INSERT INTO "Sweep" (id, name, spec, "specHash", "maxParallel", "reuseResults", "codeVersion", "workflowId", "updatedAt")
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
     ON CONFLICT (name) DO UPDATE SET spec = EXCLUDED.spec, "specHash" = EXCLUDED."specHash",
       "maxParallel" = EXCLUDED."maxParallel", "reuseResults" = EXCLUDED."reuseResults",
       "codeVersion" = EXCLUDED."codeVersion", "workflowId" = COALESCE(EXCLUDED."workflowId", "Sweep"."workflowId"),
       "updatedAt" = now()
     WHERE ("Sweep".spec, "Sweep"."specHash", "Sweep"."maxParallel", "Sweep"."reuseResults", "Sweep"."codeVersion")
           IS DISTINCT FROM (EXCLUDED.spec, EXCLUDED."specHash", EXCLUDED."maxParallel", EXCLUDED."reuseResults", EXCLUDED."codeVersion")
        OR (EXCLUDED."workflowId" IS NOT NULL AND EXCLUDED."workflowId" IS DISTINCT FROM "Sweep"."workflowId")`,
    [
      id,
      sweep.name,
      JSON.stringify(sweep.spec ?? null),
      sweep.specHash,
      sweep.maxParallel,
      sweep.reuseResults,
      sweep.codeVersion,
      sweep.workflowId,
    ],
  );
  return id;
}

const SWEEP_STATUSES = ['planned', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;

export async function setSweepStatus(
  db: Queryable,
  sweepId: string,
  status: (typeof SWEEP_STATUSES)[number],
): Promise<void> {
  const finished = status === 'succeeded' || status === 'failed' || status === 'cancelled';
  await db.query(
    `UPDATE "Sweep" SET status = $2::"SweepStatus", "updatedAt" = now(),
            "finishedAt" = CASE WHEN $3 THEN COALESCE("finishedAt", now()) ELSE NULL END
      WHERE id = $1 AND status IS DISTINCT FROM $2::"SweepStatus"`,
    [sweepId, z.enum(SWEEP_STATUSES).parse(status), finished],
  );
}

function factorSchema(def: FactorDef): z.ZodType<FactorValue> {
  const value: z.ZodType<string | number> =
    // Every numeric setting (counts, rates, weights) is >= 0.
    def.type === 'text'
      ? z.string().min(1)
      : def.type === 'int'
        ? z.number().int().nonnegative()
        : z.number().nonnegative();
  if (def.nullable) return value.nullable().default(null);
  return def.defaultValue === undefined ? value : value.default(def.defaultValue);
}

/** A planned trial: its identity, its resolved config and its factors (sweep/factors.ts; nullable ones may be left out). */
export type TrialInput = {
  configKey: string;
  seed: number;
  /** The code version the trial was planned with (part of its configKey); workers with other code refuse it. */
  codeVersion?: string | null;
  evalDatasets?: string[];
  /** Under a search: the configuration (variation or suggestion) the trial replicates. */
  searchCandidate?: number | null;
  config: unknown;
  method: string;
  dataset: string;
  backbone: string;
  shots: number;
} & Partial<Record<TrialFactorName, FactorValue>>;
type PlannedTrial = Required<Omit<TrialInput, 'evalDatasets'>> &
  Pick<TrialInput, 'evalDatasets'> &
  Record<TrialFactorName, FactorValue>;

const trialSchema = z.object({
  configKey: z.string().regex(/^[0-9a-f]{16,64}$/, 'configKey must be a hex digest'),
  seed: z.number().int(),
  codeVersion: z.string().min(1).nullable().default(null),
  searchCandidate: z.number().int().nonnegative().nullable().default(null),
  evalDatasets: z.array(z.string().min(1)).min(1).optional(),
  config: z.unknown(),
  ...Object.fromEntries(FACTOR_DEFS.map((def) => [def.name, factorSchema(def)])),
}) as unknown as z.ZodType<PlannedTrial, TrialInput>;

/** Column lists of the planned-trial insert: the fixed ones, then one per factor of sweep/factors.ts. */
const PLAIN_COLUMNS = [
  { name: 'configKey', type: 'text' },
  { name: 'seed', type: 'int' },
  { name: 'codeVersion', type: 'text' },
  { name: 'searchCandidate', type: 'int' },
  ...FACTOR_DEFS.map((def) => ({ name: def.name, type: def.type })),
] as const;
const quote = (name: string) => `"${name}"`;

/**
 * Inserts the planned trials of a sweep in one statement; trials already planned (same configKey) are left as they
 * are, so re-planning a changed sweep file only adds the new cells. Returns the ids of all given trials, in order.
 */
export async function planTrials(db: Queryable, sweepId: string, inputs: TrialInput[]): Promise<string[]> {
  const trials = inputs.map((input) => trialSchema.parse(input));
  const ids = trials.map((trial) => trialIdFor(sweepId, trial.configKey));
  if (trials.length === 0) return ids;
  const columns = PLAIN_COLUMNS.map((column) => trials.map((trial) => trial[column.name]));
  const arrays = PLAIN_COLUMNS.map((column, i) => `$${i + 3}::${column.type}[]`);
  const n = PLAIN_COLUMNS.length;
  await db.query(
    `INSERT INTO "Trial" (id, "sweepId", ${PLAIN_COLUMNS.map((c) => quote(c.name)).join(', ')}, "evalDatasets", config,
                          "updatedAt")
     SELECT u.id, $1, ${PLAIN_COLUMNS.map((_, i) => `u.c${i}`).join(', ')},
            ARRAY(SELECT jsonb_array_elements_text(u.evals)), u.config, now()
       FROM unnest($2::text[], ${arrays.join(', ')}, $${n + 3}::jsonb[], $${n + 4}::jsonb[])
         AS u(id, ${PLAIN_COLUMNS.map((_, i) => `c${i}`).join(', ')}, evals, config)
     ON CONFLICT ("sweepId", "configKey") DO NOTHING`,
    [
      sweepId,
      ids,
      ...columns,
      trials.map((trial) => JSON.stringify(trial.evalDatasets ?? [trial.dataset])),
      trials.map((trial) => JSON.stringify(trial.config ?? null)),
    ],
  );
  return ids;
}

export interface TransitionFields {
  backend?: string;
  workerId?: string;
  error?: string;
  /** Provenance reported by the run that succeeded: sha256 of the CLIP weights, hash of the few-shot picks. */
  weightsSha256?: string;
  splitHash?: string;
}

/**
 * Moves a trial to `to` if the transition is allowed from its current state. Returns true when the trial is now in
 * `to` (including when it already was: retries are no-ops) and false when the move is not allowed (e.g. a late
 * "running" report for a trial that already succeeded).
 */
export async function transitionTrial(
  db: Queryable,
  trialId: string,
  to: Exclude<TrialStatus, 'reused'>,
  fields: TransitionFields = {},
): Promise<boolean> {
  const from = TRIAL_STATUSES.filter((status) => TRANSITIONS[status].includes(to));
  const { rows } = await db.query<{ status: TrialStatus }>(
    `WITH moved AS (
       UPDATE "Trial" SET status = $2::"TrialStatus", "updatedAt" = now(),
              backend = COALESCE($4, backend), "workerId" = COALESCE($5, "workerId"),
              "weightsSha256" = COALESCE($7, "weightsSha256"), "splitHash" = COALESCE($8, "splitHash"),
              error = CASE WHEN $2 IN ('failed', 'cancelled') THEN $6 WHEN $2 = 'succeeded' THEN NULL ELSE error END,
              "startedAt" = CASE WHEN $2 = 'running' THEN now() ELSE "startedAt" END,
              "finishedAt" = CASE WHEN $2 IN ('succeeded', 'failed', 'cancelled', 'stopped') THEN now()
                                  WHEN $2 IN ('queued', 'running') THEN NULL ELSE "finishedAt" END,
              "durationMs" = CASE WHEN $2 IN ('succeeded', 'failed', 'cancelled', 'stopped') AND "startedAt" IS NOT NULL
                                  THEN (extract(epoch FROM now() - "startedAt") * 1000)::int ELSE "durationMs" END
        WHERE id = $1 AND status::text = ANY($3::text[])
        RETURNING status)
     SELECT status FROM moved
     UNION ALL SELECT status FROM "Trial" WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM moved)`,
    [
      trialId,
      to,
      from,
      fields.backend ?? null,
      fields.workerId ?? null,
      fields.error ?? null,
      fields.weightsSha256 ?? null,
      fields.splitHash ?? null,
    ],
  );
  if (rows.length === 0) throw new Error(`trial ${trialId} does not exist`);
  return rows[0]?.status === to;
}

/**
 * Ends a trial whose activity gave up (retries exhausted, non-retryable, timed out, cancelled) from whatever state it
 * was left in; a trial that already succeeded or reuses results keeps its result.
 */
export async function closeTrial(
  db: Queryable,
  trialId: string,
  status: 'failed' | 'cancelled',
  error: string,
): Promise<void> {
  await db.query(
    `UPDATE "Trial" SET status = $2::"TrialStatus", error = $3, "finishedAt" = now(), "updatedAt" = now()
      WHERE id = $1 AND status NOT IN ('succeeded', 'reused')
        AND (status, error) IS DISTINCT FROM ($2::"TrialStatus", $3)`,
    [trialId, status, error],
  );
}

/**
 * Makes a sweep's unfinished trials runnable again (failed, cancelled, and running ones left behind by a workflow
 * that is gone); returns how many. The caller checks that no workflow of the sweep is running.
 */
export async function requeueUnfinishedTrials(db: Queryable, sweepId: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE "Trial" SET status = 'queued', error = NULL, "finishedAt" = NULL, "updatedAt" = now()
      WHERE "sweepId" = $1 AND status IN ('failed', 'cancelled', 'running')`,
    [sweepId],
  );
  return rowCount ?? 0;
}

/**
 * Links every pending or queued trial of the sweep to the oldest succeeded trial with the same identity (configKey)
 * in another sweep instead of retraining it (read through reusedFromId; nothing is copied). Returns how many.
 */
export async function linkReusableTrials(db: Queryable, sweepId: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE "Trial" AS t
        SET status = 'reused', "reusedFromId" = src.id, "finishedAt" = now(), "updatedAt" = now()
       FROM (SELECT DISTINCT ON ("configKey") id, "configKey"
               FROM "Trial"
              WHERE status = 'succeeded' AND "sweepId" <> $1
              ORDER BY "configKey", "finishedAt", id) AS src
      WHERE t."sweepId" = $1 AND t.status IN ('pending', 'queued') AND t."configKey" = src."configKey"`,
    [sweepId],
  );
  return rowCount ?? 0;
}

/**
 * Opens the next attempt of a trial and returns its number (1, 2, …) across every activity that ever ran the trial,
 * including those of earlier workflow runs (a resumed sweep continues the count); Trial.attempts follows it. Temporal
 * runs at most one attempt of a trial at a time, so an attempt still marked running belongs to a worker that died:
 * it is closed as timed out.
 */
export async function beginAttempt(db: Queryable, trialId: string, workerId: string | null): Promise<number> {
  const { rows } = await db.query<{ attempt: number }>(
    `WITH stale AS (
       UPDATE "TrialAttempt" SET outcome = 'timed_out', "endedAt" = now(),
              error = 'worker stopped answering (no end reported)' || COALESCE('; ' || error, '')
        WHERE "trialId" = $1 AND outcome = 'running'
        RETURNING attempt),
     opened AS (
       INSERT INTO "TrialAttempt" ("trialId", attempt, "workerId", "startedAt")
       SELECT $1, COALESCE((SELECT max(attempt) FROM "TrialAttempt" WHERE "trialId" = $1), 0) + 1, $2, now()
       RETURNING attempt),
     counted AS (
       UPDATE "Trial" t SET attempts = o.attempt, "updatedAt" = now() FROM opened o WHERE t.id = $1 RETURNING t.id)
     SELECT attempt FROM opened`,
    [trialId, workerId],
  );
  return rows[0]!.attempt;
}

/**
 * Ends an attempt. TrialAttempt.error says why an attempt did not succeed, followed by any notes the attempt recorded
 * while it ran (noteAttempt), whatever its outcome: a succeeded attempt's error holds its notes only.
 */
export async function finishAttempt(
  db: Queryable,
  trialId: string,
  attempt: number,
  outcome: 'succeeded' | 'failed' | 'cancelled' | 'timed_out',
  endedAt: Date,
  error: string | null = null,
): Promise<void> {
  // Only the first end report counts; a retried report must not move endedAt.
  await db.query(
    `UPDATE "TrialAttempt" SET outcome = $3::"AttemptOutcome", "endedAt" = $4,
            error = CASE WHEN $5::text IS NULL THEN error ELSE $5 || COALESCE('; ' || error, '') END
      WHERE "trialId" = $1 AND attempt = $2 AND outcome = 'running'`,
    [trialId, attempt, outcome, endedAt, error],
  );
}

/**
 * Records on a running attempt something it did that its outcome does not tell (it discarded a corrupt checkpoint),
 * in TrialAttempt.error: written at once, so the note survives a worker that dies before the attempt ends, and kept
 * after the failure reason when the attempt fails (finishAttempt). Notes of one attempt are joined with "; ".
 */
export async function noteAttempt(db: Queryable, trialId: string, attempt: number, note: string): Promise<void> {
  await db.query(
    `UPDATE "TrialAttempt" SET error = COALESCE(error || '; ', '') || $3
      WHERE "trialId" = $1 AND attempt = $2 AND outcome = 'running'
        AND (error IS NULL OR position($3 in error) = 0)`,
    [trialId, attempt, z.string().min(1).parse(note)],
  );
}

const resultSchema = z
  .object({
    evalDataset: z.string().min(1),
    split: z.string().min(1),
    classSubset: z.enum(['all', 'base', 'novel']).default('all'),
    correct: z.number().int().nonnegative(),
    total: z.number().int().positive(),
  })
  .refine((r) => r.correct <= r.total, 'correct cannot exceed total');
export type ResultInput = z.input<typeof resultSchema>;

/** Upserts a trial's accuracies; top1 is derived (percent) so it always agrees with correct/total. */
export function upsertResults(db: Queryable, trialId: string, inputs: ResultInput[]): Promise<void> {
  return upsertManyResults(
    db,
    inputs.map((input) => ({ ...input, trialId })),
  );
}

/**
 * Upserts accuracies of many trials in one multi-row statement. A row of a trial's own dataset on the test split (its
 * own classes: OWN_CLASSES_SQL) is also copied to its Trial row (`testTop1`), in the same statement, so the copy
 * never disagrees with the result.
 */
export async function upsertManyResults(db: Queryable, rows: Array<ResultInput & { trialId: string }>): Promise<void> {
  const results = rows.map((row) => ({ trialId: z.string().min(1).parse(row.trialId), ...resultSchema.parse(row) }));
  if (results.length === 0) return;
  await db.query(
    `WITH written AS (
       INSERT INTO "TrialResult" ("trialId", "evalDataset", split, "classSubset", top1, correct, total, "updatedAt")
       SELECT u.trial, u.eval, u.split, u.subset, 100.0 * u.correct / u.total, u.correct, u.total, now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[])
              AS u(trial, eval, split, subset, correct, total)
       ON CONFLICT ("trialId", "evalDataset", split, "classSubset") DO UPDATE
          SET top1 = EXCLUDED.top1, correct = EXCLUDED.correct, total = EXCLUDED.total, "updatedAt" = now()
        WHERE ("TrialResult".correct, "TrialResult".total) IS DISTINCT FROM (EXCLUDED.correct, EXCLUDED.total)
       RETURNING "trialId", "evalDataset", split, "classSubset", top1)
     UPDATE "Trial" t SET "testTop1" = w.top1
       FROM written w
      WHERE t.id = w."trialId" AND t.dataset = w."evalDataset" AND w.split = 'test'
        AND w."classSubset" = ${OWN_CLASSES_SQL('t')}`,
    [
      results.map((r) => r.trialId),
      results.map((r) => r.evalDataset),
      results.map((r) => r.split),
      results.map((r) => r.classSubset),
      results.map((r) => r.correct),
      results.map((r) => r.total),
    ],
  );
}

const metricSchema = z.object({
  epoch: z.number().int().nonnegative(),
  loss: z.number(),
  lossMain: z.number().nullable().default(null),
  lossCavpt: z.number().nullable().default(null),
  lrText: z.number().nullable().default(null),
  lrVisual: z.number().nullable().default(null),
  trainAcc: z.number().nullable().default(null),
  seconds: z.number().nullable().default(null),
});
export type EpochMetricInput = z.input<typeof metricSchema>;
const METRIC_COLUMNS = ['loss', 'lossMain', 'lossCavpt', 'lrText', 'lrVisual', 'trainAcc', 'seconds'] as const;

/** Upserts per-epoch metrics of one or many trials in one statement (a resumed trial re-reports epochs). */
export async function upsertEpochMetrics(
  db: Queryable,
  rows: Array<EpochMetricInput & { trialId: string }>,
): Promise<void> {
  if (rows.length === 0) return;
  const metrics = rows.map((row) => ({ trialId: z.string().min(1).parse(row.trialId), ...metricSchema.parse(row) }));
  const quoted = METRIC_COLUMNS.map((c) => `"${c}"`);
  await db.query(
    `INSERT INTO "EpochMetric" ("trialId", epoch, ${quoted.join(', ')})
     SELECT * FROM unnest($1::text[], $2::int[], ${METRIC_COLUMNS.map((_, i) => `$${i + 3}::float8[]`).join(', ')})
     ON CONFLICT ("trialId", epoch) DO UPDATE SET ${quoted.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
      WHERE (${quoted.map((c) => `"EpochMetric".${c}`).join(', ')})
            IS DISTINCT FROM (${quoted.map((c) => `EXCLUDED.${c}`).join(', ')})`,
    [
      metrics.map((m) => m.trialId),
      metrics.map((m) => m.epoch),
      ...METRIC_COLUMNS.map((c) => metrics.map((m) => m[c])),
    ],
  );
}

/**
 * Stores a trial's checkpoint for `epoch` and drops older epochs in the same transaction, so a crash leaves either
 * the old or the new checkpoint, never neither. A late, older checkpoint never replaces a newer one.
 */
export async function saveCheckpoint(
  pool: pg.Pool,
  trialId: string,
  epoch: number,
  bytes: Uint8Array,
): Promise<string> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const client = await pool.connect();
  // pg-pool watches only idle clients for errors: a checked-out one whose server goes away (a restart mid-transaction)
  // emits 'error', and with no listener that ends the worker process. The failed query rejects as well, and that
  // rejection is what reports the failure (the attempt is retried), so the event itself needs no handling.
  const ignore = () => undefined;
  client.on('error', ignore);
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO "Checkpoint" ("trialId", epoch, bytes, sha256, "sizeBytes") VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ("trialId", epoch) DO UPDATE SET bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256,
              "sizeBytes" = EXCLUDED."sizeBytes", "createdAt" = now()
        WHERE "Checkpoint".sha256 <> EXCLUDED.sha256`,
      [trialId, epoch, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), sha256, bytes.byteLength],
    );
    await client.query(
      `DELETE FROM "Checkpoint" WHERE "trialId" = $1
          AND epoch < (SELECT max(epoch) FROM "Checkpoint" WHERE "trialId" = $1)`,
      [trialId],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off('error', ignore);
    client.release();
  }
  return sha256;
}

export interface LoadedCheckpoint {
  epoch: number;
  bytes: Uint8Array;
  sha256: string;
}

/** The newest checkpoint of a trial, verified against its stored sha256 (a mismatch is an error, never resumed). */
export async function loadLatestCheckpoint(db: Queryable, trialId: string): Promise<LoadedCheckpoint | null> {
  const { rows } = await db.query<{ epoch: number; bytes: Buffer; sha256: string }>(
    `SELECT epoch, bytes, sha256 FROM "Checkpoint" WHERE "trialId" = $1 ORDER BY epoch DESC LIMIT 1`,
    [trialId],
  );
  const row = rows[0];
  if (row === undefined) return null;
  const actual = createHash('sha256').update(row.bytes).digest('hex');
  if (actual !== row.sha256) {
    throw new DatabaseError(
      `checkpoint of trial ${trialId} at epoch ${row.epoch} is corrupt (sha256 ${actual.slice(0, 12)}… ≠ stored ${row.sha256.slice(0, 12)}…)`,
      'checkpoint-corrupt',
    );
  }
  return { epoch: row.epoch, bytes: new Uint8Array(row.bytes), sha256: row.sha256 };
}

/**
 * Deletes one stored checkpoint of a trial that cannot be resumed from (corrupt bytes, an undecodable payload, a
 * fingerprint of another config), so the next attempt starts from the previous checkpoint or from scratch instead of
 * failing on it forever. Matched by sha256 too, so a valid checkpoint saved at that epoch since is kept. Returns
 * whether a row was deleted.
 */
export async function discardCheckpoint(
  db: Queryable,
  trialId: string,
  epoch: number,
  sha256: string,
): Promise<boolean> {
  const { rowCount } = await db.query(`DELETE FROM "Checkpoint" WHERE "trialId" = $1 AND epoch = $2 AND sha256 = $3`, [
    trialId,
    epoch,
    sha256,
  ]);
  return (rowCount ?? 0) > 0;
}

export interface DiscardedCheckpoint {
  epoch: number;
  /** Why it could not be resumed from, one line. */
  reason: string;
}

/**
 * The newest checkpoint of a trial that can be resumed from, or null: each newer one whose bytes do not match their
 * sha256, or that `problem` rejects (the caller decodes the payload), is deleted (discardCheckpoint) and listed in
 * `discarded`, newest first. Never throws for a bad checkpoint: a trial recovers by itself, from the previous valid
 * checkpoint or from epoch 0.
 */
export async function loadResumableCheckpoint(
  db: Queryable,
  trialId: string,
  problem: (checkpoint: LoadedCheckpoint) => string | null = () => null,
): Promise<{ checkpoint: LoadedCheckpoint | null; discarded: DiscardedCheckpoint[] }> {
  const discarded: DiscardedCheckpoint[] = [];
  let below = 2_147_483_647; // epoch is an int column
  for (;;) {
    const { rows } = await db.query<{ epoch: number; bytes: Buffer; sha256: string }>(
      `SELECT epoch, bytes, sha256 FROM "Checkpoint" WHERE "trialId" = $1 AND epoch < $2 ORDER BY epoch DESC LIMIT 1`,
      [trialId, below],
    );
    const row = rows[0];
    if (row === undefined) return { checkpoint: null, discarded };
    below = row.epoch;
    const actual = createHash('sha256').update(row.bytes).digest('hex');
    const checkpoint = { epoch: row.epoch, bytes: new Uint8Array(row.bytes), sha256: row.sha256 };
    const reason =
      actual === row.sha256
        ? problem(checkpoint)
        : `sha256 ${actual.slice(0, 12)}… ≠ stored ${row.sha256.slice(0, 12)}…`;
    if (reason === null) return { checkpoint, discarded };
    await discardCheckpoint(db, trialId, row.epoch, row.sha256);
    discarded.push({ epoch: row.epoch, reason });
  }
}
