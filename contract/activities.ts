/**
 * What the sweep workflow may call: types and plain constants only, because the workflow bundle imports this file and
 * must stay free of Node, database and TF.js code. Every payload is small (IDs and counts); specs, checkpoints and
 * curves stay in PostgreSQL.
 */

export interface PlanSummary {
  total: number;
  /** Trials that still need training (pending, or failed and being resumed). */
  runnable: number;
  /** Linked to an identical succeeded trial of another sweep instead of retraining. */
  reused: number;
  /** Already succeeded in this sweep (a relaunch of the same file). */
  done: number;
}

export interface RunnableTrial {
  trialId: string;
}

export type TrialFinalStatus = 'succeeded' | 'failed' | 'cancelled';

export interface TrialSummary {
  trialId: string;
  status: TrialFinalStatus;
  /** Top-1 on the source dataset, when it succeeded. */
  top1?: number;
}

export interface SweepCounts {
  total: number;
  succeeded: number;
  failed: number;
  reused: number;
  cancelled: number;
}

export type SweepFinalStatus = 'succeeded' | 'failed' | 'cancelled';

/** Light activities on the orchestrator's queue: database work only. */
export interface OrchestrationActivities {
  planSweep(sweepId: string): Promise<PlanSummary>;
  /** Runnable trials of the sweep whose id sorts after `afterTrialId`, in id order. */
  listRunnableTrials(sweepId: string, afterTrialId: string | null, limit: number): Promise<RunnableTrial[]>;
  /** Marks a trial failed when its activity gave up (retries exhausted, non-retryable, timed out). */
  recordTrialFailure(trialId: string, message: string, cancelled: boolean): Promise<void>;
  markSweepStatus(sweepId: string, status: 'running' | 'paused'): Promise<void>;
  finishSweep(sweepId: string, status: SweepFinalStatus): Promise<SweepCounts>;
}

/** The heavy activity, on a GPU queue: trains one trial in a forked trainer process. */
export interface TrainingActivities {
  trainTrial(trialId: string): Promise<TrialSummary>;
}

/**
 * Error types that retrying cannot help, given to the training activities' retry policy: bad input, and a trial
 * planned with other code than the worker's (workers of mixed checkouts are an operator's mistake to fix, not to
 * retry around; `resume` runs the trial again once they agree).
 */
export const NON_RETRYABLE_TRIAL_ERRORS = ['InvalidTrialConfig', 'InvalidTrialData', 'CodeVersionMismatch'] as const;
