import { afterAll, beforeAll, expect, it } from 'vitest';
import { averageOver, cellStats } from '../../../db/ablation.ts';
import {
  linkReusableTrials,
  planTrials,
  transitionTrial,
  upsertResults,
  upsertSweep,
} from '../../../db/repositories.ts';
import { describeWith } from '../../support/env.ts';
import { BACKENDS, type TestDatabase } from './backends.ts';

const trial = (dataset: string, cavptLength: number, seed: number, extra: Record<string, unknown> = {}) => ({
  configKey: `${dataset}-${cavptLength}-${seed}`
    .split('')
    .map((c) => c.charCodeAt(0).toString(16))
    .join('')
    .padEnd(64, '0')
    .slice(0, 64),
  method: 'dpt',
  dataset,
  backbone: 'ViT-B/32',
  shots: 16,
  seed,
  lr: 0.01,
  cavptLength,
  epochs: 100,
  // Settings are the factors above; the config differs only in the seed, as a planned trial's does.
  config: { seed },
  ...extra,
});

/*
 * Hand-computed expectations (top1 = correct out of 100):
 *   eurosat    len 1 : seeds 1,2,3 -> 80, 82, 87  mean 83, pop var 26/3, sample var 13
 *   eurosat    len 10: seeds 1,2   -> 90, 94      mean 92, pop std 2, sample std sqrt(8); seed 3 planned, no result
 *   caltech101 len 1 : seed 1      -> 70          n = 1: pop std 0, sample std undefined
 *   caltech101 len 10: nothing                    missing cell
 */
for (const backend of BACKENDS) {
  describeWith(
    `database (${backend.name})`,
    backend.available,
    backend.reason,
  )(`ablation queries on ${backend.name}`, () => {
    let t: TestDatabase;
    let sweepA: string;
    let sweepB: string;
    let sweepDg: string;
    beforeAll(async () => {
      t = await backend.create();
      const pool = t.db.pool;
      sweepA = await upsertSweep(pool, { name: 'abl', spec: {}, specHash: 'a', maxParallel: 2, codeVersion: 'v' });
      const planned = [
        ...[1, 2, 3].map((s) => trial('eurosat', 1, s)),
        ...[1, 2, 3].map((s) => trial('eurosat', 10, s)),
        ...[1, 2, 3].map((s) => trial('caltech101', 1, s)),
        ...[1, 2, 3].map((s) => trial('caltech101', 10, s)),
      ];
      const ids = await planTrials(pool, sweepA, planned);
      const correct: Array<[number, number]> = [
        [0, 80],
        [1, 82],
        [2, 87],
        [3, 90],
        [4, 94],
        [6, 70],
      ];
      for (const [index, value] of correct) {
        await upsertResults(pool, ids[index] as string, [
          { evalDataset: planned[index]?.dataset as string, split: 'test', correct: value, total: 100 },
        ]);
        // A result on another split must not leak into the test-split statistics.
        await upsertResults(pool, ids[index] as string, [
          { evalDataset: planned[index]?.dataset as string, split: 'val', correct: 1, total: 100 },
        ]);
        await transitionTrial(pool, ids[index] as string, 'running');
        await transitionTrial(pool, ids[index] as string, 'succeeded');
      }
      // Sweep B re-plans eurosat/len 10/seed 1 (same configKey) and reuses A's result instead of retraining.
      sweepB = await upsertSweep(pool, { name: 'abl-b', spec: {}, specHash: 'b', maxParallel: 2, codeVersion: 'v' });
      const [reusing] = (await planTrials(pool, sweepB, [trial('eurosat', 10, 1)])) as [string];
      expect(await linkReusableTrials(pool, sweepB)).toBe(1);
      expect((await pool.query(`SELECT "reusedFromId" FROM "Trial" WHERE id = $1`, [reusing])).rows[0]).toEqual({
        reusedFromId: ids[3],
      });
      // Domain generalization: trained on imagenet, evaluated on imagenet and imagenet_v2.
      sweepDg = await upsertSweep(pool, { name: 'dg', spec: {}, specHash: 'd', maxParallel: 2, codeVersion: 'v' });
      const [dg] = (await planTrials(pool, sweepDg, [
        trial('imagenet', 10, 1, { evalDatasets: ['imagenet', 'imagenet_v2', 'imagenet_sketch'] }),
      ])) as [string];
      await upsertResults(pool, dg, [
        { evalDataset: 'imagenet', split: 'test', correct: 60, total: 100 },
        { evalDataset: 'imagenet_v2', split: 'test', correct: 50, total: 100 },
      ]);
    });
    afterAll(async () => {
      await t?.dispose();
    });

    it('computes mean, population std, sample std and n over seeds per cell, listing the missing cell', async () => {
      const report = await cellStats(t.db.pool, { sweepIds: [sweepA], factors: ['dataset', 'cavptLength'] });
      const byKey = Object.fromEntries(report.cells.map((c) => [`${c.key.dataset}/${c.key.cavptLength}`, c]));
      expect(Object.keys(byKey).sort()).toEqual(['caltech101/1', 'caltech101/10', 'eurosat/1', 'eurosat/10']);

      const e1 = byKey['eurosat/1'];
      expect(e1).toMatchObject({ n: 3, expectedN: 3, seeds: [1, 2, 3] });
      expect(e1?.mean).toBeCloseTo(83, 10);
      expect(e1?.stdPop).toBeCloseTo(Math.sqrt(26 / 3), 10);
      expect(e1?.stdSample).toBeCloseTo(Math.sqrt(13), 10);

      const e10 = byKey['eurosat/10'];
      expect(e10).toMatchObject({ n: 2, expectedN: 3, seeds: [1, 2] });
      expect(e10?.mean).toBeCloseTo(92, 10);
      expect(e10?.stdPop).toBeCloseTo(2, 10);
      expect(e10?.stdSample).toBeCloseTo(Math.sqrt(8), 10);

      const c1 = byKey['caltech101/1'];
      expect(c1).toMatchObject({ n: 1, expectedN: 3, seeds: [1], stdSample: null });
      expect(c1?.mean).toBeCloseTo(70, 10);
      expect(c1?.stdPop).toBe(0);

      expect(byKey['caltech101/10']).toMatchObject({
        n: 0,
        expectedN: 3,
        mean: null,
        stdPop: null,
        stdSample: null,
        seeds: [],
      });
      expect(report.missing.map((c) => c.key)).toEqual([{ dataset: 'caltech101', cavptLength: 10 }]);
    });

    it('averages over datasets, marking the incomplete average', async () => {
      const report = await cellStats(t.db.pool, { sweepIds: [sweepA], factors: ['cavptLength', 'dataset'] });
      const averaged = averageOver(report, 'dataset');
      expect(averaged).toHaveLength(2);
      const len1 = averaged.find((a) => a.key.cavptLength === 1);
      const len10 = averaged.find((a) => a.key.cavptLength === 10);
      expect(len1).toMatchObject({ n: 2, expectedN: 2, missing: [] });
      expect(len1?.mean).toBeCloseTo((83 + 70) / 2, 10);
      expect(len10).toMatchObject({ n: 1, expectedN: 2, missing: ['caltech101'] });
      expect(len10?.mean).toBeCloseTo(92, 10);
    });

    it('reads reused trials through reusedFromId and counts a configKey shared by two sweeps once', async () => {
      const onlyB = await cellStats(t.db.pool, { sweepIds: [sweepB], factors: ['dataset', 'cavptLength'] });
      expect(onlyB.cells).toHaveLength(1);
      expect(onlyB.cells[0]).toMatchObject({ n: 1, expectedN: 1, mean: 90, seeds: [1] });

      const both = await cellStats(t.db.pool, { sweepIds: [sweepA, sweepB], factors: ['dataset', 'cavptLength'] });
      const e10 = both.cells.find((c) => c.key.dataset === 'eurosat' && c.key.cavptLength === 10);
      expect(e10).toMatchObject({ n: 2, expectedN: 3 });

      const perSweep = await cellStats(t.db.pool, {
        sweepIds: [sweepA, sweepB],
        factors: ['sweep', 'cavptLength'],
        where: { dataset: ['eurosat'] },
      });
      expect(perSweep.cells.map((c) => [c.key.sweep, c.key.cavptLength, c.n])).toEqual([
        ['abl', 1, 3],
        ['abl', 10, 2],
        ['abl-b', 10, 1],
      ]);
    });

    it("reads the same statistics from the trials' test top-1 copies as from the results they copy", async () => {
      // Per evaluation dataset the results are joined; the source datasets' test split reads Trial.testTop1.
      for (const sweepIds of [[sweepA], [sweepB], [sweepA, sweepB]]) {
        const copied = await cellStats(t.db.pool, { sweepIds, factors: ['dataset', 'cavptLength'] });
        const joined = await cellStats(t.db.pool, { sweepIds, factors: ['dataset', 'cavptLength', 'evalDataset'] });
        expect(joined.cells.every((cell) => cell.key.evalDataset === cell.key.dataset)).toBe(true);
        const strip = (cells: typeof copied.cells) =>
          cells.map(({ key, ...rest }) => ({ key: { dataset: key.dataset, cavptLength: key.cavptLength }, ...rest }));
        expect(strip(joined.cells)).toEqual(strip(copied.cells));
      }
    });

    it('filters by factor values and reports evaluation datasets as a factor', async () => {
      const filtered = await cellStats(t.db.pool, {
        sweepIds: [sweepA],
        factors: ['cavptLength'],
        where: { dataset: ['eurosat'], cavptLength: [10] },
      });
      expect(filtered.cells).toHaveLength(1);
      expect(filtered.cells[0]).toMatchObject({ key: { cavptLength: 10 }, n: 2, mean: 92 });

      const dg = await cellStats(t.db.pool, { sweepIds: [sweepDg], factors: ['dataset', 'evalDataset'] });
      expect(dg.cells.map((c) => [c.key.evalDataset, c.n, c.mean])).toEqual([
        ['imagenet', 1, 60],
        ['imagenet_sketch', 0, null],
        ['imagenet_v2', 1, 50],
      ]);
      const source = await cellStats(t.db.pool, { sweepIds: [sweepDg], factors: ['dataset'] });
      expect(source.cells).toEqual([expect.objectContaining({ key: { dataset: 'imagenet' }, n: 1, mean: 60 })]);
    });

    it('rejects seed as a factor and unknown factors before any SQL runs', async () => {
      await expect(cellStats(t.db.pool, { sweepIds: [sweepA], factors: ['seed' as never] })).rejects.toThrow(/factors/);
      await expect(
        cellStats(t.db.pool, {
          sweepIds: [sweepA],
          factors: ['dataset'],
          where: { 'x; DROP TABLE "Trial"': ['a'] } as never,
        }),
      ).rejects.toThrow();
      const still = await t.db.pool.query(`SELECT count(*)::int AS n FROM "Trial"`);
      expect(still.rows[0].n).toBeGreaterThan(0);
    });
  });
}
