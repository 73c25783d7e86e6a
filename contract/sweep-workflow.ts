import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { SweepCounts, SweepFinalStatus } from './activities.ts';

/**
 * The sweep workflow as its clients see it: input, result, progress, and the query and signals it answers. The names
 * given to defineQuery/defineSignal are in recorded histories (test/fixtures/histories) and in running workflows, so
 * they never change. The workflow itself is workflows/sweep.ts; a client names its type with
 * `import type { sweepWorkflow }` from there.
 */

export interface SweepWorkflowInput {
  sweepId: string;
  maxParallel: number;
  /** Task queue of the GPU workers. */
  taskQueue: string;
  /** Heartbeat timeout of a training attempt; a dead worker's trial moves elsewhere after this long. */
  heartbeatTimeout?: string;
  /** Longest single training attempt. */
  attemptTimeout?: string;
  maxAttempts?: number;
  /** Carried across continue-as-new; absent on the first run. */
  carry?: SweepCarry;
}

export interface SweepCarry {
  /** a search continues from the database (`nextSearchStep`), so it carries no cursor */
  search?: 'successive-halving' | 'tpe';
  cursor: string | null;
  paused: boolean;
  counts: RunCounts;
  continuedAsNew: number;
}

export interface RunCounts {
  planned: number;
  launched: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** search runs that ended at a successive-halving rung (absent outside searches) */
  stopped?: number;
}

export interface SweepProgress extends RunCounts {
  /**
   * True until this run's planning is done: until then `planned` is 0, not the trial count, so a progress bar takes
   * its total elsewhere (cli/sweeps/progress.ts). Absent from workflows started by older code.
   */
  planning?: boolean;
  running: number;
  paused: boolean;
  maxParallel: number;
  continuedAsNew: number;
  /** a search's stage (`rung 2 of 3 (9 epochs)`); absent outside searches */
  searchStage?: string;
  /** a search's runs known so far: launched before its current step, and the current step's */
  searchRuns?: number;
}

export interface SweepResult {
  status: SweepFinalStatus;
  counts: SweepCounts;
  run: RunCounts;
  continuedAsNew: number;
}

/** The workflow type the worker registers (the export name in workflows/index.ts). */
export const SWEEP_WORKFLOW_TYPE = 'sweepWorkflow';

export const progressQuery = defineQuery<SweepProgress>('progress');
export const pauseSignal = defineSignal('pause');
export const unpauseSignal = defineSignal('unpause');
export const setMaxParallelSignal = defineSignal<[number]>('setMaxParallel');
