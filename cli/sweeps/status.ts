import type { Database } from '../../db/client.ts';
import { requeueUnfinishedTrials } from '../../db/repositories.ts';
import { stillRunning } from './control.ts';
import type { Stack } from './stack.ts';
import { workflowIdFor } from './workflow-id.ts';

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

/** Sweeps with their trial counts by status, newest first. */
export async function sweepStatus(db: Database, ids?: string[]): Promise<SweepStatusRow[]> {
  const sweeps = await db.prisma.sweep.findMany({
    ...(ids ? { where: { id: { in: ids } } } : {}),
    orderBy: { createdAt: 'desc' },
  });
  const groups = await db.prisma.trial.groupBy({
    by: ['sweepId', 'status'],
    where: { sweepId: { in: sweeps.map((s) => s.id) } },
    _count: { _all: true },
  });
  const failures = await db.prisma.trial.groupBy({
    by: ['sweepId', 'error'],
    where: { sweepId: { in: sweeps.map((s) => s.id) }, status: 'failed' },
    _count: { _all: true },
    orderBy: { _count: { id: 'desc' } },
  });
  return sweeps.map((sweep) => {
    const trials: Record<string, number> = {};
    for (const g of groups) if (g.sweepId === sweep.id) trials[g.status] = g._count._all;
    const spec = sweep.spec as { resources?: { taskQueue?: string } } | null;
    return {
      id: sweep.id,
      name: sweep.name,
      status: sweep.status,
      maxParallel: sweep.maxParallel,
      taskQueue: spec?.resources?.taskQueue ?? 'gpu',
      total: Object.values(trials).reduce((a, b) => a + b, 0),
      trials,
      failures: failures
        .filter((f) => f.sweepId === sweep.id)
        .slice(0, 3)
        .map((f) => ({ error: f.error ?? 'no message', count: f._count._all })),
    };
  });
}

/**
 * Makes a sweep's unfinished trials runnable again: failed and cancelled ones, and "running" ones left behind by a
 * sweep whose workflow is no longer running (a crash or a terminated workflow). Refuses while the workflow runs.
 */
export async function resetForResume(stack: Stack, sweepId: string, name = sweepId): Promise<number> {
  const handle = stack.client.workflow.getHandle(workflowIdFor(sweepId));
  const running = await handle
    .describe()
    .then((d) => d.status.name === 'RUNNING')
    .catch(() => false);
  if (running) throw stillRunning(name);
  return requeueUnfinishedTrials(stack.db.pool, sweepId);
}
