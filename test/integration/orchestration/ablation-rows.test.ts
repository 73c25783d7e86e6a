import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchSweep, workflowIdFor } from '../../../cli/sweeps/launch.ts';
import type { sweepWorkflow } from '../../../workflows/sweep.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { createHarness, type Harness, tinyBase } from './harness.ts';

const run = promisify(execFile);
const CLI = path.resolve('bin/dpt-sweep.js');

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sampleStd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

/*
 * The report of issue 12, as a user ran it: VPT at prompt lengths 1 and 8, two seeds. `results` printed one row that
 * averaged both lengths as if they were seeds; it must print one row per length over that length's own seeds.
 */
describeWith(
  'PostgreSQL + Temporal',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('results of a vpt.length sweep of real trials', () => {
  let h: Harness;
  let sweepId: string;
  let name: string;

  beforeAll(async () => {
    h = await createHarness('vptlen');
    await h.startGpuWorker();
    const file = await h.writeSweep('vptlen', {
      base: { ...tinyBase(h.dataRoot, { epochs: true }), lrWarmupEpochs: 0, method: 'vpt' },
      datasets: ['eurosat'],
      shots: [2],
      seeds: [1, 2],
      vary: { mode: 'grid', 'vpt.length': [1, 8] },
      resources: { maxParallel: 2, taskQueue: h.gpuQueue },
    });
    const launched = await launchSweep(h.stack, file);
    sweepId = launched.sweepId;
    name = launched.name;
    const result = await h.stack.client.workflow.getHandle<typeof sweepWorkflow>(workflowIdFor(sweepId)).result();
    expect(result.counts).toMatchObject({ total: 4, succeeded: 4 });
  });
  afterAll(async () => h?.dispose());

  it('gives one row per length with that length’s mean, sample std and n', async () => {
    const { rows } = await h.stack.db.pool.query<{ vptLength: number; top1: number }>(
      `SELECT t."vptLength", r.top1 FROM "Trial" t JOIN "TrialResult" r ON r."trialId" = t.id
        WHERE t."sweepId" = $1 AND r.split = 'test' ORDER BY t."vptLength", t.seed`,
      [sweepId],
    );
    const byLength = (length: number) => rows.filter((row) => row.vptLength === length).map((row) => row.top1);
    expect(byLength(1)).toHaveLength(2);
    expect(byLength(8)).toHaveLength(2);

    const { stdout } = await run('node', [CLI, 'results', name, '--format', 'json'], {
      env: { ...process.env, DATABASE_URL: h.databaseUrl },
    });
    const json = JSON.parse(stdout) as {
      rowFactors: string[];
      rows: Array<{ key: { vptLength: number }; cells: Record<string, { mean: number; std: number; n: number }> }>;
    };
    expect(json.rowFactors).toEqual(['vptLength']);
    expect(json.rows.map((row) => row.key.vptLength)).toEqual([1, 8]);
    for (const row of json.rows) {
      const values = byLength(row.key.vptLength);
      expect(row.cells.eurosat?.n).toBe(2);
      expect(row.cells.eurosat?.mean).toBeCloseTo(mean(values), 10);
      expect(row.cells.eurosat?.std).toBeCloseTo(sampleStd(values), 10);
    }
  });
});
