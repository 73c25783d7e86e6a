import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resetForResume } from '../../../cli/sweeps/control.ts';
import { launchSweep, startSweepWorkflow, workflowIdFor } from '../../../cli/sweeps/launch.ts';
import type { sweepWorkflow } from '../../../workflows/sweep.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { writeTinyDataset } from '../../support/tiny-dataset.ts';
import { createHarness, type Harness, tinyBase } from './harness.ts';

describeWith(
  'PostgreSQL + Temporal',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('failures, resume and continue-as-new', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('resume');
    await h.startGpuWorker({ slots: 2 });
  });
  afterAll(async () => h?.dispose());

  it('fails trials whose dataset is missing without retrying them, and resume runs exactly those', async () => {
    const file = await h.writeSweep('missing-data', {
      base: tinyBase(h.dataRoot, { epochs: true }),
      datasets: ['eurosat', 'dtd'], // dtd's folder does not exist yet
      shots: [1],
      seeds: [1, 2],
      vary: { mode: 'grid', method: ['zeroshot', 'coop'] },
      resources: { maxParallel: 2, taskQueue: h.gpuQueue },
    });
    const launched = await launchSweep(h.stack, file);
    const handle = h.stack.client.workflow.getHandle<typeof sweepWorkflow>(workflowIdFor(launched.sweepId));
    const first = await handle.result();
    expect(first.status).toBe('failed');
    expect(first.counts).toMatchObject({ total: 8, succeeded: 4, failed: 4 });
    const failed = await h.stack.db.prisma.trial.findMany({
      where: { sweepId: launched.sweepId, status: 'failed' },
      include: { attemptsLog: true },
    });
    expect(failed.map((t) => t.dataset)).toEqual(['dtd', 'dtd', 'dtd', 'dtd']);
    for (const t of failed) {
      expect(t.attemptsLog).toHaveLength(1); // non-retryable: one attempt only
      expect(t.error).toMatch(/dtd/);
    }

    await writeTinyDataset({
      root: h.dataRoot,
      dataset: 'dtd',
      classes: ['banded', 'dotted'],
      perClass: { train: 2, val: 1, test: 2 },
    });
    expect(await resetForResume(h.stack, launched.sweepId)).toBe(4);
    await startSweepWorkflow(h.stack, {
      sweepId: launched.sweepId,
      name: launched.name,
      maxParallel: 2,
      taskQueue: h.gpuQueue,
    });
    const second = await handle.result();
    expect(second.status).toBe('succeeded');
    expect(second.run.launched).toBe(4);
    const attempts = await h.stack.db.prisma.trialAttempt.groupBy({
      by: ['trialId'],
      where: { trial: { sweepId: launched.sweepId } },
      _count: { _all: true },
    });
    const perDataset = await h.stack.db.prisma.trial.findMany({ where: { sweepId: launched.sweepId } });
    const attemptsOf = new Map(attempts.map((a) => [a.trialId, a._count._all]));
    for (const t of perDataset) expect(attemptsOf.get(t.id)).toBe(t.dataset === 'dtd' ? 2 : 1);
  });

  it('continues as new when the server suggests it and records every trial exactly once', async () => {
    // Seeds unused by the other sweeps of this file, so no trial is reused instead of run.
    const seeds = Array.from({ length: 500 }, (_, i) => i + 101);
    const file = await h.writeSweep('many', {
      base: { ...tinyBase(h.dataRoot, {}), method: 'zeroshot' },
      datasets: ['eurosat'],
      shots: [1, 2],
      seeds,
      resources: { maxParallel: 2, taskQueue: h.gpuQueue },
    });
    const launched = await launchSweep(h.stack, file);
    expect(launched.trials).toBe(1000);
    const handle = h.stack.client.workflow.getHandle<typeof sweepWorkflow>(workflowIdFor(launched.sweepId));
    const firstRun = (await handle.describe()).runId;
    const result = await handle.result();
    expect(result.status).toBe('succeeded');
    expect(result.continuedAsNew).toBeGreaterThanOrEqual(3);
    expect(result.run.launched).toBe(1000);
    expect(result.counts).toMatchObject({ total: 1000, succeeded: 1000 });
    const attempts = await h.stack.db.prisma.trialAttempt.count({ where: { trial: { sweepId: launched.sweepId } } });
    const results = await h.stack.db.prisma.trialResult.count({ where: { trial: { sweepId: launched.sweepId } } });
    expect(attempts).toBe(1000);
    expect(results).toBe(1000);

    if (process.env.DPT_RECORD_HISTORIES === '1') {
      // Refreshes the replay fixture (test/integration/orchestration/replay.test.ts) after a deliberate change.
      const history = await h.stack.client.workflow.getHandle(workflowIdFor(launched.sweepId), firstRun).fetchHistory();
      const dir = path.resolve('test/fixtures/histories');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'sweep-continue-as-new.json'), historyToJSON(history));
    }
  });
});
