import type { Queryable } from './migrate.ts';

/**
 * Opens the next attempt of a trial and returns its number (1, 2, …) across every activity that ever ran the trial,
 * including those of earlier workflow runs (a resumed sweep continues the count). Temporal runs at most one attempt
 * of a trial at a time, so an attempt still marked running belongs to a worker that died: it is closed as timed out.
 */
export async function beginAttempt(db: Queryable, trialId: string, workerId: string | null): Promise<number> {
  const { rows } = await db.query<{ attempt: number }>(
    `WITH stale AS (
       UPDATE "TrialAttempt" SET outcome = 'timed_out', "endedAt" = now(),
              error = COALESCE(error, 'worker stopped answering (no end reported)')
        WHERE "trialId" = $1 AND outcome = 'running'
        RETURNING attempt)
     INSERT INTO "TrialAttempt" ("trialId", attempt, "workerId", "startedAt")
     SELECT $1, COALESCE((SELECT max(attempt) FROM "TrialAttempt" WHERE "trialId" = $1), 0) + 1, $2, now()
     RETURNING attempt`,
    [trialId, workerId],
  );
  return rows[0]!.attempt;
}
