import type { SweepProgress } from '../../contract/sweep-workflow.ts';

/** What the `--wait` progress bar shows: trials finished of trials to run, and what is running or failed. */
export interface ProgressView {
  done: number;
  total: number;
  running: number;
  failed: number;
}

/**
 * The bar's figures from the workflow's progress query. The workflow answers queries before its planning activity
 * has returned, when `planned` is still 0; a bar started then would keep a total of 0 (shown as 1) and end at "48/1".
 * Until planning is done the total is `knownTotal`, the runnable trials the database held when the bar started
 * (the count launch or resume just wrote). The total never falls below what is done, so the bar never overflows.
 */
export function progressView(progress: SweepProgress | undefined, knownTotal: number): ProgressView {
  const done = progress ? progress.succeeded + progress.failed + progress.cancelled : 0;
  // Workflows started by older code do not say whether they are planning; a planned count of 0 means they are.
  const planning = progress === undefined || (progress.planning ?? progress.planned === 0);
  const total = planning ? knownTotal : (progress?.planned ?? knownTotal);
  return {
    done,
    total: Math.max(total, done),
    running: progress?.running ?? 0,
    failed: progress?.failed ?? 0,
  };
}
