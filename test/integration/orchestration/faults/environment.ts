import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll } from 'vitest';
import { launchSweep, workflowIdFor } from '../../../../cli/sweeps/launch.ts';
import type { Stack } from '../../../../cli/sweeps/stack.ts';
import type { SweepResult } from '../../../../contract/sweep-workflow.ts';
import { type Database, openDatabase } from '../../../../db/client.ts';
import { createGpuWorker, createOrchestratorWorker } from '../../../../worker/workers.ts';
import type { sweepWorkflow } from '../../../../workflows/sweep.ts';
import { createScratchPostgres } from '../../db/backends.ts';
import { type FaultCounts, injectFaults } from './inject.ts';
import { WorkerProcesses } from './processes.ts';
import type { Fault } from './schedule.ts';
import {
  type CrashablePostgres,
  type CrashableTemporal,
  postgresBin,
  startCrashablePostgres,
  startCrashableTemporal,
  temporalCli,
} from './services.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Temporal server and a PostgreSQL cluster that a test may crash and restart, and what it needs around them. */
export interface FaultEnvironment {
  dir: string;
  dataRoot: string;
  temporal: CrashableTemporal;
  postgres: CrashablePostgres;
  client: Client;
  /** Run at the end of the file, last added first. */
  cleanups: Array<() => Promise<void>>;
  /** A stack on the database at `url` (migrated), closed at the end. */
  openStack(url: string): Promise<Stack>;
  /** Starts an in-process worker; the returned function stops it (and its trainer processes). */
  runWorker(worker: Worker & { trainers?: { close(): Promise<void> } }): () => Promise<void>;
  /** The workflow's result; the client's calls fail while the Temporal server is down, so they are repeated. */
  resultOf(sweepId: string): Promise<SweepResult>;
  /**
   * The reference: the sweep `file(queue)` writes, uninterrupted, on a scratch database of the suite's PostgreSQL
   * server with in-process workers, which are stopped afterwards (one orchestrator may serve this server's queue
   * "sweeps" at a time: it is bound to one database).
   */
  runReference(file: (queue: string) => Promise<string>): Promise<{ db: Database; sweepId: string }>;
  /**
   * The same kind of sweep on the cluster this file can restart, launched with two `dpt-sweep worker` processes (a
   * test kills and replaces them) and an in-process orchestrator; returns before it ends.
   */
  launchFaulted(file: (queue: string) => Promise<string>): Promise<Faulted>;
  /**
   * Applies `schedule` to a faulted sweep (faults/inject.ts), waits for its end and stops its workers; `died` are
   * workers that exited without being killed.
   */
  sufferFaults(
    faulted: Faulted,
    schedule: Fault[],
    epochsPerTrial: number,
  ): Promise<{ injected: FaultCounts; result: SweepResult; died: string[] }>;
}

export interface Faulted {
  db: Database;
  sweepId: string;
  queue: string;
  workers: WorkerProcesses;
}

/** Heartbeat timeout of every attempt: short, so that a killed worker's trials move on within seconds. */
export const HEARTBEAT_TIMEOUT = '4 seconds';

/**
 * For the enclosing describe block: servers this file owns (restarts need them; without the binaries CI must fail,
 * not skip), a scratch folder with the datasets `writeData` puts under its data root, all torn down after.
 */
export function useFaultEnvironment(
  tag: string,
  writeData: (dataRoot: string) => Promise<unknown>,
  log: (line: string) => void,
): () => FaultEnvironment {
  let env: FaultEnvironment | undefined;
  let connection: Connection | undefined;
  beforeAll(async () => {
    const pgBin = postgresBin();
    const cli = temporalCli();
    if (!pgBin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql (needed to restart one)');
    if (!cli) throw new Error('no Temporal CLI (TEMPORAL_CLI_PATH or ~/.cache/dpt-sweep/bin/temporal)');
    const dir = await mkdtemp(path.join(tmpdir(), `dpt-${tag}-`));
    const dataRoot = path.join(dir, 'data');
    await writeData(dataRoot);
    const temporal = await startCrashableTemporal(cli, dir);
    const postgres = await startCrashablePostgres(pgBin);
    connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection, namespace: temporal.namespace });
    const cleanups: Array<() => Promise<void>> = [];
    env = {
      dir,
      dataRoot,
      temporal,
      postgres,
      client,
      cleanups,
      async openStack(url) {
        const db = await openDatabase({ url, migrations: 'apply' });
        cleanups.push(() => db.close());
        return { db, client, temporal, ownsWorkers: false, close: async () => {} };
      },
      runWorker(worker) {
        const running = worker.run();
        const stop = async () => {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running.catch(() => {});
          await worker.trainers?.close();
        };
        cleanups.push(stop);
        return stop;
      },
      async runReference(file) {
        const scratch = await createScratchPostgres();
        cleanups.push(() => scratch.drop());
        const ref = await env!.openStack(scratch.url);
        const queue = `gpu-ref-${tag}-${process.pid}`;
        const stopOrchestrator = env!.runWorker(await createOrchestratorWorker(temporal, ref.db));
        const stopGpu = env!.runWorker(
          await createGpuWorker(temporal, ref.db, {
            queue,
            slots: 2,
            useGpus: false,
            workerId: 'reference',
            heartbeatEveryMs: 500,
          }),
        );
        const launched = await launchSweep(ref, await file(queue), { heartbeatTimeout: HEARTBEAT_TIMEOUT });
        const result = await env!.resultOf(launched.sweepId);
        if (result.status !== 'succeeded') throw new Error(`the reference sweep ended ${result.status}`);
        await stopGpu();
        await stopOrchestrator();
        return { db: ref.db, sweepId: launched.sweepId };
      },
      async launchFaulted(file) {
        const url = await postgres.createDatabase(`dpt_${tag.replaceAll('-', '_')}_${randomBytes(4).toString('hex')}`);
        const faulted = await env!.openStack(url);
        const queue = `gpu-${tag}-${process.pid}`;
        env!.runWorker(await createOrchestratorWorker(temporal, faulted.db));
        const workers = new WorkerProcesses({
          // The expected failures of killed attempts would fill the log; the test logs each fault itself.
          DPT_LOG_LEVEL: process.env.DPT_LOG_LEVEL ?? 'ERROR',
          TEMPORAL_ADDRESS: temporal.address,
          DATABASE_URL: url,
        });
        cleanups.push(() => workers.killAll());
        for (let i = 0; i < 2; i++) workers.start(queue);
        const launched = await launchSweep(faulted, await file(queue), { heartbeatTimeout: HEARTBEAT_TIMEOUT });
        return { db: faulted.db, sweepId: launched.sweepId, queue, workers };
      },
      async sufferFaults(faulted, schedule, epochsPerTrial) {
        const injected = await injectFaults(schedule, {
          pool: faulted.db.pool,
          sweepId: faulted.sweepId,
          epochsPerTrial,
          queue: faulted.queue,
          workers: faulted.workers,
          temporal,
          postgres,
          stallMs: 180_000,
          log,
        });
        const result = await env!.resultOf(faulted.sweepId);
        const died = [...faulted.workers.died];
        await faulted.workers.killAll();
        return { injected, result, died };
      },
      async resultOf(sweepId) {
        const handle = client.workflow.getHandle<typeof sweepWorkflow>(workflowIdFor(sweepId));
        for (let tries = 0; ; tries++) {
          try {
            return await handle.result();
          } catch (err) {
            if (tries >= 20) throw err;
            log(`waiting for the result again (${err instanceof Error ? err.message : String(err)})`);
            await sleep(1_000);
          }
        }
      },
    };
  });
  afterAll(async () => {
    for (const cleanup of (env?.cleanups ?? []).reverse()) await cleanup().catch(() => {});
    await connection?.close().catch(() => {});
    await env?.temporal.stop();
    await env?.postgres.stop();
    if (env) await rm(env.dir, { recursive: true, force: true });
  });
  return () => {
    if (!env) throw new Error('the fault environment is set up in beforeAll; use it inside a test');
    return env;
  };
}
