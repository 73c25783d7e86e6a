/**
 * Orchestration overhead: zero-shot trials on a tiny generated dataset (the trainer's own work is a few milliseconds),
 * run as real sweeps on a Temporal dev server and PostgreSQL, with 1, 2 and 4 trainer slots.
 * Prints JSON: trials/s and, per trial, p50/p95 of
 *   queueMs    activity scheduled (workflow history) -> attempt opened by the worker (database)
 *   trainMs    attempt opened -> result row stored (trainer dispatch, evaluation, result write)
 *   totalMs    scheduled -> result stored
 * Usage: DATABASE_URL=postgres://… npx tsx bench/orchestration.ts [--trials 200]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import YAML from 'yaml';
import { launchSweep, workflowIdFor } from '../cli/sweeps/launch.ts';
import type { Stack } from '../cli/sweeps/stack.ts';
import { writeTinyDataset } from '../data/synthetic/shapes-dataset.ts';
import { openDatabase } from '../db/client.ts';
import { obtainTemporal } from '../worker/dev/temporal-server.ts';
import { createGpuWorker, createOrchestratorWorker, installWorkerLogging } from '../worker/workers.ts';
import type { sweepWorkflow } from '../workflows/sweep.ts';

const trialsArg = process.argv.indexOf('--trials');
const TRIALS = trialsArg > 0 ? Number(process.argv[trialsArg + 1]) : 200;
const SLOTS = [1, 2, 4];
const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) throw new Error('set DATABASE_URL to a PostgreSQL server whose role may CREATE DATABASE');

installWorkerLogging('ERROR');
const dir = await mkdtemp(path.join(tmpdir(), 'dpt-bench-orch-'));
const dataRoot = path.join(dir, 'data');
await writeTinyDataset({ root: dataRoot, classes: 3, perClass: { train: 2, val: 1, test: 3 } });
const dbName = `dpt_bench_${process.pid}`;
const admin = new pg.Client({ connectionString: baseUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(baseUrl);
url.pathname = `/${dbName}`;
const db = await openDatabase({ url: url.toString(), migrations: 'apply' });
const temporal = await obtainTemporal({ allowSdkDownload: false });
const connection = await Connection.connect({ address: temporal.address });
const client = new Client({ connection, namespace: temporal.namespace });
const stack: Stack = { db, client, temporal, ownsWorkers: false, close: async () => {} };

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};
const summary = (values: number[]) => ({
  p50: Number(quantile(values, 0.5).toFixed(1)),
  p95: Number(quantile(values, 0.95).toFixed(1)),
});

const runs = [];
try {
  for (const slots of SLOTS) {
    const queue = `bench-gpu-${slots}`;
    const orchestrator = await createOrchestratorWorker(temporal, db);
    const gpu = await createGpuWorker(temporal, db, { queue, slots, useGpus: false, workerId: `bench-${slots}` });
    const running = [orchestrator.run(), gpu.run()];
    const file = path.join(dir, `bench-${slots}.yaml`);
    await writeFile(
      file,
      YAML.stringify({
        name: `bench-${slots}-${process.pid}`,
        base: { method: 'zeroshot', preset: 'none', model: path.resolve('test/fixtures/clip/tiny-a-hf'), dataRoot },
        datasets: ['eurosat'],
        shots: [1],
        seeds: Array.from({ length: TRIALS }, (_, i) => i + 1),
        resources: { maxParallel: slots, taskQueue: queue },
        reuse: false,
      }),
    );
    // Each slot's first trial also pays its trainer's process start and model load (visible in p95, not p50).
    const started = Date.now();
    const launched = await launchSweep(stack, file);
    const handle = client.workflow.getHandle<typeof sweepWorkflow>(workflowIdFor(launched.sweepId));
    const result = await handle.result();
    const seconds = (Date.now() - started) / 1000;

    const scheduled = new Map<string, number>();
    let runId: string | undefined = (await handle.describe()).runId;
    // Follow the continue-as-new chain backwards through every run's history.
    const runIds: string[] = [];
    while (runId) {
      runIds.push(runId);
      const history: Awaited<ReturnType<typeof handle.fetchHistory>> = await client.workflow
        .getHandle(workflowIdFor(launched.sweepId), runId)
        .fetchHistory();
      const first: { continuedExecutionRunId?: string | null } | null | undefined =
        history.events?.[0]?.workflowExecutionStartedEventAttributes;
      for (const e of history.events ?? []) {
        const attrs = e.activityTaskScheduledEventAttributes;
        if (attrs?.activityType?.name !== 'trainTrial') continue;
        const trialId = JSON.parse(Buffer.from(attrs.input?.payloads?.[0]?.data ?? []).toString()) as string;
        scheduled.set(trialId, Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6));
      }
      runId = first?.continuedExecutionRunId || undefined;
    }
    const { rows } = await db.pool.query<{ trialId: string; startedAt: Date; storedAt: Date }>(
      `SELECT a."trialId", a."startedAt", r."createdAt" AS "storedAt"
         FROM "TrialAttempt" a JOIN "TrialResult" r ON r."trialId" = a."trialId"
         JOIN "Trial" t ON t.id = a."trialId" WHERE t."sweepId" = $1`,
      [launched.sweepId],
    );
    const queueMs: number[] = [];
    const trainMs: number[] = [];
    const totalMs: number[] = [];
    for (const row of rows) {
      const at = scheduled.get(row.trialId);
      if (at === undefined) continue;
      queueMs.push(row.startedAt.getTime() - at);
      trainMs.push(row.storedAt.getTime() - row.startedAt.getTime());
      totalMs.push(row.storedAt.getTime() - at);
    }
    runs.push({
      slots,
      trials: result.run.launched,
      succeeded: result.counts.succeeded,
      continuedAsNew: result.continuedAsNew,
      historyRuns: runIds.length,
      seconds: Number(seconds.toFixed(2)),
      trialsPerSecond: Number((result.run.launched / seconds).toFixed(2)),
      measured: totalMs.length,
      queueMs: summary(queueMs),
      trainMs: summary(trainMs),
      totalMs: summary(totalMs),
    });
    orchestrator.shutdown();
    gpu.shutdown();
    await Promise.allSettled(running);
    await gpu.trainers.close();
  }
} finally {
  await connection.close();
  await db.close();
  await temporal.stop();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify({ trialsPerRun: TRIALS, temporal: temporal.source, runs }, null, 2)}\n`);
process.exit(0);
