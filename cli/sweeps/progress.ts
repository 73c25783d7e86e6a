import type { SweepProgress } from '../../contract/sweep-workflow.ts';

/**
 * What the `--wait` progress bar shows: trials finished of trials to run, and what is running or failed; for a search,
 * runs finished of runs launched and the search's stage.
 */
export interface ProgressView {
  done: number;
  total: number;
  running: number;
  failed: number;
  /** ` | rung 2 of 3 (9 epochs)` for a search, else empty */
  stage: string;
}

/**
 * The bar's figures from the workflow's progress query. The workflow answers queries before its planning activity
 * has returned, when `planned` is still 0; a bar started then would keep a total of 0 (shown as 1) and end at "48/1".
 * Until planning is done the total is `knownTotal`, the runnable trials the database held when the bar started
 * (the count launch or resume just wrote). The total never falls below what is done, so the bar never overflows.
 */
export function progressView(progress: SweepProgress | undefined, knownTotal: number): ProgressView {
  const done = progress ? progress.succeeded + progress.failed + progress.cancelled + (progress.stopped ?? 0) : 0;
  // A search decides its runs step by step (a trial may run once per rung): its total is the runs known so far.
  if (progress?.searchStage !== undefined) {
    return {
      done,
      total: Math.max(progress.searchRuns ?? progress.launched, progress.launched, done),
      running: progress.running,
      failed: progress.failed,
      stage: ` | ${progress.searchStage}`,
    };
  }
  // Workflows started by older code do not say whether they are planning; a planned count of 0 means they are.
  const planning = progress === undefined || (progress.planning ?? progress.planned === 0);
  const total = planning ? knownTotal : (progress?.planned ?? knownTotal);
  return {
    done,
    total: Math.max(total, done),
    running: progress?.running ?? 0,
    failed: progress?.failed ?? 0,
    stage: '',
  };
}
