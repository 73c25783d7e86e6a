/**
 * `npx tsx bench/db.ts`: bulk ingest into the real PostgreSQL (`DATABASE_URL`, in a scratch database created and
 * dropped here) and the latency of the per-cell aggregation. Prints JSON.
 *   - 100k TrialResult rows (one source-split result for each of 100k planned trials) and 1M EpochMetric rows
 *     (10k trials x 100 epochs), through the repositories' multi-row upserts;
 *   - p50/p95 over 20 runs of cellStats over the 100k results.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { cellStats, type Factor } from '../db/ablation.ts';
import { openDatabase } from '../db/client.ts';
import { planTrials, type TrialInput, upsertEpochMetrics, upsertManyResults, upsertSweep } from '../db/repositories.ts';
import { METHODS, SOURCE_DATASETS } from '../dpt/trial-config.ts';

const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  console.error('bench/db.ts needs DATABASE_URL (a PostgreSQL server whose role may CREATE DATABASE)');
  process.exit(2);
}

const RESULTS = 100_000;
const METRIC_TRIALS = 10_000;
const EPOCHS = 100;
const BATCH = 10_000;

const name = `dpt_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;

const methods = METHODS;
const datasets = SOURCE_DATASETS;
const shots = [1, 2, 4, 8, 16];
const lengths = [0, 1, 5, 10, 20, 50, 100];
const kNs = [5, 10, 15, 20];
const alphas = [0.1, 0.3, 0.5, 0.7, 1.0];
const seeds = [1, 2, 3];

function* grid(): Generator<TrialInput> {
  let i = 0;
  for (const alpha of alphas)
    for (const kN of kNs)
      for (const cavptLength of lengths)
        for (const s of shots)
          for (const dataset of datasets)
            for (const method of methods)
              for (const seed of seeds) {
                yield {
                  configKey: (i++).toString(16).padStart(64, '0'),
                  method,
                  dataset,
                  backbone: 'ViT-B/32',
                  shots: s,
                  seed,
                  lr: 0.01,
                  lrText: 0.002,
                  cavptMode: 'top-down',
                  cavptLayers: 1,
                  cavptLength,
                  kN,
                  alpha,
                  beta: 0.1,
                  epochs: 100,
                  config: { preset: 'paper-vitb32' },
                };
              }
}

const db = await openDatabase({ url: url.toString(), migrations: 'apply', poolMax: 4 });
try {
  const sweepId = await upsertSweep(db.pool, {
    name: 'bench',
    spec: {},
    specHash: 'h',
    maxParallel: 8,
    codeVersion: 'bench',
  });
  const trials: TrialInput[] = [];
  for (const trial of grid()) {
    if (trials.length === RESULTS) break;
    trials.push(trial);
  }
  let t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < trials.length; i += BATCH)
    ids.push(...(await planTrials(db.pool, sweepId, trials.slice(i, i + BATCH))));
  const trialSeconds = (performance.now() - t0) / 1000;

  t0 = performance.now();
  for (let i = 0; i < ids.length; i += BATCH) {
    await upsertManyResults(
      db.pool,
      ids.slice(i, i + BATCH).map((trialId, j) => ({
        trialId,
        evalDataset: trials[i + j]?.dataset as string,
        split: 'test',
        correct: 500 + (((i + j) * 7919) % 500),
        total: 1000,
      })),
    );
  }
  const resultSeconds = (performance.now() - t0) / 1000;

  t0 = performance.now();
  const metricBatch = BATCH * 2;
  let pending: Parameters<typeof upsertEpochMetrics>[1] = [];
  for (let t = 0; t < METRIC_TRIALS; t++) {
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      pending.push({
        trialId: ids[t] as string,
        epoch,
        loss: 2 / (epoch + 1),
        lossMain: 1.5 / (epoch + 1),
        lossCavpt: 0.5 / (epoch + 1),
        lrText: 0.002,
        lrVisual: 0.01,
        trainAcc: epoch,
        seconds: 1.5,
      });
      if (pending.length === metricBatch) {
        await upsertEpochMetrics(db.pool, pending);
        pending = [];
      }
    }
  }
  if (pending.length > 0) await upsertEpochMetrics(db.pool, pending);
  const metricSeconds = (performance.now() - t0) / 1000;
  await db.pool.query('ANALYZE');

  async function latency(factors: Factor[]) {
    const times: number[] = [];
    let cells = 0;
    for (let run = 0; run < 21; run++) {
      const start = performance.now();
      const report = await cellStats(db.pool, { sweepIds: [sweepId], factors });
      if (run > 0) times.push(performance.now() - start); // run 0 warms the connection and plan cache
      cells = report.cells.length;
    }
    times.sort((a, b) => a - b);
    const pct = (p: number) =>
      Number((times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)] ?? 0).toFixed(1));
    return { factors, cells, runs: times.length, p50Ms: pct(0.5), p95Ms: pct(0.95) };
  }

  const counts = await db.pool.query(
    `SELECT (SELECT count(*)::int FROM "TrialResult") AS results, (SELECT count(*)::int FROM "EpochMetric") AS metrics`,
  );
  const server = await db.pool.query<{ server_version: string }>('SHOW server_version');
  console.log(
    JSON.stringify(
      {
        server: `PostgreSQL ${server.rows[0]?.server_version}`,
        rows: counts.rows[0],
        ingest: {
          trials: {
            rows: trials.length,
            seconds: Number(trialSeconds.toFixed(2)),
            rowsPerSecond: Math.round(trials.length / trialSeconds),
          },
          trialResults: {
            rows: RESULTS,
            seconds: Number(resultSeconds.toFixed(2)),
            rowsPerSecond: Math.round(RESULTS / resultSeconds),
          },
          epochMetrics: {
            rows: METRIC_TRIALS * EPOCHS,
            seconds: Number(metricSeconds.toFixed(2)),
            rowsPerSecond: Math.round((METRIC_TRIALS * EPOCHS) / metricSeconds),
          },
          batchRows: { trials: BATCH, results: BATCH, epochMetrics: metricBatch },
        },
        aggregation: [
          await latency(['method', 'dataset', 'shots', 'cavptLength']),
          await latency(['method', 'dataset', 'shots', 'cavptLength', 'kN', 'alpha']),
        ],
        targetP50Ms: 100,
      },
      null,
      2,
    ),
  );
} finally {
  await db.close();
  // BENCH_KEEP_DB=1 keeps the data for EXPLAIN sessions.
  if (process.env.BENCH_KEEP_DB === '1') console.error(`kept database ${name}`);
  else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
