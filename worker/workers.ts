import { DefaultLogger, type LogLevel, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createOrchestrationActivities } from '../activities/orchestration.ts';
import { createTrainingActivities } from '../activities/train-trial.ts';
import { ORCHESTRATOR_QUEUE } from '../contract/queues.ts';
import type { Database } from '../db/client.ts';
import { sourcePath } from '../source-root.ts';
import { TrainerPool } from '../trainer-host/pool.ts';
import { codeVersion } from './code-version.ts';
import type { TemporalConnectOptions } from './temporal-config.ts';

/**
 * Sets the Temporal runtime's log level once per process, before the first worker. Trial failures are recorded in
 * the database and shown by `status`, so a worker's own log is for warnings (`DPT_LOG_LEVEL` overrides).
 */
export function installWorkerLogging(level: LogLevel = 'WARN', options: { handleSignals?: boolean } = {}): void {
  const chosen = (process.env.DPT_LOG_LEVEL?.toUpperCase() as LogLevel | undefined) ?? level;
  try {
    Runtime.install({
      logger: new DefaultLogger(chosen),
      // A CLI process that embeds workers shuts them down itself on Ctrl-C, together with everything else it runs.
      ...(options.handleSignals === false ? { shutdownSignals: [] } : {}),
    });
  } catch {
    // Already installed in this process.
  }
}

const WORKFLOWS_PATH = sourcePath('workflows', 'index.ts');

export interface WorkerConnection {
  address: string;
  namespace: string;
  /** TLS, API key and headers of a configured cluster (worker/temporal-config.ts); absent for a local dev server. */
  connection?: TemporalConnectOptions;
}

/** Workflows + light database activities; one per deployment is enough, more are harmless. */
export async function createOrchestratorWorker(temporal: WorkerConnection, db: Database): Promise<Worker> {
  const connection = await NativeConnection.connect(temporal.connection ?? { address: temporal.address });
  return Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue: ORCHESTRATOR_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    activities: createOrchestrationActivities(db),
  });
}

export interface GpuWorkerOptions {
  queue: string;
  /** Concurrent trials on this host: one per GPU. */
  slots: number;
  /** Explicit device ids for the slots (default 0..slots-1). */
  devices?: string[];
  /** Machines without a GPU run trials with no CUDA_VISIBLE_DEVICES. */
  useGpus: boolean;
  workerId: string;
  /**
   * The code version this worker reports for its trainers; default: this checkout's (worker/code-version.ts). Tests
   * set it to play a worker running other code.
   */
  codeVersion?: string;
  checkpointEvery?: number;
  heartbeatEveryMs?: number;
  /** How long a stopping worker lets running trials finish their checkpoint write. */
  shutdownGraceTime?: string;
}

/** Longest wait between a trial's heartbeats reaching the server (and so between a cancel and its trainer's kill). */
const HEARTBEAT_THROTTLE = '1 second';

/** Activity-only worker running trainTrial with one slot per GPU. */
export async function createGpuWorker(
  temporal: WorkerConnection,
  db: Database,
  options: GpuWorkerOptions,
): Promise<Worker & { trainers: TrainerPool }> {
  const connection = await NativeConnection.connect(temporal.connection ?? { address: temporal.address });
  const trainers = new TrainerPool(slotDevices(options));
  const worker = await Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue: options.queue,
    activities: createTrainingActivities(db, {
      workerId: options.workerId,
      // Computed once per worker: the trainer processes it forks run the same files.
      codeVersion: options.codeVersion ?? codeVersion(),
      trainers,
      checkpointEvery: options.checkpointEvery ?? 1,
      heartbeatEveryMs: options.heartbeatEveryMs ?? 1_000,
    }),
    maxConcurrentActivityTaskExecutions: options.slots,
    // A cancel reaches a running trial only in the response to a heartbeat, and the SDK sends heartbeats at most once
    // per throttle interval: 0.8 × the heartbeat timeout, capped at 60 s by default, so a cancel took up to a minute to
    // stop the trainers and short trials finished (succeeded) in between. One heartbeat a second per running trial
    // is cheap for the server and bounds that delay to about a second.
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    defaultHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    shutdownGraceTime: options.shutdownGraceTime ?? '30 seconds',
  });
  return Object.assign(worker, { trainers });
}

/** CUDA_VISIBLE_DEVICES per slot: 0..slots-1 or the given list; nothing on a machine without GPUs. */
function slotDevices(options: GpuWorkerOptions): Array<string | undefined> {
  if (!options.useGpus) return Array.from({ length: options.slots }, () => undefined);
  const devices = options.devices ?? Array.from({ length: options.slots }, (_, i) => String(i));
  if (devices.length < options.slots) {
    throw new Error(
      `--slots ${options.slots} needs ${options.slots} GPUs, got ${devices.length} (${devices.join(',')})`,
    );
  }
  return devices.slice(0, options.slots);
}
