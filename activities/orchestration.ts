import { z } from 'zod';
import type { OrchestrationActivities, RunnableTrial, SweepCounts } from '../contract/activities.ts';
import type { Database } from '../db/client.ts';
import { closeTrial, linkReusableTrials, setSweepStatus } from '../db/repositories.ts';
import { SEARCH_KINDS } from '../sweep/schema.ts';
import { nextSearchStep } from './search-step.ts';

/**
 * The sweep workflow's database activities. Trial state lives in PostgreSQL; these turn it into the small answers the
 * workflow needs. Every write is conditional on the current status, so a re-delivered activity changes nothing.
 */
export function createOrchestrationActivities(db: Database): OrchestrationActivities {
  const { prisma } = db;
  return {
    async planSweep(sweepId) {
      const sweep = await prisma.sweep.findUnique({ where: { id: sweepId } });
      if (!sweep) throw new Error(`sweep ${sweepId} not found`);
      const search = storedSearch.safeParse(sweep.spec).data?.search?.kind;
      // A search ranks by validation results, which a reused trial (trained to its end elsewhere) does not have.
      if (sweep.reuseResults && !search) await linkReusableTrials(db.pool, sweepId);
      const byStatus = await statusCounts(db, sweepId);
      return {
        total: byStatus.total,
        runnable: (byStatus.pending ?? 0) + (byStatus.queued ?? 0),
        reused: byStatus.reused ?? 0,
        done: byStatus.succeeded ?? 0,
        ...(search ? { search } : {}),
      };
    },

    nextSearchStep: (sweepId) => nextSearchStep(db, sweepId),

    async listRunnableTrials(sweepId, afterTrialId, limit): Promise<RunnableTrial[]> {
      const rows = await prisma.trial.findMany({
        where: {
          sweepId,
          status: { in: ['pending', 'queued'] },
          ...(afterTrialId === null ? {} : { id: { gt: afterTrialId } }),
        },
        orderBy: { id: 'asc' },
        take: limit,
        select: { id: true },
      });
      return rows.map((row) => ({ trialId: row.id }));
    },

    async recordTrialFailure(trialId, message, cancelled) {
      await closeTrial(db.pool, trialId, cancelled ? 'cancelled' : 'failed', message);
    },

    async markSweepStatus(sweepId, status) {
      await setSweepStatus(db.pool, sweepId, status);
    },

    async finishSweep(sweepId, status): Promise<SweepCounts> {
      await setSweepStatus(db.pool, sweepId, status);
      const byStatus = await statusCounts(db, sweepId);
      return {
        total: byStatus.total,
        succeeded: byStatus.succeeded ?? 0,
        failed: byStatus.failed ?? 0,
        reused: byStatus.reused ?? 0,
        cancelled: byStatus.cancelled ?? 0,
        ...(byStatus.stopped ? { stopped: byStatus.stopped } : {}),
      };
    },
  };
}

/** The search kind of a stored spec (validated at launch); tolerant, so rows written by tests or old code still plan. */
const storedSearch = z.object({ search: z.object({ kind: z.enum(SEARCH_KINDS) }).optional() });

type StatusCounts = Partial<Record<string, number>> & { total: number };

async function statusCounts(db: Database, sweepId: string): Promise<StatusCounts> {
  const groups = await db.prisma.trial.groupBy({ by: ['status'], where: { sweepId }, _count: { _all: true } });
  const counts: StatusCounts = { total: 0 };
  for (const g of groups) {
    counts[g.status] = g._count._all;
    counts.total += g._count._all;
  }
  return counts;
}
