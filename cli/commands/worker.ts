import { hostname } from 'node:os';
import type { Command } from 'commander';
import { DEFAULT_GPU_QUEUE, ORCHESTRATOR_QUEUE } from '../../contract/queues.ts';
import { openDatabase } from '../../db/client.ts';
import { isDatabaseError } from '../../db/errors.ts';
import { obtainTemporal, TemporalUnavailableError } from '../../worker/dev/temporal-server.ts';
import { hasConfiguredTemporal } from '../../worker/temporal-config.ts';
import { createGpuWorker, createOrchestratorWorker, installWorkerLogging } from '../../worker/workers.ts';
import { UserError } from '../errors.ts';
import { clearDevStack, defaultSlots, recordDevStack, startWorkers, stateDir } from '../sweeps/stack.ts';

/** `worker` (one role, for a deployment) and `dev` (the whole embedded stack in the foreground). */
export function register(program: Command): void {
  program
    .command('worker')
    .description('Run a worker against TEMPORAL_ADDRESS and DATABASE_URL until Ctrl-C')
    .option('--queue <name>', `GPU task queue to serve (or "sweeps" for the orchestrator)`, DEFAULT_GPU_QUEUE)
    .option('--slots <n>', 'concurrent trials: one per GPU on this host', (v) => Number(v), 1)
    .option('--devices <list>', 'comma-separated CUDA device ids for the slots (default 0..slots-1)')
    .option('--cpu', 'no GPUs: do not set CUDA_VISIBLE_DEVICES')
    .option('--checkpoint-every <n>', 'save a checkpoint every N epochs', (v) => Number(v), 1)
    .action(
      async (opts: { queue: string; slots: number; devices?: string; cpu?: boolean; checkpointEvery: number }) => {
        if (!Number.isInteger(opts.slots) || opts.slots < 1) throw new UserError('--slots expects a positive integer');
        installWorkerLogging();
        const { db, temporal } = await connect();
        const worker =
          opts.queue === ORCHESTRATOR_QUEUE
            ? Object.assign(await createOrchestratorWorker(temporal, db), { trainers: undefined })
            : await createGpuWorker(temporal, db, {
                queue: opts.queue,
                slots: opts.slots,
                ...(opts.devices ? { devices: opts.devices.split(',') } : {}),
                useGpus: !opts.cpu,
                workerId: `${hostname()}:${process.pid}`,
                checkpointEvery: opts.checkpointEvery,
              });
        process.stderr.write(`worker on queue ${opts.queue} (${temporal.address}, ${db.where}); Ctrl-C stops it\n`);
        // The SDK shuts the worker down on SIGINT/SIGTERM, letting running trials write their checkpoint first.
        await worker.run();
        await worker.trainers?.close();
        await db.close();
      },
    );

  program
    .command('dev')
    .description(
      'Run the embedded stack in the foreground: Temporal dev server (with its web UI), PGlite, both workers',
    )
    .option('--slots <n>', 'concurrent trials', (v) => Number(v), defaultSlots())
    .action(async (opts: { slots: number }) => {
      const db = await openDatabase().catch((err: unknown) => {
        throw asUserError(err);
      });
      const server = await obtainTemporal({
        dataDir: `${stateDir()}/temporal`,
        ui: true,
        log: (line) => process.stderr.write(`${line}\n`),
      }).catch((err: unknown) => {
        throw asUserError(err);
      });
      const workers = await startWorkers(server, db, opts.slots);
      recordDevStack({
        pid: process.pid,
        address: server.address,
        namespace: server.namespace,
        ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}),
      });
      process.stderr.write(
        `dpt-sweep dev: Temporal ${server.address}${server.uiUrl ? ` (UI ${server.uiUrl})` : ''}, ${db.where}, ${opts.slots} slot(s). Ctrl-C stops everything.\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      process.stderr.write('stopping…\n');
      clearDevStack();
      await workers.stop();
      await server.stop();
      await db.close();
    });
}

async function connect() {
  if (!hasConfiguredTemporal()) {
    throw new UserError(
      'TEMPORAL_ADDRESS is not set: a worker joins a running Temporal server (use `dpt-sweep dev` on one machine)',
    );
  }
  try {
    const db = await openDatabase();
    const temporal = await obtainTemporal({ allowPypi: false, allowGoBuild: false, allowSdkDownload: false });
    return { db, temporal };
  } catch (err) {
    throw asUserError(err);
  }
}

function asUserError(err: unknown): unknown {
  return isDatabaseError(err) || err instanceof TemporalUnavailableError ? new UserError(err.message) : err;
}
