import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchSweep, startSweepWorkflow, workflowIdFor, writeSweepPlan } from '../../../cli/sweeps/launch.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../../dpt/trainer/checkpoint.ts';
import { loadSweepFile } from '../../../sweep/load.ts';
import type { sweepWorkflow } from '../../../workflows/sweep.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { corruptImage, writeTinyDataset } from '../../support/tiny-dataset.ts';
import { createHarness, type Harness, tinyBase } from './harness.ts';

/**
 * Bad data on disk and in the database, on real PostgreSQL and Temporal: an image that does not decode fails its
 * trial at once (retrying cannot fix a file), and a checkpoint that cannot be resumed from is dropped, so the trial
 * recovers by itself instead of failing on it on every attempt and every resume.
 */
describeWith(
  'PostgreSQL + Temporal',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('data errors and unusable checkpoints', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('dataerr');
    await h.startGpuWorker({ slots: 2 });
  });
  afterAll(async () => h?.dispose());

  it('fails a trial whose dataset holds a truncated PNG after exactly one attempt, naming the file', async () => {
    const tiny = await writeTinyDataset({
      root: h.dataRoot,
      dataset: 'dtd',
      classes: ['banded', 'dotted'],
      perClass: { train: 2, val: 1, test: 2 },
    });
    // A test image: every one of them is evaluated, whichever few-shot picks the seed makes.
    const broken = path.join(tiny.imageDir, tiny.relpaths.test[0] as string);
    await corruptImage(broken, 'truncated');
    const file = await h.writeSweep('bad-png', {
      base: { ...tinyBase(h.dataRoot), method: 'dpt' },
      datasets: ['dtd'],
      shots: [1],
      seeds: [1],
      resources: { maxParallel: 1, taskQueue: h.gpuQueue },
    });
    const launched = await launchSweep(h.stack, file);
    const result = await h.stack.client.workflow.getHandle<typeof sweepWorkflow>(launched.workflowId).result();
    expect(result.status).toBe('failed');
    expect(result.counts).toMatchObject({ total: 1, failed: 1 });
    const [trial] = await h.stack.db.prisma.trial.findMany({
      where: { sweepId: launched.sweepId },
      include: { attemptsLog: true },
    });
    expect(trial?.status).toBe('failed');
    expect(trial?.error).toContain(`${broken} is not a readable image`);
    expect(trial?.attemptsLog.map((a) => a.outcome)).toEqual(['failed']); // non-retryable: one attempt only
    expect(trial?.attemptsLog[0]?.error).toContain(broken);
  });

  it('drops a corrupt or unusable checkpoint and retrains from epoch 0 to the uninterrupted result', async () => {
    const body = (name: string, reuse: boolean) =>
      h.writeSweep(name, {
        base: { ...tinyBase(h.dataRoot), method: 'dpt' },
        datasets: ['eurosat'],
        shots: [1],
        seeds: [7, 8, 9],
        resources: { maxParallel: 3, taskQueue: h.gpuQueue },
        reuse,
      });
    // The uninterrupted run of the same three trials, and the checkpoints it stored.
    const reference = await launchSweep(h.stack, await body('uninterrupted', true));
    const first = await h.stack.client.workflow.getHandle<typeof sweepWorkflow>(reference.workflowId).result();
    expect(first.status).toBe('succeeded');
    const refTrials = await h.stack.db.prisma.trial.findMany({
      where: { sweepId: reference.sweepId },
      include: { results: true, checkpoints: true },
    });
    const bySeed = new Map(refTrials.map((t) => [t.seed, t]));
    const stored = (seed: number) => Buffer.from(bySeed.get(seed)?.checkpoints[0]?.bytes ?? []);
    expect(stored(7).length).toBeGreaterThan(0);

    // The same trials in a sweep that may not reuse them, planned but not started, each given a bad checkpoint.
    const { plan } = await loadSweepFile(await body('recovering', false));
    const { sweepId } = await writeSweepPlan(h.stack.db.pool, plan);
    const trials = await h.stack.db.prisma.trial.findMany({ where: { sweepId } });
    const idOf = (seed: number) => trials.find((t) => t.seed === seed)?.id as string;
    const put = (seed: number, bytes: Buffer) =>
      h.stack.db.pool.query(
        `INSERT INTO "Checkpoint" ("trialId", epoch, bytes, sha256, "sizeBytes") VALUES ($1, 1, $2, $3, $4)`,
        [idOf(seed), bytes, createHash('sha256').update(bytes).digest('hex'), bytes.length],
      );
    // Seed 7: bytes changed after they were stored, so they no longer match their sha256.
    await put(7, stored(7));
    await h.stack.db.pool.query(
      `UPDATE "Checkpoint" SET bytes = overlay(bytes placing '\\xdeadbeef'::bytea from 200) WHERE "trialId" = $1`,
      [idOf(7)],
    );
    // Seed 8: written truncated, so the sha256 matches but the payload does not decode.
    await put(8, stored(8).subarray(0, Math.floor(stored(8).length / 2)));
    // Seed 9: decodes and has the trial's fingerprint, but holds a tensor the model does not have: only the trainer,
    // restoring it into the model, can tell.
    const foreign = decodeCheckpoint(stored(9));
    foreign.params = foreign.params.map((p, i) => (i === 0 ? { ...p, key: `${p.key}.renamed` } : p));
    await put(9, encodeCheckpoint(foreign));

    await startSweepWorkflow(h.stack, { sweepId, name: plan.file.name, maxParallel: 3, taskQueue: h.gpuQueue });
    const second = await h.stack.client.workflow.getHandle<typeof sweepWorkflow>(workflowIdFor(sweepId)).result();
    expect(second.status).toBe('succeeded');
    expect(second.counts).toMatchObject({ total: 3, succeeded: 3, failed: 0 });

    const recovered = await h.stack.db.prisma.trial.findMany({
      where: { sweepId },
      include: { results: true, attemptsLog: { orderBy: { attempt: 'asc' } }, epochMetrics: true, checkpoints: true },
    });
    for (const t of recovered) {
      const twin = bySeed.get(t.seed);
      expect(t.status).toBe('succeeded');
      // Retrained from scratch, deterministically: the uninterrupted run's accuracy exactly.
      expect(t.results.map((r) => [r.split, r.correct, r.total, r.top1])).toEqual(
        twin?.results.map((r) => [r.split, r.correct, r.total, r.top1]),
      );
      expect(t.epochMetrics.map((m) => m.epoch).sort()).toEqual([0, 1]);
      expect(t.checkpoints.map((c) => c.epoch)).toEqual([2]);
      expect(t.attemptsLog.every((a) => a.outcome !== 'running' && a.endedAt !== null)).toBe(true);
    }
    const attempts = (seed: number) =>
      recovered.find((t) => t.seed === seed)?.attemptsLog.map((a) => [a.outcome, a.error]);
    expect(attempts(7)).toEqual([
      [
        'succeeded',
        expect.stringMatching(/^discarded unusable checkpoint at epoch 1 \(sha256 .*\); trained from epoch 0$/),
      ],
    ]);
    expect(attempts(8)).toEqual([
      [
        'succeeded',
        expect.stringMatching(
          /^discarded unusable checkpoint at epoch 1 \(checkpoint is truncated.*\); trained from epoch 0$/,
        ),
      ],
    ]);
    // The trainer's refusal costs one attempt; the retry starts without the checkpoint.
    expect(attempts(9)).toEqual([
      [
        'failed',
        expect.stringMatching(/^discarded unusable checkpoint at epoch 1 \(checkpoint has unknown tensor .*renamed\)/),
      ],
      ['succeeded', null],
    ]);
  });
});
