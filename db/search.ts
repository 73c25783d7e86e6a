import { z } from 'zod';
import type { Queryable } from './migrate.ts';

/**
 * The search's rows (sweep/search/, activities/search-step.ts): validation results per trial and epoch count, the
 * successive-halving decisions, the TPE suggestions. Every write is an idempotent insert, so a re-delivered activity
 * changes nothing and a decision, once written, is never taken again.
 */

const validationSchema = z.object({
  epochs: z.number().int().nonnegative(),
  top1: z.number().min(0).max(100),
  correct: z.number().int().nonnegative(),
  total: z.number().int().positive(),
});
export type ValidationInput = z.input<typeof validationSchema>;

/** Records a trial's validation top-1 after `epochs` epochs (a rerun of the same run writes the same numbers). */
export async function upsertValidation(db: Queryable, trialId: string, input: ValidationInput): Promise<void> {
  const v = validationSchema.parse(input);
  await db.query(
    `INSERT INTO "TrialValidation" ("trialId", epochs, top1, correct, total) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT ("trialId", epochs) DO UPDATE SET top1 = EXCLUDED.top1, correct = EXCLUDED.correct,
                                                   total = EXCLUDED.total`,
    [trialId, v.epochs, v.top1, v.correct, v.total],
  );
}

/** A search trial as the search sees it: its candidate, cell, state and validation results by epoch count. */
export interface SearchTrial {
  id: string;
  candidate: number | null;
  dataset: string;
  shots: number;
  seed: number;
  status: string;
  /** epochs it is configured for (the last rung, or a TPE trial's full run) */
  epochs: number;
  /** epoch count → validation top-1 */
  validation: Map<number, number>;
}

export async function searchTrials(db: Queryable, sweepId: string): Promise<SearchTrial[]> {
  const { rows } = await db.query<{
    id: string;
    searchCandidate: number | null;
    dataset: string;
    shots: number;
    seed: number;
    status: string;
    epochs: number | null;
    validation: Array<{ epochs: number; top1: number }> | null;
  }>(
    `SELECT t.id, t."searchCandidate", t.dataset, t.shots, t.seed, t.status::text AS status,
            (t.config->'optim'->>'epochs')::int AS epochs,
            (SELECT json_agg(json_build_object('epochs', v.epochs, 'top1', v.top1))
               FROM "TrialValidation" v WHERE v."trialId" = t.id) AS validation
       FROM "Trial" t WHERE t."sweepId" = $1 ORDER BY t.id`,
    [sweepId],
  );
  return rows.map((row) => ({
    id: row.id,
    candidate: row.searchCandidate,
    dataset: row.dataset,
    shots: row.shots,
    seed: row.seed,
    status: row.status,
    epochs: row.epochs ?? 0,
    validation: new Map((row.validation ?? []).map((v) => [v.epochs, v.top1])),
  }));
}

export interface RungDecision {
  rung: number;
  candidate: number;
  epochs: number;
  objective: number | null;
  promoted: boolean;
}

export async function readRungDecisions(db: Queryable, sweepId: string): Promise<RungDecision[]> {
  const { rows } = await db.query<RungDecision>(
    `SELECT rung, candidate, epochs, objective, promoted FROM "SearchRung" WHERE "sweepId" = $1
      ORDER BY rung, candidate`,
    [sweepId],
  );
  return rows;
}

/** Writes one rung's decisions in one statement; a rung already decided keeps its first decision. */
export async function writeRungDecisions(db: Queryable, sweepId: string, decisions: RungDecision[]): Promise<void> {
  if (decisions.length === 0) return;
  await db.query(
    `INSERT INTO "SearchRung" ("sweepId", rung, candidate, epochs, objective, promoted)
     SELECT $1, * FROM unnest($2::int[], $3::int[], $4::int[], $5::float8[], $6::bool[])
     ON CONFLICT ("sweepId", rung, candidate) DO NOTHING`,
    [
      sweepId,
      decisions.map((d) => d.rung),
      decisions.map((d) => d.candidate),
      decisions.map((d) => d.epochs),
      decisions.map((d) => d.objective),
      decisions.map((d) => d.promoted),
    ],
  );
}

export interface StoredSuggestion {
  index: number;
  params: Record<string, string | number>;
  trialIds: string[];
}

export async function readSuggestions(db: Queryable, sweepId: string): Promise<StoredSuggestion[]> {
  const { rows } = await db.query<StoredSuggestion>(
    `SELECT index, params, "trialIds" FROM "SearchSuggestion" WHERE "sweepId" = $1 ORDER BY index`,
    [sweepId],
  );
  return rows;
}

/** Records a suggestion; one already recorded under that index is kept (suggestions are deterministic). */
export async function insertSuggestion(db: Queryable, sweepId: string, suggestion: StoredSuggestion): Promise<void> {
  await db.query(
    `INSERT INTO "SearchSuggestion" ("sweepId", index, params, "trialIds") VALUES ($1, $2, $3, $4)
     ON CONFLICT ("sweepId", index) DO NOTHING`,
    [sweepId, suggestion.index, JSON.stringify(suggestion.params), suggestion.trialIds],
  );
}
