/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * Dashboard latency on a scratch PostgreSQL database seeded with 10k trials and 100k results: API p50/p95 for the
 * sweep page and each view, and the time until every chart of the sweep page is drawn in headless Chromium.
 * Usage: DATABASE_URL=postgres://… npx tsx bench/dashboard.ts [--iterations 20]. Prints JSON.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { startDashboard } from '../dashboards/server.ts';
import { openDatabase } from '../db/client.ts';
import { planTrials, type TrialInput, upsertManyResults, upsertSweep } from '../db/repositories.ts';
import { createScratchPostgres } from '../test/integration/db/backends.ts';
import { hasChromium, launchChromium } from '../test/support/chromium.ts';

const iterations = Number(process.argv[process.argv.indexOf('--iterations') + 1] ?? 20) || 20;
const DATASETS = ['imagenet', 'caltech101', 'oxford_pets', 'stanford_cars', 'flowers102', 'food101', 'fgvc_aircraft'];
const DATASETS_ALL = [...DATASETS, 'sun397', 'dtd', 'eurosat'];
const METHODS = ['dpt', 'coop'];
const SHOTS = [1, 2, 4, 8, 16];
const LENGTHS = [1, 4, 10, 20, 30];
const SEEDS = 20;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

async function main() {
  const scratch = await createScratchPostgres();
  const db = await openDatabase({ url: scratch.url, migrations: 'apply' });
  try {
    const seedStart = performance.now();
    const sweepId = await upsertSweep(db.pool, {
      name: 'bench',
      spec: {},
      specHash: 'b',
      maxParallel: 8,
      codeVersion: 'v',
    });
    const trials: TrialInput[] = [];
    for (const method of METHODS)
      for (const dataset of DATASETS_ALL)
        for (const shots of SHOTS)
          for (const cavptLength of LENGTHS)
            for (let seed = 1; seed <= SEEDS; seed++)
              trials.push({
                configKey: createHash('sha256')
                  .update(`${method}/${dataset}/${shots}/${cavptLength}/${seed}`)
                  .digest('hex'),
                method,
                dataset,
                backbone: 'ViT-B/16',
                shots,
                seed,
                lr: 0.002,
                cavptLength,
                epochs: 10,
                // Ten evaluation datasets per trial: 100k results in all.
                evalDatasets: [dataset, ...DATASETS_ALL.filter((d) => d !== dataset)],
                config: {},
              });
    const ids: string[] = [];
    for (let i = 0; i < trials.length; i += 1000)
      ids.push(...(await planTrials(db.pool, sweepId, trials.slice(i, i + 1000))));
    await db.pool.query(
      `UPDATE "Trial" SET status = 'succeeded', attempts = 1, "durationMs" = (random() * 600000)::int WHERE "sweepId" = $1`,
      [sweepId],
    );
    const results = trials.flatMap((trial, i) =>
      (trial.evalDatasets ?? []).map((evalDataset) => ({
        trialId: ids[i] as string,
        evalDataset,
        split: 'test',
        correct: 40 + ((i * 7 + evalDataset.length * 13) % 55),
        total: 100,
      })),
    );
    for (let i = 0; i < results.length; i += 5000) await upsertManyResults(db.pool, results.slice(i, i + 5000));
    await db.pool.query('ANALYZE');
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const server = await startDashboard({ db, port: 0 });
    const endpoints: Record<string, string> = {
      sweeps: '/api/sweeps',
      sweep: '/api/sweeps/bench',
      'trials page 1': '/api/sweeps/bench/trials?pageSize=50',
      'trials sorted by top1, filtered':
        '/api/sweeps/bench/trials?pageSize=50&sort=top1&dir=desc&dataset=eurosat&page=3',
      'trials page 150': '/api/sweeps/bench/trials?pageSize=50&page=150&sort=durationMs',
      'parallel coordinates (10k-line cap)': '/api/sweeps/bench/parallel',
      'missing-cell map': '/api/sweeps/bench/missing-cells',
      'results tables': '/api/sweeps/bench/tables',
      'trial page': `/api/trials/${ids[0]}`,
    };
    const sweep = (await (await fetch(`${server.url}/api/sweeps/bench`)).json()) as { views: string[] };
    for (const view of sweep.views) endpoints[`view ${view}`] = `/api/sweeps/bench/views/${view}`;
    const api: Record<string, { p50: number; p95: number }> = {};
    for (const [name, path] of Object.entries(endpoints)) {
      const times: number[] = [];
      for (let i = 0; i < iterations + 1; i++) {
        const start = performance.now();
        const response = await fetch(`${server.url}${path}`);
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
        if (i > 0) times.push(performance.now() - start); // the first call warms caches and plans
      }
      times.sort((a, b) => a - b);
      api[name] = { p50: round(percentile(times, 0.5)), p95: round(percentile(times, 0.95)) };
    }

    let browser: Record<string, number> | string = 'skipped: /usr/bin/chromium not installed';
    if (hasChromium()) {
      const { context, profile } = await launchChromium('dpt-bench-chromium-');
      const page = context.pages()[0] ?? (await context.newPage());
      const runs: number[] = [];
      const firstChart: number[] = [];
      for (let i = 0; i < 5; i++) {
        await page.goto('about:blank');
        const start = performance.now();
        await page.goto(`${server.url}/#/sweeps/bench`);
        await page.waitForSelector('.chart[data-rendered="true"]', { timeout: 60_000 });
        firstChart.push(performance.now() - start);
        await page.waitForFunction(
          () => {
            const parts = ['#tables', '#views', '#overview'].map((sel) => document.querySelector(sel));
            const charts = [...document.querySelectorAll('.chart:not(#curve)')] as HTMLElement[];
            return (
              parts.every((part) => part?.getAttribute('data-loaded') === 'true') &&
              document.querySelectorAll('#trial-table tbody tr').length === 50 &&
              charts.every((chart) => chart.dataset.rendered === 'true')
            );
          },
          undefined,
          { timeout: 60_000 },
        );
        runs.push(performance.now() - start);
      }
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      runs.sort((a, b) => a - b);
      firstChart.sort((a, b) => a - b);
      browser = {
        firstChartMsMedian: round(percentile(firstChart, 0.5)),
        pageCompleteMsMedian: round(percentile(runs, 0.5)),
        pageCompleteMsMax: round(runs[runs.length - 1] ?? Number.NaN),
        runs: runs.length,
      };
    }
    await server.close();
    console.log(
      JSON.stringify(
        {
          trials: trials.length,
          results: results.length,
          seedSeconds: round(seedSeconds),
          iterations,
          apiMs: api,
          chromium: browser,
        },
        null,
        2,
      ),
    );
  } finally {
    await db.close();
    await scratch.drop();
  }
}

const round = (value: number | undefined) => Math.round((value ?? Number.NaN) * 10) / 10;

await main();
