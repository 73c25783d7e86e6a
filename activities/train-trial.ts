import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { TrainingActivities, TrialRun, TrialSummary } from '../contract/activities.ts';
import type { Database } from '../db/client.ts';
import {
  beginAttempt,
  closeTrial,
  discardCheckpoint,
  finishAttempt,
  noteAttempt,
  saveCheckpoint,
  transitionTrial,
  upsertEpochMetrics,
  upsertResults,
} from '../db/repositories.ts';
import { upsertValidation } from '../db/search.ts';
import type { TrainerExit, TrainerPool } from '../trainer-host/pool.ts';
import type { ChildMessage, EvalReport, FailureKind, Provenance, ValidationReport } from '../trainer-host/protocol.ts';
import { unrecordedEnd } from './database-loss.ts';
import { checkpointToResume, refusedCheckpointNote } from './resume-checkpoint.ts';
import { stallMessage, stallWatch } from './stall-watch.ts';
import { describeTrainerExit } from './trainer-exit.ts';

export interface TrainingActivityOptions {
  workerId: string;
  /**
   * The code version this worker trains with (worker/code-version.ts), compared with the one each trial was planned
   * with: a trial planned with other code is refused, never trained.
   */
  codeVersion: string;
  /** Trainer processes, one per slot (each pinned to its GPU). */
  trainers: TrainerPool;
  /** Checkpoint every N epochs (1 = every epoch). */
  checkpointEvery: number;
  /**
   * How often a live trainer's progress is re-sent as a heartbeat between its own messages. Cancellation reaches the
   * activity only in heartbeat responses, so this bounds how late a cancel is seen.
   */
  heartbeatEveryMs: number;
}

/** Stall limit of an attempt without a heartbeat timeout (the workflow always sets one). */
const DEFAULT_STALL_LIMIT_MS = 120_000;

/**
 * trainTrial: one attempt at one trial. The training itself runs in a forked trainer process; this activity, on the
 * worker's event loop, heartbeats while the trainer reports progress (that is also how cancellation reaches it) and
 * kills a trainer that stops reporting for the heartbeat timeout, writes epoch metrics,
 * checkpoints and results as idempotent upserts, and records the attempt. An attempt resumes from the newest stored
 * checkpoint, so a trial whose worker died continues where the last checkpoint left it. On success the trial row gets
 * what reproduces its result: the backend, the sha256 of the CLIP weights and the hash of the few-shot picks.
 */
export function createTrainingActivities(db: Database, options: TrainingActivityOptions): TrainingActivities {
  const { prisma } = db;
  const once = {
    async trainTrial(trialId: string, opened: OpenedAttempt, run: SearchRun): Promise<TrialSummary> {
      const ctx = Context.current();
      const trial = await prisma.trial.findUnique({ where: { id: trialId } });
      if (!trial) throw ApplicationFailure.nonRetryable(`trial ${trialId} does not exist`, 'InvalidTrialConfig');
      if (trial.status === 'succeeded' || trial.status === 'reused') {
        return { trialId, status: 'succeeded', ...(await sourceTop1(db, trialId, trial.dataset)) };
      }
      // A re-delivered rung run whose trial already stopped there: its validation is stored, nothing to train.
      if (trial.status === 'stopped' && run.stopAfter !== undefined) {
        const stored = await prisma.trialValidation.findUnique({
          where: { trialId_epochs: { trialId, epochs: run.stopAfter } },
        });
        if (stored) return { trialId, status: 'stopped' };
      }

      const attempt = await beginAttempt(db.pool, trialId, options.workerId);
      opened.attempt = attempt;
      // The code version is part of the trial's identity (configKey) and is stamped on its row at planning; a result
      // trained by other code would carry a version that did not produce it. Rows planned before versions were
      // recorded (null) are trained by whichever code runs them.
      if (trial.codeVersion !== null && trial.codeVersion !== options.codeVersion) {
        const message = codeVersionMismatch(trial.codeVersion, options.codeVersion);
        await finishAttempt(db.pool, trialId, attempt, 'failed', new Date(), message);
        await closeTrial(db.pool, trialId, 'failed', message);
        throw ApplicationFailure.nonRetryable(message, 'CodeVersionMismatch');
      }
      await transitionTrial(db.pool, trialId, 'running', { workerId: options.workerId });
      // An unusable checkpoint is deleted and the attempt trains without it (activities/resume-checkpoint.ts).
      const { checkpoint, note } = await checkpointToResume(db.pool, trialId, trial.config);
      if (note !== null) await noteAttempt(db.pool, trialId, attempt, note);
      let progress: Record<string, unknown> = { epoch: checkpoint?.epoch ?? 0, loss: Number.NaN };
      ctx.heartbeat(progress);
      // Heartbeats follow the trainer's own progress messages; between them a tick re-sends the latest progress, at
      // least three times per heartbeat timeout, so cancellation (delivered in heartbeat responses) is seen soon. The
      // tick beats only while the trainer is fresh: a trainer silent for the stall limit (the heartbeat timeout) is
      // hung, and is killed so that its trial is retried rather than held for the start-to-close timeout.
      const timeoutMs = ctx.info.heartbeatTimeoutMs || undefined;
      const stallLimitMs = timeoutMs ?? DEFAULT_STALL_LIMIT_MS;
      const every = Math.max(100, Math.min(options.heartbeatEveryMs, Math.floor(stallLimitMs / 3)));
      const watch = stallWatch(stallLimitMs);
      const stall = new AbortController();
      const heartbeat = setInterval(() => {
        if (watch.fresh()) ctx.heartbeat(progress);
        else if (!stall.signal.aborted) stall.abort(new Error(stallMessage(watch.silentSeconds())));
      }, every);

      let done:
        | ({ results: EvalReport[]; backend: string; validation?: ValidationReport; stoppedAt?: number } & Provenance)
        | undefined;
      let failure: { kind: FailureKind; message: string } | undefined;
      const onMessage = async (message: ChildMessage): Promise<void> => {
        switch (message.type) {
          case 'progress':
            progress = { ...progress, ...message.report };
            ctx.heartbeat(progress);
            return;
          case 'epoch':
            progress = { epoch: message.report.epoch + 1, loss: message.report.loss };
            await upsertEpochMetrics(db.pool, [{ trialId, ...message.report }]);
            return;
          case 'checkpoint':
            await saveCheckpoint(db.pool, trialId, message.epoch, message.bytes);
            return;
          case 'done':
            done = {
              results: message.results,
              backend: message.backend,
              ...(message.validation ? { validation: message.validation } : {}),
              ...(message.stoppedAt === undefined ? {} : { stoppedAt: message.stoppedAt }),
              weightsSha256: message.weightsSha256,
              splitHash: message.splitHash,
            };
            return;
          case 'failed':
            failure = { kind: message.kind, message: message.message };
            return;
        }
      };

      let exit: TrainerExit;
      try {
        exit = await options.trainers.run(
          {
            type: 'start',
            config: trial.config,
            checkpointEvery: options.checkpointEvery,
            ...(checkpoint ? { resumeFrom: checkpoint.bytes } : {}),
            ...(run.stopAfter === undefined ? {} : { stopAfter: run.stopAfter }),
            ...(run.validate ? { validate: true } : {}),
          },
          {
            onMessage,
            // On receipt, not after the queued database writes: a slow checkpoint write is not a hung trainer.
            onAlive: (message) => watch.alive(message.type !== 'progress' || message.report.phase !== 'load'),
            signal: AbortSignal.any([ctx.cancellationSignal, stall.signal]),
          },
        );
      } finally {
        clearInterval(heartbeat);
      }

      const endAttempt = (outcome: 'succeeded' | 'failed' | 'cancelled' | 'timed_out', error: string | null = null) =>
        finishAttempt(db.pool, trialId, attempt, outcome, new Date(), error);

      if (ctx.cancellationSignal.aborted && ctx.cancellationDetails?.cancelRequested !== true) {
        // Not a user's cancel: the server gave this attempt up (a missed heartbeat) or the worker is stopping. Another
        // attempt follows, so the trial goes back to the queue instead of ending as cancelled.
        const reason: unknown = ctx.cancellationSignal.reason;
        const why = reason instanceof Error ? reason.message : String(reason ?? 'TIMED_OUT');
        await endAttempt('timed_out', why);
        await transitionTrial(db.pool, trialId, 'queued', {});
        throw new CancelledFailure(why);
      }
      if (ctx.cancellationSignal.aborted) {
        await endAttempt('cancelled', 'cancelled');
        await transitionTrial(db.pool, trialId, 'cancelled', { error: 'cancelled' });
        throw new CancelledFailure('trial cancelled');
      }
      if (stall.signal.aborted && !done) {
        const message = (stall.signal.reason as Error).message;
        await endAttempt('failed', message);
        throw ApplicationFailure.retryable(message, 'TrainerStalled');
      }
      if (done) {
        const provenance = {
          backend: done.backend,
          weightsSha256: done.weightsSha256,
          ...(done.splitHash === null ? {} : { splitHash: done.splitHash }),
        };
        // Validation first: a search reads it, and a trial that ended without it would be asked for it again.
        if (done.validation) await upsertValidation(db.pool, trialId, done.validation);
        if (done.stoppedAt !== undefined) {
          await endAttempt('succeeded');
          await transitionTrial(db.pool, trialId, 'stopped', provenance);
          return { trialId, status: 'stopped' };
        }
        await upsertResults(db.pool, trialId, done.results);
        await endAttempt('succeeded');
        await transitionTrial(db.pool, trialId, 'succeeded', provenance);
        return { trialId, status: 'succeeded', ...(await sourceTop1(db, trialId, trial.dataset)) };
      }
      const message = failure?.message ?? describeTrainerExit(exit);
      if (failure?.kind === 'checkpoint' && checkpoint) {
        // The trainer refused the checkpoint while restoring it into the model: drop it, so the retry starts without.
        await discardCheckpoint(db.pool, trialId, checkpoint.epoch, checkpoint.sha256);
        await endAttempt('failed', refusedCheckpointNote(checkpoint.epoch, message));
        throw ApplicationFailure.retryable(message, 'CheckpointDiscarded');
      }
      await endAttempt('failed', message);
      if (failure && failure.kind !== 'infrastructure') {
        await transitionTrial(db.pool, trialId, 'failed', { error: message });
        throw ApplicationFailure.nonRetryable(
          message,
          failure.kind === 'config' ? 'InvalidTrialConfig' : 'InvalidTrialData',
        );
      }
      throw ApplicationFailure.retryable(message, 'TrainerFailed');
    },
  };
  return {
    async trainTrial(trialId, run): Promise<TrialSummary> {
      const opened: OpenedAttempt = {};
      try {
        return await once.trainTrial(trialId, opened, run ?? { validate: false });
      } catch (err) {
        // Every path above that ends an attempt records it first; this closes one left open by anything else that
        // threw (a database write, the trainer pool), so no attempt stays 'running' after its activity ended.
        // If the database is what failed, the next attempt's beginAttempt closes this one as timed out instead.
        const end = unrecordedEnd(err);
        if (opened.attempt !== undefined) {
          await finishAttempt(db.pool, trialId, opened.attempt, unrecordedOutcome(), new Date(), end.message).catch(
            () => undefined,
          );
        }
        throw end.error;
      }
    },
  };
}

/** What a search asks of this run (contract/activities.ts `TrialRun`); a grid trial's is `{ validate: false }`. */
type SearchRun = Omit<TrialRun, 'trialId'>;

/** The attempt this activity call opened, once it has. */
interface OpenedAttempt {
  attempt?: number;
}

/** How an attempt that threw without recording its end ended: abandoned or cancelled if it was, else failed. */
function unrecordedOutcome(): 'failed' | 'cancelled' | 'timed_out' {
  const ctx = Context.current();
  if (!ctx.cancellationSignal.aborted) return 'failed';
  return ctx.cancellationDetails?.cancelRequested === true ? 'cancelled' : 'timed_out';
}

async function sourceTop1(db: Database, trialId: string, dataset: string): Promise<{ top1?: number }> {
  // Its own classes: all of them, or the base half under base-to-novel (whose novel half is a row of its own).
  const row = await db.prisma.trialResult.findFirst({
    where: { trialId, evalDataset: dataset, split: 'test', classSubset: { in: ['all', 'base'] } },
  });
  return row ? { top1: row.top1 } : {};
}

/** One line naming both versions and the two ways out. */
export function codeVersionMismatch(planned: string, worker: string): string {
  return (
    `trial was planned with code ${planned} but this worker runs ${worker}; run workers from the same checkout as ` +
    'the launch, or relaunch the sweep to plan it with this code'
  );
}
