import type { Database } from '../../../../db/client.ts';

/** What a finished sweep left in the database for one trial, keyed by identity so that two sweeps compare. */
export interface TrialOutcome {
  trialId: string;
  status: string;
  attempts: number;
  attemptRows: number;
  openAttempts: number;
  /** Attempts that trained the trial to its end; more than one means the trial was trained twice. */
  succeededAttempts: number;
  /** Outcome of each attempt, in attempt order. */
  attemptOutcomes: string[];
  checkpoints: number;
  /** `evalDataset/split correct/total` per result row, sorted. */
  accuracies: string[];
  /** Loss per epoch, in epoch order. */
  losses: number[];
  epochs: number[];
}

export async function outcomesByConfigKey(db: Database, sweepId: string): Promise<Map<string, TrialOutcome>> {
  const trials = await db.prisma.trial.findMany({
    where: { sweepId },
    include: {
      results: true,
      epochMetrics: { orderBy: { epoch: 'asc' } },
      attemptsLog: { orderBy: { attempt: 'asc' } },
      _count: { select: { checkpoints: true } },
    },
  });
  return new Map(
    trials.map((t) => [
      t.configKey,
      {
        trialId: t.id,
        status: t.status,
        attempts: t.attempts,
        attemptRows: t.attemptsLog.length,
        openAttempts: t.attemptsLog.filter((a) => a.outcome === 'running').length,
        succeededAttempts: t.attemptsLog.filter((a) => a.outcome === 'succeeded').length,
        checkpoints: t._count.checkpoints,
        attemptOutcomes: t.attemptsLog.map((a) => a.outcome),
        accuracies: t.results.map((r) => `${r.evalDataset}/${r.split} ${r.correct}/${r.total}`).sort(),
        losses: t.epochMetrics.map((m) => m.loss),
        epochs: t.epochMetrics.map((m) => m.epoch),
      },
    ]),
  );
}

/** Bit-identical: the same accuracies and every loss the same double (Object.is, so -0 and NaN count too). */
export function sameOutcome(a: TrialOutcome, b: TrialOutcome): boolean {
  return (
    a.accuracies.join('|') === b.accuracies.join('|') &&
    a.losses.length === b.losses.length &&
    a.losses.every((loss, i) => Object.is(loss, b.losses[i]))
  );
}
