import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import YAML from 'yaml';
import type { Stack } from '../../../cli/sweeps/stack.ts';
import { openDatabase } from '../../../db/client.ts';
import type { TrainerPool } from '../../../trainer-host/pool.ts';
import { createGpuWorker, createOrchestratorWorker, type GpuWorkerOptions } from '../../../worker/workers.ts';
import { writeTinyDataset } from '../../support/tiny-dataset.ts';
import { createScratchPostgres } from '../db/backends.ts';

export const TINY_CLIP_DIR = path.resolve('test/fixtures/clip/tiny-a-hf');

/**
 * A real sweep environment: a scratch database on the real PostgreSQL server, the suite's real Temporal server, a
 * generated CoOp-layout dataset and the tiny CLIP fixture. GPU workers are started by the test (it may kill them).
 */
export interface Harness {
  stack: Stack;
  dir: string;
  dataRoot: string;
  /** DATABASE_URL of the scratch database, for worker processes the test starts. */
  databaseUrl: string;
  /** A unique GPU task queue, so parallel test files never steal each other's trials. */
  gpuQueue: string;
  writeSweep(name: string, body: Record<string, unknown>): Promise<string>;
  startGpuWorker(options?: Partial<GpuWorkerOptions>): Promise<Worker & { trainers: TrainerPool }>;
  dispose(): Promise<void>;
}

export async function createHarness(tag: string): Promise<Harness> {
  const dir = await mkdtemp(path.join(tmpdir(), `dpt-orch-${tag}-`));
  const dataRoot = path.join(dir, 'data');
  await writeTinyDataset({
    root: dataRoot,
    classes: ['red', 'green', 'blue'],
    perClass: { train: 4, val: 1, test: 3 },
  });
  const scratch = await createScratchPostgres();
  const db = await openDatabase({ url: scratch.url, migrations: 'apply' });
  const temporal = { address: inject('temporalAddress'), namespace: inject('temporalNamespace') };
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  const gpuQueue = `gpu-${tag}-${process.pid}-${Date.now()}`;

  const workers: Worker[] = [];
  const pools: TrainerPool[] = [];
  const runs: Promise<void>[] = [];
  const start = <W extends Worker>(worker: W): W => {
    workers.push(worker);
    runs.push(worker.run());
    if ('trainers' in worker) pools.push(worker.trainers as TrainerPool);
    return worker;
  };
  start(await createOrchestratorWorker(temporal, db));

  const stack: Stack = { db, client, temporal, ownsWorkers: false, close: async () => {} };
  return {
    stack,
    dir,
    dataRoot,
    databaseUrl: scratch.url,
    gpuQueue,
    async writeSweep(name, body) {
      const file = path.join(dir, `${name}.yaml`);
      await writeFile(file, YAML.stringify({ name: `${name}-${process.pid}-${Date.now()}`, ...body }));
      return file;
    },
    async startGpuWorker(options = {}) {
      return start(
        await createGpuWorker(temporal, db, {
          queue: gpuQueue,
          slots: 2,
          useGpus: false,
          workerId: `test-${workers.length}`,
          heartbeatEveryMs: 500,
          ...options,
        }),
      );
    },
    async dispose() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(runs);
      await Promise.all(pools.map((p) => p.close()));
      await connection.close();
      await db.close();
      await scratch.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The base of a fast sweep on the tiny dataset: a two-epoch schedule, tiny prompts. Sweep files reject settings no
 * method of the sweep uses, so the schedule keys come only with the methods that read them.
 */
export function tinyBase(
  dataRoot: string,
  uses: { epochs?: boolean; warmup?: boolean } = { epochs: true, warmup: true },
): Record<string, unknown> {
  return {
    preset: 'none',
    model: TINY_CLIP_DIR,
    dataRoot,
    ...(uses.epochs ? { epochs: 2 } : {}),
    ...(uses.warmup ? { warmupEpochs: 1, lrWarmupEpochs: 0 } : {}),
    trial: { text: { nCtx: 4 }, vpt: { length: 2 }, cavpt: { kN: 2 } },
  };
}

/**
 * A GPU worker in its own process, as on a GPU machine (`dpt-sweep worker --cpu`, checkpointing every epoch), on the
 * harness's queue and database: a test can SIGKILL it.
 */
export function spawnWorkerProcess(h: Harness, slots = 1): ChildProcess {
  return spawn(
    process.execPath,
    ['bin/dpt-sweep.js', 'worker', '--queue', h.gpuQueue, '--slots', String(slots), '--cpu', '--checkpoint-every', '1'],
    {
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), DATABASE_URL: h.databaseUrl },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}
