import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isDatabaseError } from '../../../db/errors.ts';
import {
  beginAttempt,
  discardCheckpoint,
  finishAttempt,
  linkReusableTrials,
  loadLatestCheckpoint,
  loadResumableCheckpoint,
  noteAttempt,
  planTrials,
  saveCheckpoint,
  transitionTrial,
  upsertEpochMetrics,
  upsertResults,
  upsertSweep,
} from '../../../db/repositories.ts';
import { describeWith } from '../../support/env.ts';
import { BACKENDS, type TestDatabase } from './backends.ts';

const key = (n: number) => n.toString(16).padStart(64, '0');
const trial = (n: number, seed: number) => ({
  configKey: key(n),
  method: 'dpt',
  dataset: 'eurosat',
  backbone: 'ViT-B/32',
  shots: 16,
  seed,
  lr: 0.01,
  lrText: 0.002,
  cavptMode: 'top-down',
  cavptLayers: 1,
  cavptLength: 10,
  kN: 10,
  alpha: 0.3,
  beta: 0.1,
  epochs: 100,
  config: { n, nested: { warmup: 10 } },
});

const TABLES = ['Sweep', 'Trial', 'TrialResult', 'EpochMetric', 'Checkpoint', 'TrialAttempt'];

async function dump(t: TestDatabase): Promise<string> {
  const parts: string[] = [];
  for (const table of TABLES) {
    const { rows } = await t.db.pool.query(`SELECT to_jsonb(x) AS row FROM "${table}" x ORDER BY 1`);
    parts.push(`${table}: ${JSON.stringify(rows.map((r) => r.row))}`);
  }
  return parts.join('\n');
}

for (const backend of BACKENDS) {
  describeWith(
    `database (${backend.name})`,
    backend.available,
    backend.reason,
  )(`repositories on ${backend.name}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await backend.create();
    });
    afterAll(async () => {
      await t?.dispose();
    });

    /** One trial's life, as the orchestrator and a GPU activity would write it. */
    async function writeEverything(): Promise<string[]> {
      const pool = t.db.pool;
      const sweepId = await upsertSweep(pool, {
        name: 'idem',
        spec: { a: 1 },
        specHash: 'h1',
        maxParallel: 4,
        codeVersion: 'v1',
      });
      const ids = await planTrials(pool, sweepId, [trial(1, 1), trial(2, 2), trial(3, 3)]);
      const [first] = ids as [string];
      await transitionTrial(pool, first, 'queued');
      await transitionTrial(pool, first, 'running', { backend: 'cpu', workerId: 'w1' });
      // A replayed write sequence retries the same attempt: only the first run opens one.
      const open = await pool.query(`SELECT count(*)::int AS n FROM "TrialAttempt" WHERE "trialId" = $1`, [first]);
      if (open.rows[0].n === 0) await beginAttempt(pool, first, 'w1');
      await upsertEpochMetrics(pool, [
        { trialId: first, epoch: 0, loss: 2.5, lossMain: 2.0, lossCavpt: 0.5, lrText: 0.002, lrVisual: 1e-5 },
        { trialId: first, epoch: 1, loss: 1.5, trainAcc: 40 },
      ]);
      await saveCheckpoint(pool, first, 1, new Uint8Array([1, 2, 3]));
      await upsertResults(pool, first, [{ evalDataset: 'eurosat', split: 'test', correct: 81, total: 100 }]);
      await finishAttempt(pool, first, 1, 'succeeded', new Date('2026-01-01T01:00:00Z'));
      await transitionTrial(pool, first, 'succeeded');
      return ids;
    }

    it('applying the same writes twice leaves identical rows', async () => {
      const ids = await writeEverything();
      const once = await dump(t);
      const again = await writeEverything();
      expect(again).toEqual(ids);
      expect(await dump(t)).toBe(once);
      expect(once).toMatch(/"top1": ?81[,}]/);
      const counts = await t.db.pool.query(
        `SELECT (SELECT count(*)::int FROM "Trial") AS trials, (SELECT count(*)::int FROM "EpochMetric") AS metrics`,
      );
      expect(counts.rows[0]).toEqual({ trials: 3, metrics: 2 });
    });

    it("copies a trial's own test-split top-1 onto the trial, and only that result", async () => {
      const pool = t.db.pool;
      const sweepId = await upsertSweep(pool, {
        name: 'copy',
        spec: {},
        specHash: 'c',
        maxParallel: 1,
        codeVersion: 'v',
      });
      const [id] = (await planTrials(pool, sweepId, [trial(40, 1)])) as [string];
      const copy = async () =>
        (await pool.query<{ testTop1: number | null }>(`SELECT "testTop1" FROM "Trial" WHERE id = $1`, [id])).rows[0]
          ?.testTop1;
      await upsertResults(pool, id, [
        { evalDataset: 'caltech101', split: 'test', correct: 10, total: 100 },
        { evalDataset: 'eurosat', split: 'val', correct: 20, total: 100 },
      ]);
      expect(await copy()).toBeNull();
      await upsertResults(pool, id, [{ evalDataset: 'eurosat', split: 'test', correct: 3, total: 8 }]);
      expect(await copy()).toBe(37.5);
      // A re-evaluation that changes the result changes the copy with it.
      await upsertResults(pool, id, [{ evalDataset: 'eurosat', split: 'test', correct: 1, total: 8 }]);
      expect(await copy()).toBe(12.5);
    });

    it('reads the rows back through the generated Prisma client', async () => {
      const sweep = await t.db.prisma.sweep.findUniqueOrThrow({
        where: { name: 'idem' },
        include: { trials: { orderBy: { seed: 'asc' }, include: { results: true } } },
      });
      expect(sweep.trials.map((x) => x.seed)).toEqual([1, 2, 3]);
      expect(sweep.trials[0]?.status).toBe('succeeded');
      expect(sweep.trials[0]?.attempts).toBe(1);
      expect(sweep.trials[0]?.evalDatasets).toEqual(['eurosat']);
      expect(sweep.trials[0]?.results[0]?.top1).toBeCloseTo(81);
    });

    it('allows only legal status transitions and treats repeats as no-ops', async () => {
      const sweepId = await upsertSweep(t.db.pool, {
        name: 'transitions',
        spec: {},
        specHash: 'h',
        maxParallel: 1,
        codeVersion: 'v1',
      });
      const [id] = (await planTrials(t.db.pool, sweepId, [trial(10, 1)])) as [string];
      expect(await transitionTrial(t.db.pool, id, 'succeeded')).toBe(false);
      expect(await transitionTrial(t.db.pool, id, 'running')).toBe(true);
      expect(await transitionTrial(t.db.pool, id, 'failed', { error: 'OOM' })).toBe(true);
      expect(await transitionTrial(t.db.pool, id, 'failed', { error: 'OOM' })).toBe(true);
      expect(await transitionTrial(t.db.pool, id, 'running')).toBe(false);
      expect(await transitionTrial(t.db.pool, id, 'queued')).toBe(true);
      const row = await t.db.prisma.trial.findUniqueOrThrow({ where: { id } });
      expect(row.status).toBe('queued');
      expect(row.error).toBe('OOM');
      // Status moves do not count attempts; beginAttempt does (below).
      expect(row.attempts).toBe(0);
      await expect(transitionTrial(t.db.pool, 'nope', 'queued')).rejects.toThrow(/does not exist/);
    });

    it('links an identical succeeded trial of another sweep instead of retraining it', async () => {
      const a = await upsertSweep(t.db.pool, {
        name: 'reuse-a',
        spec: {},
        specHash: 'h',
        maxParallel: 1,
        codeVersion: 'v1',
      });
      const b = await upsertSweep(t.db.pool, {
        name: 'reuse-b',
        spec: {},
        specHash: 'h',
        maxParallel: 1,
        codeVersion: 'v1',
      });
      const [src] = (await planTrials(t.db.pool, a, [trial(20, 1)])) as [string];
      const [dst] = (await planTrials(t.db.pool, b, [trial(20, 1)])) as [string];
      expect(await linkReusableTrials(t.db.pool, b)).toBe(0);
      await transitionTrial(t.db.pool, src, 'running');
      await transitionTrial(t.db.pool, src, 'succeeded');
      expect(await linkReusableTrials(t.db.pool, a)).toBe(0);
      expect(await linkReusableTrials(t.db.pool, b)).toBe(1);
      expect(await linkReusableTrials(t.db.pool, b)).toBe(0);
      const row = await t.db.prisma.trial.findUniqueOrThrow({ where: { id: dst } });
      expect(row).toMatchObject({ status: 'reused', reusedFromId: src });
    });

    it('keeps only the newest checkpoint, verifies its sha256, and ignores a late older one', async () => {
      const sweepId = await upsertSweep(t.db.pool, {
        name: 'ckpt',
        spec: {},
        specHash: 'h',
        maxParallel: 1,
        codeVersion: 'v1',
      });
      const [id] = (await planTrials(t.db.pool, sweepId, [trial(30, 1)])) as [string];
      expect(await loadLatestCheckpoint(t.db.pool, id)).toBeNull();
      const big = new Uint8Array(256 * 1024).map((_, i) => (i * 31) % 251);
      await saveCheckpoint(t.db.pool, id, 3, new Uint8Array([9]));
      await saveCheckpoint(t.db.pool, id, 5, big);
      await saveCheckpoint(t.db.pool, id, 4, new Uint8Array([7]));
      const latest = await loadLatestCheckpoint(t.db.pool, id);
      expect(latest?.epoch).toBe(5);
      expect(Buffer.from(latest?.bytes ?? []).equals(Buffer.from(big))).toBe(true);
      const { rows } = await t.db.pool.query(`SELECT epoch FROM "Checkpoint" WHERE "trialId" = $1 ORDER BY epoch`, [
        id,
      ]);
      expect(rows.map((r) => r.epoch)).toEqual([5]);
      await t.db.pool.query(`UPDATE "Checkpoint" SET bytes = '\\x00'::bytea WHERE "trialId" = $1 AND epoch = 5`, [id]);
      const error = await loadLatestCheckpoint(t.db.pool, id).catch((e: unknown) => e);
      expect(isDatabaseError(error) && error.code).toBe('checkpoint-corrupt');
      expect((error as Error).message).toMatch(/^checkpoint of trial t_\w+ at epoch 5 is corrupt/);
    });

    it('falls back past unusable checkpoints to the previous valid one, deleting each, and never throws', async () => {
      const sweepId = await upsertSweep(t.db.pool, {
        name: 'ckpt-fallback',
        spec: {},
        specHash: 'h',
        maxParallel: 1,
        codeVersion: 'v1',
      });
      const [id] = (await planTrials(t.db.pool, sweepId, [trial(31, 1)])) as [string];
      // saveCheckpoint keeps the newest only; older rows are written directly to have something to fall back to.
      const put = (
        epoch: number,
        bytes: number[],
        sha = createHash('sha256').update(Buffer.from(bytes)).digest('hex'),
      ) =>
        t.db.pool.query(
          `INSERT INTO "Checkpoint" ("trialId", epoch, bytes, sha256, "sizeBytes") VALUES ($1, $2, $3, $4, $5)`,
          [id, epoch, Buffer.from(bytes), sha, bytes.length],
        );
      await put(1, [1]);
      await put(2, [2]);
      await put(3, [3], 'f'.repeat(64)); // bytes that do not match their sha256
      const loaded = await loadResumableCheckpoint(t.db.pool, id, (c) => (c.epoch === 2 ? 'payload rejected' : null));
      expect(loaded.checkpoint?.epoch).toBe(1);
      expect(loaded.discarded.map((d) => d.epoch)).toEqual([3, 2]);
      expect(loaded.discarded[0]?.reason).toMatch(/^sha256 \w{12}… ≠ stored f{12}…$/);
      expect(loaded.discarded[1]?.reason).toBe('payload rejected');
      const { rows } = await t.db.pool.query(`SELECT epoch FROM "Checkpoint" WHERE "trialId" = $1`, [id]);
      expect(rows.map((r) => r.epoch)).toEqual([1]);
      // A checkpoint saved since at that epoch has another sha256 and is kept.
      expect(await discardCheckpoint(t.db.pool, id, 1, 'f'.repeat(64))).toBe(false);
      expect(await discardCheckpoint(t.db.pool, id, 1, loaded.checkpoint?.sha256 ?? '')).toBe(true);
      expect(await loadResumableCheckpoint(t.db.pool, id)).toEqual({ checkpoint: null, discarded: [] });
    });

    it("keeps an attempt's notes whatever its outcome, after the failure reason", async () => {
      const sweepId = await upsertSweep(t.db.pool, {
        name: 'notes',
        spec: {},
        specHash: 'h',
        maxParallel: 1,
        codeVersion: 'v1',
      });
      const [id] = (await planTrials(t.db.pool, sweepId, [trial(32, 1)])) as [string];
      const errors = async () =>
        (await t.db.prisma.trialAttempt.findMany({ where: { trialId: id }, orderBy: { attempt: 'asc' } })).map((a) => [
          a.outcome,
          a.error,
        ]);
      const one = await beginAttempt(t.db.pool, id, 'w1');
      await noteAttempt(t.db.pool, id, one, 'dropped A');
      await noteAttempt(t.db.pool, id, one, 'dropped A'); // a repeated note is recorded once
      await finishAttempt(t.db.pool, id, one, 'failed', new Date(), 'trainer crashed');
      const two = await beginAttempt(t.db.pool, id, 'w1');
      await noteAttempt(t.db.pool, id, two, 'dropped B');
      await finishAttempt(t.db.pool, id, two, 'succeeded', new Date());
      const three = await beginAttempt(t.db.pool, id, 'w1');
      await noteAttempt(t.db.pool, id, three, 'dropped C');
      await beginAttempt(t.db.pool, id, 'w2'); // the worker of attempt 3 died
      expect(await errors()).toEqual([
        ['failed', 'trainer crashed; dropped A'],
        ['succeeded', 'dropped B'],
        ['timed_out', 'worker stopped answering (no end reported); dropped C'],
        ['running', null],
      ]);
    });

    it('rejects invalid input at the edge with a message naming the field', async () => {
      await expect(planTrials(t.db.pool, 'x', [{ ...trial(40, 1), shots: -1 }])).rejects.toThrow(/shots/);
      await expect(
        upsertResults(t.db.pool, 'x', [{ evalDataset: 'e', split: 'test', correct: 5, total: 4 }]),
      ).rejects.toThrow(/correct cannot exceed total/);
    });
  });
}
