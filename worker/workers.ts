import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createOrchestrationActivities } from '../activities/orchestration.ts';
import { createTrainingActivities } from '../activities/train-trial.ts';
import type { Database } from '../db/client.ts';
import { GpuSlots } from './gpu-slots.ts';

/** Task queue of the orchestrator worker: sweep workflows and their database activities. */
export const ORCHESTRATOR_QUEUE = 'sweeps';
export const DEFAULT_GPU_QUEUE = 'gpu';

const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface WorkerConnection {
  address: string;
  namespace: string;
}

/** Workflows + light database activities; one per deployment is enough, more are harmless. */
export async function createOrchestratorWorker(temporal: WorkerConnection, db: Database): Promise<Worker> {
  const connection = await NativeConnection.connect({ address: temporal.address });
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
  checkpointEvery?: number;
  heartbeatEveryMs?: number;
  /** How long a stopping worker lets running trials finish their checkpoint write. */
  shutdownGraceTime?: string;
}

/** Activity-only worker running trainTrial with one slot per GPU. */
export async function createGpuWorker(
  temporal: WorkerConnection,
  db: Database,
  options: GpuWorkerOptions,
): Promise<Worker> {
  const connection = await NativeConnection.connect({ address: temporal.address });
  const gpus = options.useGpus ? GpuSlots.forSlots(options.slots, options.devices) : undefined;
  return Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue: options.queue,
    activities: createTrainingActivities(db, {
      workerId: options.workerId,
      ...(gpus ? { gpus } : {}),
      checkpointEvery: options.checkpointEvery ?? 1,
      heartbeatEveryMs: options.heartbeatEveryMs ?? 5_000,
    }),
    maxConcurrentActivityTaskExecutions: options.slots,
    shutdownGraceTime: options.shutdownGraceTime ?? '30 seconds',
  });
}
