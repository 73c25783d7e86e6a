import { DEFAULT_GPU_QUEUE } from '../../contract/queues.ts';
import type { Database } from '../../db/client.ts';

export interface SweepStatusRow {
  id: string;
  name: string;
  status: string;
  maxParallel: number;
  taskQueue: string;
  total: number;
  trials: Record<string, number>;
  /** The most frequent failure messages of its failed trials, so a broken dataset path is seen at once. */
  failures: Array<{ error: string; count: number }>;
}

/**
 * Sweeps with their trial counts by status, newest first. Plain SQL on the pool rather than the Prisma client: its
 * query compiler costs ~0.35 s to load and compile on first use, most of `dpt-sweep list`'s start-up.
 */
export async function sweepStatus(db: Database, ids?: string[]): Promise<SweepStatusRow[]> {
  const { rows: sweeps } = await db.pool.query<{
    id: string;
    name: string;
    status: string;
    maxParallel: number;
    taskQueue: string | null;
  }>(
    `SELECT id, name, status::text AS status, "maxParallel", spec #>> '{resources,taskQueue}' AS "taskQueue"
       FROM "Sweep" WHERE $1::text[] IS NULL OR id = ANY($1::text[])
      ORDER BY "createdAt" DESC, id`,
    [ids ?? null],
  );
  const sweepIds = sweeps.map((sweep) => sweep.id);
  const { rows: groups } = await db.pool.query<{ sweepId: string; status: string; n: number }>(
    `SELECT "sweepId", status::text AS status, count(*)::int AS n FROM "Trial"
      WHERE "sweepId" = ANY($1::text[]) GROUP BY "sweepId", status`,
    [sweepIds],
  );
  const { rows: failures } = await db.pool.query<{ sweepId: string; error: string | null; n: number }>(
    `SELECT "sweepId", error, count(*)::int AS n FROM "Trial"
      WHERE "sweepId" = ANY($1::text[]) AND status = 'failed'
      GROUP BY "sweepId", error ORDER BY n DESC, error`,
    [sweepIds],
  );
  return sweeps.map((sweep) => {
    const trials: Record<string, number> = {};
    for (const g of groups) if (g.sweepId === sweep.id) trials[g.status] = g.n;
    return {
      id: sweep.id,
      name: sweep.name,
      status: sweep.status,
      maxParallel: sweep.maxParallel,
      taskQueue: sweep.taskQueue ?? DEFAULT_GPU_QUEUE,
      total: Object.values(trials).reduce((a, b) => a + b, 0),
      trials,
      failures: failures
        .filter((f) => f.sweepId === sweep.id)
        .slice(0, 3)
        .map((f) => ({ error: f.error ?? 'no message', count: f.n })),
    };
  });
}
