import { createHash } from 'node:crypto';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Database } from '../db/client.ts';
import type { ChildMessage, EpochReport, EvalReport, FailureKind } from '../worker/trainer-protocol.ts';
import type { TrainingActivities, TrialSummary } from './contracts.ts';
import { runTrainerChild } from './trainer-child.ts';

export interface TrainingActivityOptions {
  workerId: string;
  /** Gives each running trainer its own CUDA_VISIBLE_DEVICES; absent on machines without GPUs. */
  gpus?: { acquire(): string | undefined; release(device: string | undefined): void };
  /** Checkpoint every N epochs (1 = every epoch). */
  checkpointEvery: number;
  heartbeatEveryMs: number;
}

/**
 * trainTrial: one attempt at one trial. The training itself runs in a forked trainer process; this activity, on the
 * worker's event loop, heartbeats from a timer (that is also how cancellation reaches it), writes epoch metrics,
 * checkpoints and results as idempotent upserts, and records the attempt. An attempt resumes from the newest stored
 * checkpoint, so a trial whose worker died continues where the last checkpoint left it.
 */
export function createTrainingActivities(db: Database, options: TrainingActivityOptions): TrainingActivities {
  const { prisma } = db;
  return {
    async trainTrial(trialId): Promise<TrialSummary> {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const trial = await prisma.trial.findUnique({ where: { id: trialId } });
      if (!trial) throw ApplicationFailure.nonRetryable(`trial ${trialId} does not exist`, 'InvalidTrialConfig');
      if (trial.status === 'succeeded' || trial.status === 'reused') {
        return { trialId, status: 'succeeded', ...(await sourceTop1(db, trialId, trial.dataset)) };
      }

      const startedAt = new Date();
      await prisma.trialAttempt.upsert({
        where: { trialId_attempt: { trialId, attempt } },
        create: { trialId, attempt, workerId: options.workerId, startedAt },
        update: { workerId: options.workerId, startedAt, endedAt: null, outcome: 'running', error: null },
      });
      await prisma.trial.update({
        where: { id: trialId },
        data: {
          status: 'running',
          attempts: attempt,
          workerId: options.workerId,
          startedAt: trial.startedAt ?? startedAt,
          error: null,
        },
      });

      const checkpoint = await prisma.checkpoint.findFirst({ where: { trialId }, orderBy: { epoch: 'desc' } });
      if (checkpoint && sha256(checkpoint.bytes) !== checkpoint.sha256) {
        throw ApplicationFailure.retryable(`checkpoint of ${trialId} at epoch ${checkpoint.epoch} is corrupt`);
      }
      let progress = { epoch: checkpoint?.epoch ?? 0, loss: Number.NaN };
      ctx.heartbeat(progress);
      const heartbeat = setInterval(() => ctx.heartbeat(progress), options.heartbeatEveryMs);

      let done: { results: EvalReport[]; backend: string } | undefined;
      let failure: { kind: FailureKind; message: string } | undefined;
      const onMessage = async (message: ChildMessage): Promise<void> => {
        switch (message.type) {
          case 'epoch':
            progress = { epoch: message.report.epoch + 1, loss: message.report.loss };
            await writeEpoch(db, trialId, message.report);
            return;
          case 'checkpoint':
            await writeCheckpoint(db, trialId, message.epoch, message.bytes);
            return;
          case 'done':
            done = { results: message.results, backend: message.backend };
            return;
          case 'failed':
            failure = { kind: message.kind, message: message.message };
            return;
        }
      };

      let exit: Awaited<ReturnType<typeof runTrainerChild>>;
      const gpu = options.gpus?.acquire();
      try {
        exit = await runTrainerChild(
          {
            type: 'start',
            config: trial.config,
            checkpointEvery: options.checkpointEvery,
            ...(checkpoint ? { resumeFrom: new Uint8Array(checkpoint.bytes) } : {}),
          },
          { ...(gpu === undefined ? {} : { gpu }), onMessage, signal: ctx.cancellationSignal },
        );
      } finally {
        clearInterval(heartbeat);
        options.gpus?.release(gpu);
      }

      const endedAt = new Date();
      const endAttempt = (outcome: 'succeeded' | 'failed' | 'cancelled', error?: string) =>
        prisma.trialAttempt.update({
          where: { trialId_attempt: { trialId, attempt } },
          data: { outcome, endedAt, error: error ?? null, backend: done?.backend ?? null },
        });

      if (ctx.cancellationSignal.aborted) {
        await endAttempt('cancelled', 'cancelled');
        await prisma.trial.updateMany({
          where: { id: trialId, status: 'running' },
          data: { status: 'cancelled', finishedAt: endedAt },
        });
        throw new CancelledFailure('trial cancelled');
      }
      if (done) {
        await writeResults(db, trialId, done.results);
        await endAttempt('succeeded');
        await prisma.trial.update({
          where: { id: trialId },
          data: {
            status: 'succeeded',
            backend: done.backend,
            finishedAt: endedAt,
            durationMs: endedAt.getTime() - (trial.startedAt ?? startedAt).getTime(),
            error: null,
          },
        });
        return { trialId, status: 'succeeded', ...(await sourceTop1(db, trialId, trial.dataset)) };
      }
      const message =
        failure?.message ??
        `trainer process exited (${exit.signal ?? `code ${exit.code}`}) without a result${exit.stderrTail ? `: ${lastLine(exit.stderrTail)}` : ''}`;
      await endAttempt('failed', message);
      if (failure && failure.kind !== 'infrastructure') {
        await prisma.trial.update({
          where: { id: trialId },
          data: { status: 'failed', error: message, finishedAt: endedAt },
        });
        throw ApplicationFailure.nonRetryable(
          message,
          failure.kind === 'config' ? 'InvalidTrialConfig' : 'InvalidTrialData',
        );
      }
      throw ApplicationFailure.retryable(message, 'TrainerFailed');
    },
  };
}

async function writeEpoch(db: Database, trialId: string, r: EpochReport): Promise<void> {
  const data = {
    loss: r.loss,
    lossMain: r.lossMain ?? null,
    lossCavpt: r.lossCavpt ?? null,
    lrText: r.lrText ?? null,
    lrVisual: r.lrVisual ?? null,
    trainAcc: r.trainAcc ?? null,
    seconds: r.seconds ?? null,
  };
  await db.prisma.epochMetric.upsert({
    where: { trialId_epoch: { trialId, epoch: r.epoch } },
    create: { trialId, epoch: r.epoch, ...data },
    update: data,
  });
}

/** Keeps only the newest checkpoint of a trial; the write and the pruning are one transaction. */
async function writeCheckpoint(db: Database, trialId: string, epoch: number, bytes: Uint8Array): Promise<void> {
  const data = { bytes: Buffer.from(bytes), sha256: sha256(bytes), sizeBytes: bytes.byteLength };
  await db.prisma.$transaction([
    db.prisma.checkpoint.upsert({
      where: { trialId_epoch: { trialId, epoch } },
      create: { trialId, epoch, ...data },
      update: data,
    }),
    db.prisma.checkpoint.deleteMany({ where: { trialId, epoch: { lt: epoch } } }),
  ]);
}

async function writeResults(db: Database, trialId: string, results: EvalReport[]): Promise<void> {
  await db.prisma.$transaction(
    results.map((r) => {
      const data = { top1: r.top1, correct: r.correct, total: r.total };
      return db.prisma.trialResult.upsert({
        where: { trialId_evalDataset_split: { trialId, evalDataset: r.evalDataset, split: r.split } },
        create: { trialId, evalDataset: r.evalDataset, split: r.split, ...data },
        update: data,
      });
    }),
  );
}

async function sourceTop1(db: Database, trialId: string, dataset: string): Promise<{ top1?: number }> {
  const row = await db.prisma.trialResult.findFirst({ where: { trialId, evalDataset: dataset, split: 'test' } });
  return row ? { top1: row.top1 } : {};
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
