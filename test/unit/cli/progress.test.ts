import { describe, expect, it } from 'vitest';
import { progressView } from '../../../cli/sweeps/progress.ts';
import type { SweepProgress } from '../../../contract/sweep-workflow.ts';

const progress = (fields: Partial<SweepProgress>): SweepProgress => ({
  planned: 0,
  launched: 0,
  succeeded: 0,
  failed: 0,
  cancelled: 0,
  running: 0,
  paused: false,
  maxParallel: 2,
  continuedAsNew: 0,
  ...fields,
});

describe('the --wait progress bar', () => {
  it('takes its total from the database while the workflow is still planning', () => {
    expect(progressView(undefined, 48)).toEqual({ done: 0, total: 48, running: 0, failed: 0, stage: '' });
    expect(progressView(progress({ planning: true }), 48)).toEqual({
      done: 0,
      total: 48,
      running: 0,
      failed: 0,
      stage: '',
    });
  });

  it("takes the workflow's planned count once planning is done (reused trials leave the total)", () => {
    const p = progress({ planning: false, planned: 40, launched: 12, succeeded: 9, failed: 1, running: 2 });
    expect(progressView(p, 48)).toEqual({ done: 10, total: 40, running: 2, failed: 1, stage: '' });
  });

  it('never shows more done than its total (the "48/1" of a bar started before planning)', () => {
    // A workflow of older code does not report `planning`; planned 0 with trials done still means "not yet known".
    const old = progress({ planned: 0, launched: 48, succeeded: 48 });
    const view = progressView(old, 0);
    expect(view.done).toBe(48);
    expect(view.total).toBe(48);
    for (const p of [old, progress({ planning: false, planned: 3, succeeded: 5 })]) {
      for (const known of [0, 1, 48]) {
        const v = progressView(p, known);
        expect(v.done).toBeLessThanOrEqual(v.total);
      }
    }
  });

  it('keeps a planned total of 0 when planning found nothing to run', () => {
    expect(progressView(progress({ planning: false, planned: 0 }), 48)).toEqual({
      done: 0,
      total: 0,
      running: 0,
      failed: 0,
      stage: '',
    });
  });

  it('counts a search in runs launched (a trial runs once per rung), stopped ones done, with its stage', () => {
    const p = progress({
      planning: false,
      planned: 18,
      launched: 20,
      succeeded: 0,
      stopped: 15,
      running: 2,
      searchStage: 'rung 2 of 3 (3 epochs)',
      searchRuns: 24,
    });
    expect(progressView(p, 18)).toEqual({
      done: 15,
      total: 24,
      running: 2,
      failed: 0,
      stage: ' | rung 2 of 3 (3 epochs)',
    });
  });
});
