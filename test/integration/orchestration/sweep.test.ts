import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { codeVersionMismatch } from '../../../activities/train-trial.ts';
import { launchSweep, workflowIdFor } from '../../../cli/sweeps/launch.ts';
import { loadDataset } from '../../../data/datasets/index.ts';
import { fewShotSplit } from '../../../data/fewshot.ts';
import { codeVersion } from '../../../worker/code-version.ts';
import type { sweepWorkflow } from '../../../workflows/sweep.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { createHarness, type Harness, TINY_CLIP_DIR, tinyBase } from './harness.ts';

describeWith(
  'PostgreSQL + Temporal',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('a sweep of real tiny trials, end to end', () => {
  let h: Harness;
  let file: string;
  let sweepId: string;

  beforeAll(async () => {
    h = await createHarness('e2e');
    await h.startGpuWorker();
    file = await h.writeSweep('e2e', {
      base: tinyBase(h.dataRoot),
      datasets: ['eurosat'],
      shots: [1, 2],
      seeds: [1, 2],
      vary: { mode: 'grid', method: ['zeroshot', 'coop', 'dpt'] },
      resources: { maxParallel: 2, taskQueue: h.gpuQueue },
    });
  });
  afterAll(async () => h?.dispose());

  it('trains every trial once and stores one result and an epoch curve per trial', async () => {
    const launched = await launchSweep(h.stack, file);
    sweepId = launched.sweepId;
    expect(launched.trials).toBe(12); // 3 methods x 2 shots x 2 seeds
    const result = await h.stack.client.workflow.getHandle<typeof sweepWorkflow>(workflowIdFor(sweepId)).result();
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ total: 12, succeeded: 12, failed: 0 });

    const trials = await h.stack.db.prisma.trial.findMany({
      where: { sweepId },
      include: { results: true, epochMetrics: true, attemptsLog: true },
    });
    for (const t of trials) {
      expect(t.status).toBe('succeeded');
      expect(t.results).toHaveLength(1);
      expect(t.results[0]!.total).toBeGreaterThan(0);
      expect(t.attemptsLog.map((a) => a.outcome)).toEqual(['succeeded']);
      if (t.method !== 'zeroshot') expect(t.epochMetrics.map((m) => m.epoch).sort()).toEqual([0, 1]);
    }

    // Provenance: what reproduces each result, besides its config.
    const weights = createHash('sha256')
      .update(await readFile(path.join(TINY_CLIP_DIR, 'model.safetensors')))
      .digest('hex');
    const eurosat = await loadDataset('eurosat', h.dataRoot);
    for (const t of trials) {
      const picks = await fewShotSplit(eurosat, t.shots, t.seed);
      expect({ codeVersion: t.codeVersion, weightsSha256: t.weightsSha256, splitHash: t.splitHash }).toEqual({
        codeVersion: codeVersion(),
        weightsSha256: weights,
        splitHash: picks.splitId,
      });
      expect(t.backend).toMatch(/^(tensorflow|tensorflow-gpu|wasm|cpu)$/);
    }
    expect(new Set(trials.map((t) => t.splitHash)).size).toBe(4); // one per (shots, seed)
  });

  it('launching the same file again trains nothing', async () => {
    const attemptsBefore = await h.stack.db.prisma.trialAttempt.count({ where: { trial: { sweepId } } });
    const again = await launchSweep(h.stack, file);
    expect(again.sweepId).toBe(sweepId);
    const result = await h.stack.client.workflow.getHandle<typeof sweepWorkflow>(workflowIdFor(sweepId)).result();
    expect(result.run.launched).toBe(0);
    expect(result.counts.succeeded).toBe(12);
    expect(await h.stack.db.prisma.trialAttempt.count({ where: { trial: { sweepId } } })).toBe(attemptsBefore);
  });

  it('a changed file trains only its new cells', async () => {
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/seeds:\n(\s*)- 1\n\s*- 2\n/, 'seeds:\n$1- 1\n$1- 2\n$1- 3\n'));
    const changed = await launchSweep(h.stack, file);
    expect(changed.sweepId).toBe(sweepId);
    expect(changed.trials).toBe(18);
    const result = await h.stack.client.workflow.getHandle<typeof sweepWorkflow>(workflowIdFor(sweepId)).result();
    expect(result.run.launched).toBe(6);
    expect(result.counts).toMatchObject({ total: 18, succeeded: 18 });
  });

  it('a worker running other code refuses the trial, non-retryably, before training it', async () => {
    // A worker of another checkout, on its own queue so that it gets only this sweep's trial.
    const queue = `${h.gpuQueue}-other-code`;
    const other = '0.0.0+0123456789ab';
    await h.startGpuWorker({ queue, codeVersion: other, workerId: 'other-code' });
    const refused = await h.writeSweep('other-code', {
      base: { ...tinyBase(h.dataRoot), method: 'dpt' },
      datasets: ['eurosat'],
      shots: [1],
      seeds: [99],
      resources: { maxParallel: 1, taskQueue: queue },
    });
    const launched = await launchSweep(h.stack, refused);
    const result = await h.stack.client.workflow
      .getHandle<typeof sweepWorkflow>(workflowIdFor(launched.sweepId))
      .result();
    expect(result.status).toBe('failed');
    expect(result.counts).toMatchObject({ total: 1, failed: 1, succeeded: 0 });

    const trial = await h.stack.db.prisma.trial.findFirstOrThrow({
      where: { sweepId: launched.sweepId },
      include: { results: true, epochMetrics: true, checkpoints: true, attemptsLog: true },
    });
    const message = codeVersionMismatch(codeVersion(), other);
    expect(message).toContain(codeVersion());
    expect(trial.status).toBe('failed');
    expect(trial.error).toContain(message);
    expect(trial.attemptsLog).toHaveLength(1);
    expect(trial.attemptsLog[0]).toMatchObject({ outcome: 'failed', error: message, workerId: 'other-code' });
    expect(trial.epochMetrics).toEqual([]);
    expect(trial.results).toEqual([]);
    expect(trial.checkpoints).toEqual([]);
    expect({ backend: trial.backend, weightsSha256: trial.weightsSha256, splitHash: trial.splitHash }).toEqual({
      backend: null,
      weightsSha256: null,
      splitHash: null,
    });
  });
});
