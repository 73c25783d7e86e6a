import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { DEFAULT_GPU_QUEUE } from '../../contract/queues.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { obtainTemporal, type TemporalServer, waitUntilServing } from '../../worker/dev/temporal-server.ts';
import { hasConfiguredTemporal, type TemporalConnectOptions } from '../../worker/temporal-config.ts';
import type { WorkerConnection } from '../../worker/workers.ts';

/**
 * Everything a sweep command needs: the results database, a Temporal client, and — on one machine with nothing
 * configured — the embedded stack (a Temporal dev server and in-process workers). A stack started by `dpt-sweep dev`
 * is found through `.dpt-sweep/dev.json` and shared instead of starting a second one.
 */
export interface Stack {
  db: Database;
  client: Client;
  temporal: { address: string; namespace: string; uiUrl?: string; connection?: TemporalConnectOptions };
  /** True when this process runs the workers (nothing else will execute the sweep). */
  ownsWorkers: boolean;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Start the Temporal dev server and workers here when no server is configured or running (default true). */
  embedded?: boolean;
  /** Concurrent trials of the in-process GPU worker. */
  slots?: number;
  taskQueue?: string;
  ui?: boolean;
  log?: (line: string) => void;
  /** How long a configured TEMPORAL_ADDRESS may take to answer (status prefers the database's view to waiting). */
  temporalTimeoutMs?: number;
}

interface DevRecord {
  pid: number;
  address: string;
  namespace: string;
  uiUrl?: string;
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.DPT_HOME ?? '.dpt-sweep');
}

const devRecordPath = () => join(stateDir(), 'dev.json');

export async function openStack(options: StackOptions = {}): Promise<Stack> {
  const log = options.log ?? (() => {});
  const db = await openDatabase();
  const cleanups: Array<() => Promise<void>> = [() => db.close()];
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      for (const fn of cleanups.reverse()) await fn().catch(() => {});
    })();
    return closing;
  };
  // Ctrl-C stops what this process started (workers, dev server, database) before exiting; a sweep running on a
  // cluster goes on without us.
  const interrupt = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping\n`);
    void close().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    // A configured cluster wins over a `dpt-sweep dev` stack on this machine (whose record has no TLS settings).
    const shared = hasConfiguredTemporal() ? undefined : await runningDevStack();
    let temporal: Stack['temporal'];
    let server: TemporalServer | undefined;
    if (shared) temporal = shared;
    else if (hasConfiguredTemporal() || options.embedded === false) {
      // Without a configured cluster (TEMPORAL_ADDRESS or a profile) this starts a dev server from an already-built CLI; it must go when this process
      // goes (for TEMPORAL_ADDRESS, stop is a no-op).
      const reached = await obtainTemporal({
        allowPypi: false,
        allowGoBuild: false,
        allowSdkDownload: false,
        ...(options.temporalTimeoutMs && process.env.TEMPORAL_ADDRESS
          ? { startTimeoutMs: options.temporalTimeoutMs }
          : {}),
      });
      cleanups.push(() => reached.stop());
      temporal = reached;
    } else {
      server = await obtainTemporal({ dataDir: join(stateDir(), 'temporal'), ui: options.ui ?? false, log });
      cleanups.push(() => server!.stop());
      temporal = server;
    }
    // A configured cluster brings its TLS and API key (TEMPORAL_* variables or a profile); a dev server has none.
    const connection = await Connection.connect(temporal.connection ?? { address: temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: temporal.namespace });

    let ownsWorkers = false;
    if (server) {
      const workers = await startWorkers(temporal, db, options.slots ?? defaultSlots(), options.taskQueue);
      cleanups.push(workers.stop);
      ownsWorkers = true;
    }
    return { db, client, temporal, ownsWorkers, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Both workers in this process, for the embedded stack and `dpt-sweep dev`. */
export async function startWorkers(
  temporal: WorkerConnection,
  db: Database,
  slots: number,
  taskQueue = DEFAULT_GPU_QUEUE,
): Promise<{ stop: () => Promise<void> }> {
  // Loaded here, not at import: commands that only talk to a cluster (status, pause, launch on TEMPORAL_ADDRESS) never
  // pay for @temporalio/worker and its native runtime.
  const { createGpuWorker, createOrchestratorWorker, installWorkerLogging } = await import('../../worker/workers.ts');
  // In-process workers share the user's terminal: only errors, the sweep's own progress says the rest.
  installWorkerLogging('ERROR', { handleSignals: false });
  const gpuWorker = await createGpuWorker(temporal, db, {
    queue: taskQueue,
    slots,
    useGpus: false,
    workerId: `${hostname()}:${process.pid}`,
  });
  const workers: Worker[] = [await createOrchestratorWorker(temporal, db), gpuWorker];
  const running = workers.map((w) => w.run());
  return {
    stop: async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await gpuWorker.trainers.close();
    },
  };
}

/** Trials run on CPU cores here; leave one core for the worker's own event loop. */
export function defaultSlots(): number {
  return Math.max(1, Math.floor(cpus().length / 2));
}

export function recordDevStack(record: DevRecord): void {
  mkdirSync(stateDir(), { recursive: true });
  writeFileSync(devRecordPath(), JSON.stringify(record));
}

export function clearDevStack(): void {
  rmSync(devRecordPath(), { force: true });
}

async function runningDevStack(): Promise<DevRecord | undefined> {
  if (!existsSync(devRecordPath())) return undefined;
  try {
    // A stale or unreadable record (the dev process was killed) simply means no shared stack.
    const record = JSON.parse(readFileSync(devRecordPath(), 'utf8')) as DevRecord;
    process.kill(record.pid, 0);
    await waitUntilServing(record.address, 3_000);
    return record;
  } catch {
    return undefined;
  }
}
