import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import YAML from 'yaml';
import { writeSweepPlan } from '../../../cli/sweeps/launch.ts';
import { type Database, openDatabase } from '../../../db/client.ts';
import { beginAttempt, transitionTrial, upsertResults } from '../../../db/repositories.ts';
import { AXES, type AxisKey, type AxisValue } from '../../../sweep/axes.ts';
import { factorNamed } from '../../../sweep/factors.ts';
import { planSweepText } from '../../../sweep/plan.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { createScratchPostgres } from '../db/backends.ts';

const run = promisify(execFile);
const CLI = path.resolve('bin/dpt-sweep.js');
const TINY_CLIP = path.resolve('test/fixtures/clip/tiny-a-hf');

/** Two legal values per sweep axis, neither the base's; the tiny CLIP has 2 vision blocks and 16 text positions. */
const VALUES: Record<AxisKey, [AxisValue, AxisValue]> = {
  method: ['coop', 'dpt'],
  lr: [0.001, 0.02],
  lrText: [0.0005, 0.008],
  'cavpt.mode': ['top-down', 'bottom-up'],
  'cavpt.layers': [1, 2],
  'cavpt.length': [1, 3],
  kN: [2, 4],
  'cavpt.ctxTokens': [0, 5],
  alpha: [0.1, 1],
  beta: [0.5, 1],
  epochs: [2, 3],
  warmupEpochs: [0, 1],
  lrWarmupEpochs: [0, 1],
  'vpt.length': [1, 8],
  'text.nCtx': [2, 4],
  batchSize: [2, 4],
};
const SEEDS = [1, 2, 3];
/** Correct out of 100 per seed, on top of 50 + 10 × (index of the axis value): mean +3, sample std sqrt(13). */
const SEED_OFFSETS = [0, 2, 7];
const SAMPLE_STD = Math.sqrt(((0 - 3) ** 2 + (2 - 3) ** 2 + (7 - 3) ** 2) / 2);

function sweepText(name: string, vary: Record<string, unknown>): string {
  return YAML.stringify({
    name,
    base: {
      method: 'dpt',
      preset: 'none',
      model: TINY_CLIP,
      dataRoot: '/nonexistent/data',
      epochs: 2,
      warmupEpochs: 1,
      lrWarmupEpochs: 0,
      trial: { text: { nCtx: 3 }, vpt: { length: 2 } },
    },
    datasets: ['eurosat'],
    shots: [2],
    seeds: SEEDS,
    vary: { mode: 'grid', ...vary },
  });
}

interface JsonRow {
  key: Record<string, string | number | null>;
  cells: Record<string, { mean: number; std: number | null; n: number; expectedN: number }>;
}

describeWith(
  'PostgreSQL',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('every sweep axis is a stored factor: one results row per value, through the CLI', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  let db: Database;

  beforeAll(async () => {
    scratch = await createScratchPostgres();
    db = await openDatabase({ url: scratch.url, migrations: 'apply' });
  });
  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  /** Plans the sweep as `launch` does, then records `correct(trial)` out of 100 for every trial as a worker would. */
  async function seedSweep(text: string, correct: (config: Record<string, unknown>, seed: number) => number) {
    const plan = planSweepText(text, 'test sweep');
    const { sweepId } = await writeSweepPlan(db.pool, plan);
    const { rows } = await db.pool.query<{ id: string; seed: number; config: Record<string, unknown> }>(
      `SELECT id, seed, config FROM "Trial" WHERE "sweepId" = $1`,
      [sweepId],
    );
    for (const row of rows) {
      await beginAttempt(db.pool, row.id, 'w');
      await transitionTrial(db.pool, row.id, 'running');
      const value = correct(row.config, row.seed);
      await upsertResults(db.pool, row.id, [{ evalDataset: 'eurosat', split: 'test', correct: value, total: 100 }]);
      await transitionTrial(db.pool, row.id, 'succeeded');
    }
    return { plan, trials: rows.length };
  }

  const results = async (...args: string[]): Promise<{ rowFactors: string[]; rows: JsonRow[]; caption: string }> => {
    const { stdout } = await run('node', [CLI, 'results', ...args, '--format', 'json'], {
      env: { ...process.env, DATABASE_URL: scratch.url },
    });
    return JSON.parse(stdout);
  };

  it.each(Object.keys(VALUES) as AxisKey[])('a sweep varying only %s', async (axis) => {
    const values = VALUES[axis];
    const name = `axis-${axis.replace('.', '-')}`;
    const axisValueIn = (config: Record<string, unknown>): unknown =>
      axis === 'method'
        ? config.method
        : AXES[axis].target.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], config);
    const { trials } = await seedSweep(sweepText(name, { [axis]: values }), (config, seed) => {
      const index = values.indexOf(axisValueIn(config) as AxisValue);
      expect(index).toBeGreaterThanOrEqual(0);
      return 50 + 10 * index + (SEED_OFFSETS[SEEDS.indexOf(seed)] ?? 0);
    });
    expect(trials).toBe(values.length * SEEDS.length);

    const factor = factorNamed(axis) as string;
    for (const args of [[name], [name, '--by', axis]]) {
      const json = await results(...args);
      // K_N and the CAVPT length are one knob (sweep/axes.ts): a K_N sweep's rows may be keyed by the effective length.
      const rowFactor = json.rowFactors[0] as string;
      expect(json.rowFactors).toHaveLength(1);
      if (args.length === 3) expect(rowFactor).toBe(factor);
      else expect([factor, ...(axis === 'kN' ? ['cavptLength'] : [])]).toContain(rowFactor);
      expect(json.rows).toHaveLength(2);
      // Within the dataset, K_N below its 10 classes is the CAVPT length, so either key names the value.
      expect(json.rows.map((row) => row.key[rowFactor]).sort()).toEqual([...values].sort());
      for (const row of json.rows) {
        const index = values.indexOf(row.key[rowFactor] as AxisValue);
        expect(row.cells.eurosat).toMatchObject({ n: 3, expectedN: 3 });
        expect(row.cells.eurosat?.mean).toBeCloseTo(50 + 10 * index + 3, 10);
        expect(row.cells.eurosat?.std).toBeCloseTo(SAMPLE_STD, 10);
      }
    }
  });

  it('the lr x lrText grid gives four cells, each over its own three seeds', async () => {
    const lr = [0.005, 0.01];
    const lrText = [0.002, 0.008];
    const cellIndex = (config: Record<string, unknown>) => {
      const optim = config.optim as { lrVisual: number; lrText: number };
      return 2 * lr.indexOf(optim.lrVisual) + lrText.indexOf(optim.lrText);
    };
    await seedSweep(
      sweepText('lr-grid', { lr, lrText }),
      (config, seed) => 50 + 10 * cellIndex(config) + (SEED_OFFSETS[SEEDS.indexOf(seed)] ?? 0),
    );
    const json = await results('lr-grid');
    expect(json.rowFactors).toEqual(['lr', 'lrText']);
    expect(json.rows.map((row) => [row.key.lr, row.key.lrText, row.cells.eurosat?.n])).toEqual([
      [0.005, 0.002, 3],
      [0.005, 0.008, 3],
      [0.01, 0.002, 3],
      [0.01, 0.008, 3],
    ]);
    json.rows.forEach((row, i) => {
      expect(row.cells.eurosat?.mean).toBeCloseTo(53 + 10 * i, 10);
      expect(row.cells.eurosat?.std).toBeCloseTo(SAMPLE_STD, 10);
    });
    // Asked for lr alone, the table still keeps lrText apart and says so.
    const byLr = await results('lr-grid', '--by', 'lr');
    expect(byLr.rowFactors).toEqual(['lr', 'lrText']);
    expect(byLr.caption).toMatch(/rows also split by lrText/);
  });

  it('refuses, in one line naming the setting, to pool two sweeps that differ in a setting no factor records', async () => {
    const momentum = (value: number) =>
      sweepText(`momentum-${value}`, {}).replace('trial:\n', `trial:\n    optim:\n      momentum: ${value}\n`);
    await seedSweep(momentum(0.9), (_, seed) => 60 + seed);
    await seedSweep(momentum(0.5), (_, seed) => 40 + seed);
    const error = await run('node', [CLI, 'results', 'momentum-0.9', 'momentum-0.5'], {
      env: { ...process.env, DATABASE_URL: scratch.url },
    }).catch((err: { code: number; stderr: string }) => err);
    expect((error as { code: number }).code).toBe(2);
    const stderr = (error as { stderr: string }).stderr.trim();
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/differ in optim\.momentum \((0\.9 vs 0\.5|0\.5 vs 0\.9)\), which is not a factor/);
    // Each sweep alone is one setting.
    expect((await results('momentum-0.5')).rows[0]?.cells.eurosat?.mean).toBeCloseTo(42, 10);
  });

  it('examples/lr.yaml stores its 5 x 3 learning-rate grid as 15 distinct (lr, lrText) cells per dataset', async () => {
    const plan = planSweepText(await readFile('examples/lr.yaml', 'utf8'), 'examples/lr.yaml');
    const cells = new Set(plan.trials.map((t) => `${t.factors.dataset}/${t.factors.lr}/${t.factors.lrText}`));
    expect(cells.size).toBe(15 * 11);
  });
});
