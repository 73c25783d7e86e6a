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
  /**
   * Set when the sweep is a search (sweep/search/): the workflow then asks `nextSearchStep` what to train instead of
   * listing runnable trials. Absent from plans recorded before searches existed.
   */
  search?: 'successive-halving' | 'tpe';
}

/** One training run a search asks for: a trial trained to `stopAfter` epochs (or to its end), then validated. */
export interface TrialRun {
  trialId: string;
  /** a successive-halving rung; absent: train to the configured epochs */
  stopAfter?: number;
  /** evaluate the few-shot validation split where training ends */
  validate: boolean;
}

/**
 * What a search trains next, decided in an activity from the results in PostgreSQL, so the workflow holds no search
 * state: a replayed, resumed or continued-as-new workflow asks again and gets the same answer. Empty: the search is
 * over.
 */
export interface SearchStep {
  runs: TrialRun[];
  /** e.g. `rung 2 of 3 (9 epochs)` or `suggestions 8-11 of 16`, for the progress query */
  stage: string;
}

export interface RunnableTrial {
  trialId: string;
}

/** `stopped`: halted at a successive-halving rung, validated, test split unread. */
export type TrialFinalStatus = 'succeeded' | 'failed' | 'cancelled' | 'stopped';

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
  /** trials a search stopped at a rung (absent from results recorded before searches existed) */
  stopped?: number;
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
  /** A search's next runs (after recording the decisions the finished ones allow); none when it is over. */
  nextSearchStep(sweepId: string): Promise<SearchStep>;
}

/** The heavy activity, on a GPU queue: trains one trial in a forked trainer process. */
export interface TrainingActivities {
  /** Without `run`, trains the trial to its end (a grid trial); a search passes its rung and validation. */
  trainTrial(trialId: string, run?: Omit<TrialRun, 'trialId'>): Promise<TrialSummary>;
}

/**
 * Error types that retrying cannot help, given to the training activities' retry policy: bad input, and a trial
 * planned with other code than the worker's (workers of mixed checkouts are an operator's mistake to fix, not to
 * retry around; `resume` runs the trial again once they agree).
 */
export const NON_RETRYABLE_TRIAL_ERRORS = ['InvalidTrialConfig', 'InvalidTrialData', 'CodeVersionMismatch'] as const;
