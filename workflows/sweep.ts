import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  NON_RETRYABLE_TRIAL_ERRORS,
  type OrchestrationActivities,
  type SweepFinalStatus,
  type TrainingActivities,
  type TrialRun,
} from '../contract/activities.ts';
import {
  pauseSignal,
  progressQuery,
  type RunCounts,
  type SweepResult,
  type SweepWorkflowInput,
  setMaxParallelSignal,
  unpauseSignal,
} from '../contract/sweep-workflow.ts';

const PAGE_SIZE = 100;

/**
 * Workflows started before this patch ignored pause/unpause in the database (Sweep.status stayed `running`); their
 * histories have no activity there, so the recording is behind a patch marker written at the first pause or unpause.
 */
export const RECORD_PAUSE_PATCH = 'record-pause-status';

const orchestration = proxyActivities<OrchestrationActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/**
 * One workflow per sweep. It plans through an activity (trials are rows in PostgreSQL, not workflow state), then
 * walks the runnable trials in id order with at most `maxParallel` training activities in flight, and continues as
 * new with a cursor when the server suggests it. Trials are identified by their database id, which derives from the
 * trial's config hash, so a trial can never be launched twice by one sweep.
 */
export async function sweepWorkflow(input: SweepWorkflowInput): Promise<SweepResult> {
  const training = proxyActivities<TrainingActivities>({
    taskQueue: input.taskQueue,
    startToCloseTimeout: input.attemptTimeout ?? '48 hours',
    heartbeatTimeout: input.heartbeatTimeout ?? '2 minutes',
    // The trainer process must be gone before the workflow reports the sweep cancelled.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '5 seconds',
      backoffCoefficient: 2,
      maximumInterval: '5 minutes',
      maximumAttempts: input.maxAttempts ?? 5,
      nonRetryableErrorTypes: [...NON_RETRYABLE_TRIAL_ERRORS],
    },
  });

  let maxParallel = Math.max(1, input.maxParallel);
  let paused = input.carry?.paused ?? false;
  let cursor = input.carry?.cursor ?? null;
  const counts: RunCounts = input.carry?.counts ?? { planned: 0, launched: 0, succeeded: 0, failed: 0, cancelled: 0 };
  let search = input.carry?.search;
  let searchStage: string | undefined;
  // Runs known so far: those launched before the current step and the current step's.
  let searchRuns = 0;
  const continuedAsNew = input.carry?.continuedAsNew ?? 0;
  let running = 0;
  // A continued run carries its counts, planned included; only a first run plans.
  let planning = !input.carry;

  setHandler(progressQuery, () => ({
    ...counts,
    planning,
    running,
    paused,
    maxParallel,
    continuedAsNew,
    ...(searchStage === undefined ? {} : { searchStage, searchRuns }),
  }));
  setHandler(pauseSignal, () => {
    paused = true;
  });
  setHandler(unpauseSignal, () => {
    paused = false;
  });
  setHandler(setMaxParallelSignal, (n: number) => {
    if (Number.isInteger(n) && n >= 1) maxParallel = n;
  });

  const launch = (trialId: string, run?: Omit<TrialRun, 'trialId'>): void => {
    running += 1;
    counts.launched += 1;
    // A grid trial's call keeps its one argument, as in the histories recorded before searches existed.
    (run ? training.trainTrial(trialId, run) : training.trainTrial(trialId))
      .then((summary) => {
        if (summary.status === 'succeeded') counts.succeeded += 1;
        else if (summary.status === 'stopped') counts.stopped = (counts.stopped ?? 0) + 1;
        else if (summary.status === 'cancelled') counts.cancelled += 1;
        else counts.failed += 1;
      })
      .catch(async (err: unknown) => {
        const cancelled = isCancellation(err);
        if (cancelled) counts.cancelled += 1;
        else counts.failed += 1;
        // The activity could not record its own end (it was cancelled, timed out or gave up): record it here.
        await CancellationScope.nonCancellable(() =>
          orchestration.recordTrialFailure(trialId, failureMessage(err), cancelled),
        );
      })
      .finally(() => {
        running -= 1;
      });
  };

  // What Sweep.status says about pausing; the recorder follows `paused` with it, one write at a time so that a quick
  // pause-unpause cannot land out of order, and stops before the sweep's final status is written.
  let recordedPaused = paused;
  let stopRecording = false;
  const recordPauses = async (): Promise<void> => {
    for (;;) {
      await condition(() => stopRecording || paused !== recordedPaused);
      if (stopRecording || !patched(RECORD_PAUSE_PATCH)) return;
      recordedPaused = paused;
      await orchestration.markSweepStatus(input.sweepId, recordedPaused ? 'paused' : 'running');
    }
  };
  let recorder: Promise<void> = Promise.resolve();
  const stopRecorder = async (): Promise<void> => {
    stopRecording = true;
    await recorder;
  };

  /**
   * A search: ask the database what to train, train it, ask again. Each step's runs are launched within the same
   * limits as a grid's trials; the next step waits for all of them, since its decisions read their results. Returns
   * true when the server suggested continue-as-new (the next run asks again and resumes where this one stopped).
   */
  const runSearch = async (): Promise<boolean> => {
    let previous = '';
    for (;;) {
      const step = await orchestration.nextSearchStep(input.sweepId);
      searchStage = step.stage;
      searchRuns = counts.launched + step.runs.length;
      if (step.runs.length === 0) return false;
      // Every run ends with a validation row or a closed trial, so the same step twice means a defect, not a retry.
      const signature = JSON.stringify(step.runs);
      if (signature === previous) {
        throw ApplicationFailure.nonRetryable(`search made no progress at ${step.stage}`, 'SearchStalled');
      }
      previous = signature;
      for (const { trialId, ...run } of step.runs) {
        await condition(() => !paused && running < maxParallel);
        if (workflowInfo().continueAsNewSuggested) return true;
        launch(trialId, run);
      }
      await condition(() => running === 0);
    }
  };

  try {
    if (!input.carry) {
      const plan = await orchestration.planSweep(input.sweepId);
      search = plan.search;
      counts.planned = plan.runnable;
      planning = false;
      recordedPaused = paused;
      await orchestration.markSweepStatus(input.sweepId, paused ? 'paused' : 'running');
    }
    // Not cancellable: a cancelled sweep still writes its final status after the recorder's last write.
    recorder = CancellationScope.nonCancellable(recordPauses);

    let suggested = false;
    if (search) suggested = await runSearch();
    else
      pages: for (;;) {
        const page = await orchestration.listRunnableTrials(input.sweepId, cursor, PAGE_SIZE);
        if (page.length === 0) break;
        for (const { trialId } of page) {
          await condition(() => !paused && running < maxParallel);
          if (workflowInfo().continueAsNewSuggested) {
            suggested = true;
            break pages;
          }
          cursor = trialId;
          launch(trialId);
        }
      }

    // Drain: continue-as-new would cancel the running activities, and the sweep ends only when they have.
    await condition(() => running === 0);

    await stopRecorder();
    if (suggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof sweepWorkflow>({
        ...input,
        maxParallel,
        carry: { ...(search ? { search } : {}), cursor, paused, counts, continuedAsNew: continuedAsNew + 1 },
      });
    }

    const status: SweepFinalStatus = counts.failed > 0 ? 'failed' : 'succeeded';
    const sweepCounts = await orchestration.finishSweep(input.sweepId, status);
    return { status, counts: sweepCounts, run: counts, continuedAsNew };
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cancelled: running trials received the cancellation through their heartbeats; wait for them to stop.
    await CancellationScope.nonCancellable(async () => {
      await condition(() => running === 0);
      await stopRecorder();
      await orchestration.finishSweep(input.sweepId, 'cancelled');
    });
    throw err;
  }
}

function failureMessage(err: unknown): string {
  let cause: unknown = err;
  while (cause instanceof ActivityFailure && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure && cause.type) return `${cause.type}: ${cause.message}`;
  return cause instanceof Error ? cause.message : String(cause);
}
