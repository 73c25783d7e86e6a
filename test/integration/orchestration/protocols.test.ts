import { execFile } from 'node:child_process';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchSweep, workflowIdFor } from '../../../cli/sweeps/launch.ts';
import { loadDataset } from '../../../data/datasets/index.ts';
import { fewShotSplit } from '../../../data/fewshot.ts';
import type { SplitJsonDatasetName } from '../../../data/synthetic/shapes-dataset.ts';
import type { sweepWorkflow } from '../../../workflows/sweep.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { writeTinyDataset } from '../../support/tiny-dataset.ts';
import { createHarness, type Harness, TINY_CLIP_DIR, tinyBase } from './harness.ts';

const run = promisify(execFile);
const CLI = path.resolve('bin/dpt-sweep.js');

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const hm = (a: number, b: number) => (2 * a * b) / (a + b);

interface Entry {
  mean: number | null;
  std: number | null;
  n: number;
  expectedN: number;
  published?: { value: number; diff: number | null; ref: number };
}
interface PivotJson {
  rowFactors: string[];
  columns: string[];
  averageLabel: string | null;
  notes: string[];
  sources: Array<{ ref: number; source: string }>;
  rows: Array<{
    key: Record<string, string | number | null>;
    cells: Record<string, Entry | null>;
    average: Entry | null;
  }>;
}

/*
 * Each protocol of the sweep file on real Temporal and PostgreSQL with tiny trials. The tiny CLIP is copied into a
 * folder named like the Hugging Face ViT-B/16 checkpoint so that `--published` has an anchor to match: the numbers it
 * sets beside ours are the paper's, ours are the tiny model's, and only the matching and the arithmetic are tested.
 */
describeWith(
  'PostgreSQL + Temporal',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('evaluation protocols end to end', () => {
  let h: Harness;
  let model: string;
  const results = async (name: string, ...args: string[]) => {
    const { stdout } = await run('node', [CLI, 'results', name, ...args], {
      env: { ...process.env, DATABASE_URL: h.databaseUrl },
    });
    return stdout;
  };
  const launch = async (tag: string, body: Record<string, unknown>) => {
    const file = await h.writeSweep(tag, { ...body, resources: { maxParallel: 2, taskQueue: h.gpuQueue } });
    const launched = await launchSweep(h.stack, file);
    const result = await h.stack.client.workflow
      .getHandle<typeof sweepWorkflow>(workflowIdFor(launched.sweepId))
      .result();
    return { ...launched, counts: result.counts };
  };
  const rowsOf = async (sweepId: string) =>
    (
      await h.stack.db.pool.query<{
        trial: string;
        dataset: string;
        method: string;
        seed: number;
        evalDataset: string;
        classSubset: string;
        top1: number;
        total: number;
        testTop1: number | null;
      }>(
        `SELECT t.id AS trial, t.dataset, t.method, t.seed, r."evalDataset", r."classSubset", r.top1, r.total, t."testTop1"
           FROM "Trial" t JOIN "TrialResult" r ON r."trialId" = COALESCE(t."reusedFromId", t.id)
          WHERE t."sweepId" = $1 ORDER BY t.dataset, t.method, t.seed, r."evalDataset", r."classSubset"`,
        [sweepId],
      )
    ).rows;

  beforeAll(async () => {
    h = await createHarness('protocols');
    const write = (dataset: SplitJsonDatasetName, classes: string[] | number) =>
      writeTinyDataset({ root: h.dataRoot, dataset, classes, perClass: { train: 4, val: 1, test: 3 }, seed: 7 });
    // An odd class count (5) for the base/novel rule; the shapes twice, in two domains, for domain generalization.
    await write('dtd', 5);
    await write('oxford_pets', 4);
    await write('synth_shape', ['circle', 'square', 'triangle']);
    await write('synth_target', ['circle', 'square', 'triangle']);
    model = path.join(h.dir, 'models', 'clip-vit-base-patch16');
    await cp(TINY_CLIP_DIR, model, { recursive: true });
    await h.startGpuWorker();
  });
  afterAll(async () => h?.dispose());

  describe('base-to-novel', () => {
    let sweep: { sweepId: string; name: string };
    beforeAll(async () => {
      const launched = await launch('b2n', {
        protocol: 'base-to-novel',
        base: { ...tinyBase(h.dataRoot, { epochs: true }), model },
        datasets: ['eurosat', 'dtd'],
        shots: [16],
        seeds: [1, 2],
        vary: { mode: 'grid', method: ['zeroshot', 'coop'] },
      });
      expect(launched.counts).toMatchObject({ total: 8, succeeded: 8 });
      sweep = launched;
    });

    it('stores a base and a novel row per trial, split by the official rule (first ceil(n/2) sorted labels)', async () => {
      const rows = await rowsOf(sweep.sweepId);
      expect(rows).toHaveLength(16);
      for (const dataset of ['eurosat', 'dtd'] as const) {
        const splits = await loadDataset(dataset, h.dataRoot);
        const picks = await fewShotSplit(splits, 16, 1);
        const labels = [...new Set(picks.train.map((item) => item.label))].sort((a, b) => a - b);
        const m = Math.ceil(labels.length / 2);
        const count = (chosen: number[]) => splits.test.filter((item) => chosen.includes(item.label)).length;
        const mine = rows.filter((row) => row.dataset === dataset);
        expect(new Set(mine.map((row) => row.classSubset))).toEqual(new Set(['base', 'novel']));
        for (const row of mine) {
          expect(row.evalDataset).toBe(dataset);
          expect(row.total).toBe(count(row.classSubset === 'base' ? labels.slice(0, m) : labels.slice(m)));
          // The trial's own accuracy is its base classes'.
          if (row.classSubset === 'base') expect(row.testTop1).toBe(row.top1);
        }
      }
      // 5 classes: 3 base, 2 novel; 3 classes: 2 and 1 (3 test images each).
      expect(rows.find((r) => r.dataset === 'dtd' && r.classSubset === 'base')?.total).toBe(9);
      expect(rows.find((r) => r.dataset === 'dtd' && r.classSubset === 'novel')?.total).toBe(6);
      const { rows: trials } = await h.stack.db.pool.query<{ subsampleClasses: string }>(
        `SELECT DISTINCT "subsampleClasses" FROM "Trial" WHERE "sweepId" = $1`,
        [sweep.sweepId],
      );
      expect(trials).toEqual([{ subsampleClasses: 'base' }]);
    });

    it('results: base / novel / HM per dataset and the average row, HM of the averages, beside published numbers', async () => {
      const rows = await rowsOf(sweep.sweepId);
      const json = JSON.parse(await results(sweep.name, '--format', 'json', '--published')) as PivotJson;
      expect(json.rowFactors).toEqual(['dataset', 'method']);
      expect(json.columns).toEqual(['base', 'novel', 'HM']);
      expect(json.rows.map((row) => [row.key.dataset, row.key.method])).toEqual([
        ['average', 'zeroshot'],
        ['average', 'coop'],
        ['dtd', 'zeroshot'],
        ['dtd', 'coop'],
        ['eurosat', 'zeroshot'],
        ['eurosat', 'coop'],
      ]);
      const by = (dataset: string, method: string, subset: string) =>
        mean(
          rows
            .filter((r) => r.dataset === dataset && r.method === method && r.classSubset === subset)
            .map((r) => r.top1),
        );
      for (const method of ['zeroshot', 'coop']) {
        for (const dataset of ['eurosat', 'dtd']) {
          const cells = json.rows.find((r) => r.key.dataset === dataset && r.key.method === method)?.cells;
          expect(cells?.base?.mean).toBeCloseTo(by(dataset, method, 'base'), 10);
          expect(cells?.novel?.mean).toBeCloseTo(by(dataset, method, 'novel'), 10);
          expect(cells?.base?.n).toBe(2);
          expect(cells?.HM?.mean).toBeCloseTo(hm(by(dataset, method, 'base'), by(dataset, method, 'novel')), 10);
        }
        const base = mean(['eurosat', 'dtd'].map((d) => by(d, method, 'base')));
        const novel = mean(['eurosat', 'dtd'].map((d) => by(d, method, 'novel')));
        const average = json.rows.find((r) => r.key.dataset === 'average' && r.key.method === method)?.cells;
        expect(average?.base?.mean).toBeCloseTo(base, 10);
        expect(average?.novel?.mean).toBeCloseTo(novel, 10);
        expect(average?.HM?.mean).toBeCloseTo(hm(base, novel), 10);
      }
      // Zero-shot trains nothing: both seeds score the same.
      expect(json.rows.find((r) => r.key.dataset === 'dtd' && r.key.method === 'zeroshot')?.cells.base?.std).toBe(0);
      const coop = json.rows.find((r) => r.key.dataset === 'average' && r.key.method === 'coop')?.cells;
      expect(coop?.base?.published?.value).toBe(82.69);
      expect(coop?.base?.published?.diff).toBeCloseTo((coop?.base?.mean ?? 0) - 82.69, 10);
      expect(coop?.HM?.published?.value).toBe(71.66);
      expect(json.sources[0]?.source).toContain('MaPLe README');
      expect(json.notes[0]).toBe('seeds: 1, 2 (2 planned per cell)');

      const table = await results(sweep.name, '--published');
      expect(table).toMatch(/^dataset +method +base +novel +HM$/m);
      expect(table).toMatch(/^average +coop .*\(pub 82\.69 \[\d\], Δ [-+]\d/m);
      expect(table).toMatch(/\n\[1\] MaPLe README/);
      expect(table).toContain('seeds: 1, 2 (2 planned per cell)');
    });
  });

  it('cross-dataset: one source, every target stored per trial, the average over the targets', async () => {
    const sweep = await launch('xd', {
      protocol: { name: 'cross-dataset', targets: ['dtd', 'oxford_pets'] },
      base: { ...tinyBase(h.dataRoot, { epochs: true }), method: 'coop' },
      datasets: ['eurosat'],
      shots: [2],
      seeds: [1, 2],
    });
    expect(sweep.counts).toMatchObject({ total: 2, succeeded: 2 });
    const rows = await rowsOf(sweep.sweepId);
    expect(rows.map((r) => [r.seed, r.evalDataset, r.classSubset])).toEqual([
      [1, 'dtd', 'all'],
      [1, 'eurosat', 'all'],
      [1, 'oxford_pets', 'all'],
      [2, 'dtd', 'all'],
      [2, 'eurosat', 'all'],
      [2, 'oxford_pets', 'all'],
    ]);
    const json = JSON.parse(await results(sweep.name, '--format', 'json')) as PivotJson;
    expect(json.columns).toEqual(['eurosat', 'dtd', 'oxford_pets']);
    expect(json.averageLabel).toBe('average (targets)');
    const of = (target: string) => mean(rows.filter((r) => r.evalDataset === target).map((r) => r.top1));
    expect(json.rows[0]?.cells.dtd?.mean).toBeCloseTo(of('dtd'), 10);
    expect(json.rows[0]?.average?.mean).toBeCloseTo((of('dtd') + of('oxford_pets')) / 2, 10);
  });

  it('domain-generalization: the source and its domain-shifted target, with a view of its own', async () => {
    const sweep = await launch('dg', {
      protocol: { name: 'domain-generalization', targets: ['synth_target'] },
      base: { ...tinyBase(h.dataRoot, { epochs: true }), method: 'coop' },
      datasets: ['synth_shape'],
      shots: [2],
      seeds: [1],
    });
    expect(sweep.counts).toMatchObject({ total: 1, succeeded: 1 });
    const rows = await rowsOf(sweep.sweepId);
    expect(rows.map((r) => r.evalDataset)).toEqual(['synth_shape', 'synth_target']);
    const json = JSON.parse(await results(sweep.name, '--format', 'json')) as PivotJson;
    expect(json.columns).toEqual(['synth_shape', 'synth_target']);
    expect(json.rows[0]?.average?.mean).toBeCloseTo(rows[1]?.top1 ?? Number.NaN, 10);
    await expect(results(sweep.name, '--view', 'base-to-novel')).rejects.toThrow(
      /view base-to-novel is for protocol base-to-novel/,
    );
  });
});
