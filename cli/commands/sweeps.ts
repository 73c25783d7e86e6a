import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { pauseSignal, type SweepProgress, setMaxParallelSignal, unpauseSignal } from '../../contract/sweep-workflow.ts';
import { openDatabase } from '../../db/client.ts';
import { isDatabaseError } from '../../db/errors.ts';
import { sweepIdFor } from '../../db/repositories.ts';
import { searchReport } from '../../db/results/search.ts';
import { heartbeatTimeoutProblem } from '../../sweep/duration.ts';
import { SweepFileError } from '../../sweep/issues.ts';
import { TemporalUnavailableError } from '../../worker/dev/temporal-server.ts';
import type { sweepWorkflow } from '../../workflows/sweep.ts';
import { UserError } from '../errors.ts';
import { searchSummary } from '../results/search-render.ts';
import { controlRunningSweep, resetForResume } from '../sweeps/control.ts';
import {
  type LaunchOptions,
  launchSweep,
  queryProgress,
  startSweepWorkflow,
  storedHeartbeatTimeout,
  workflowIdFor,
} from '../sweeps/launch.ts';
import { progressView } from '../sweeps/progress.ts';
import { openStack, type Stack } from '../sweeps/stack.ts';
import { sweepStatus } from '../sweeps/status.ts';
import { formatStatus } from './list.ts';

/** launch | status | resume | cancel | pause | unpause | set-parallel (list is in list.ts, which loads no Temporal) */
export function register(program: Command): void {
  program
    .command('launch')
    .description('Launch a sweep file (idempotent: trials already done are not trained again)')
    .argument('<file>', 'sweep YAML file (see examples/)')
    .option('--wait', 'follow the sweep with a progress bar until it ends')
    .option('--force', 'allow expansions above the trial limit')
    .option('--no-reuse', 'retrain trials that already succeeded, identical, in another sweep')
    .option('--max-parallel <n>', 'override resources.maxParallel', toPositiveInt)
    .option(
      '--heartbeat-timeout <duration>',
      'override resources.heartbeatTimeout: a trainer silent this long is killed and retried (e.g. 2m)',
      toHeartbeatTimeout,
    )
    .option('--slots <n>', 'concurrent trials of the embedded worker (embedded stack only)', toPositiveInt)
    .action(
      async (
        file: string,
        opts: {
          wait?: boolean;
          force?: boolean;
          reuse: boolean;
          maxParallel?: number;
          heartbeatTimeout?: string;
          slots?: number;
        },
      ) => {
        await withStack({ slots: opts.slots }, async (stack) => {
          const launchOptions: LaunchOptions = { force: opts.force ?? false, noReuse: !opts.reuse };
          if (opts.maxParallel) launchOptions.maxParallel = opts.maxParallel;
          if (opts.heartbeatTimeout) launchOptions.heartbeatTimeout = opts.heartbeatTimeout;
          const launched = await launchSweep(stack, file, launchOptions);
          const how = launched.started ? 'launched' : 'already running';
          process.stdout.write(`${launched.name} (${launched.sweepId}): ${launched.trials} trials, ${how}\n`);
          if (opts.wait || stack.ownsWorkers) await followSweep(stack, launched.sweepId);
          else process.stdout.write(`follow it with: dpt-sweep status ${launched.name}\n`);
        });
      },
    );

  program
    .command('status')
    .description('Trial counts and progress of one sweep, or of all sweeps')
    .argument('[sweep]', 'sweep name or id')
    .option('--json', 'machine-readable output')
    .action(async (sweep: string | undefined, opts: { json?: boolean }) => {
      // The database answers first; Temporal only adds live progress, so its absence is one line, not a failure.
      const db = await openDatabase().catch((err: unknown) => {
        throw asUserError(err);
      });
      try {
        const rows = await sweepStatus(db, sweep ? [resolveSweepId(sweep)] : undefined);
        if (sweep && rows.length === 0) throw new UserError(`no sweep named ${sweep}`);
        const live = await liveProgress(rows.map((row) => row.id));
        const withProgress = [];
        for (const row of rows) {
          // Only a named sweep gets its search report: the list of all sweeps stays one line each.
          const search = sweep ? await searchReport(db.pool, row.id) : null;
          withProgress.push({ ...row, workflow: live.get(row.id), ...(search ? { search } : {}) });
        }
        if (opts.json) process.stdout.write(`${JSON.stringify(withProgress, null, 2)}\n`);
        else
          for (const row of withProgress) {
            process.stdout.write(`${formatStatus(row)}\n${row.search ? `${searchSummary(row.search)}\n` : ''}`);
          }
      } finally {
        await db.close();
      }
    });

  program
    .command('resume')
    .description('Run the failed, cancelled and never-finished trials of a sweep again')
    .argument('<sweep>', 'sweep name or id')
    .option('--wait', 'follow the sweep with a progress bar until it ends')
    .action(async (sweep: string, opts: { wait?: boolean }) => {
      await withStack({}, async (stack) => {
        const sweepId = resolveSweepId(sweep);
        const [row] = await sweepStatus(stack.db, [sweepId]);
        if (!row) throw new UserError(`no sweep named ${sweep}`);
        const reset = await resetForResume(stack, sweepId, row.name);
        // Trials that never started (pending, queued) run too; counting only the requeued ones said "0" before them.
        const waiting = (row.trials.pending ?? 0) + (row.trials.queued ?? 0);
        process.stdout.write(`${row.name}: ${reset + waiting} trials to run again\n`);
        const stored = await stack.db.prisma.sweep.findUnique({ where: { id: sweepId }, select: { spec: true } });
        const heartbeatTimeout = storedHeartbeatTimeout(stored?.spec);
        await startSweepWorkflow(stack, {
          sweepId,
          name: row.name,
          maxParallel: row.maxParallel,
          taskQueue: row.taskQueue,
          ...(heartbeatTimeout ? { heartbeatTimeout } : {}),
        });
        if (opts.wait || stack.ownsWorkers) await followSweep(stack, sweepId);
      });
    });

  for (const [name, description, act] of [
    [
      'cancel',
      'Cancel a running sweep; its running trials are stopped',
      (s: Stack, id: string) => s.client.workflow.getHandle(workflowIdFor(id)).cancel(),
    ],
    [
      'pause',
      'Stop launching new trials (running ones finish)',
      (s: Stack, id: string) => s.client.workflow.getHandle(workflowIdFor(id)).signal(pauseSignal),
    ],
    [
      'unpause',
      'Launch trials again after pause',
      (s: Stack, id: string) => s.client.workflow.getHandle(workflowIdFor(id)).signal(unpauseSignal),
    ],
  ] as const) {
    program
      .command(name)
      .description(description)
      .argument('<sweep>', 'sweep name or id')
      .action(async (sweep: string) => {
        await withStack({ embedded: false }, async (stack) => {
          const id = resolveSweepId(sweep);
          await controlRunningSweep(stack, { nameOrId: sweep, id }, name, () => act(stack, id));
          process.stdout.write(`${sweep}: ${name} requested\n`);
        });
      });
  }

  program
    .command('set-parallel')
    .description('Change how many trials of a running sweep train at once')
    .argument('<sweep>', 'sweep name or id')
    .argument('<n>', 'new maximum', toPositiveInt)
    .action(async (sweep: string, n: number) => {
      await withStack({ embedded: false }, async (stack) => {
        const id = resolveSweepId(sweep);
        await controlRunningSweep(stack, { nameOrId: sweep, id }, 'set-parallel', () =>
          stack.client.workflow.getHandle(workflowIdFor(id)).signal(setMaxParallelSignal, n),
        );
        process.stdout.write(`${sweep}: maxParallel ${n}\n`);
      });
    });
}

/** Follows a sweep's workflow with a progress bar until it completes. */
export async function followSweep(stack: Stack, sweepId: string): Promise<void> {
  const handle = stack.client.workflow.getHandle<typeof sweepWorkflow>(workflowIdFor(sweepId));
  const bar = new cliProgress.SingleBar(
    {
      format: 'trials [{bar}] {value}/{total} | running {running} | failed {failed}{stage} | {duration_formatted}',
      hideCursor: true,
      // Piped into a log (CI, nohup), the bar still reports: one line every 10 s instead of redrawing.
      noTTYOutput: true,
      notTTYSchedule: 10_000,
    },
    cliProgress.Presets.shades_classic,
  );
  // The bar's total until the workflow has planned: the trials launch or resume left to run (progressView).
  const knownTotal = await stack.db.prisma.trial.count({ where: { sweepId, status: { in: ['pending', 'queued'] } } });
  let started = false;
  const tick = async () => {
    const p = await queryProgress(stack, sweepId).catch(() => undefined);
    if (!p) return;
    const view = progressView(p, knownTotal);
    const payload = { running: view.running, failed: view.failed, stage: view.stage };
    if (!started) {
      bar.start(view.total, view.done, payload);
      started = true;
    } else {
      bar.setTotal(view.total);
      bar.update(view.done, payload);
    }
  };
  const timer = setInterval(() => void tick(), 1_000);
  try {
    const result = await handle.result();
    await tick();
    bar.stop();
    const c = result.counts;
    const stopped = c.stopped ? `, ${c.stopped} stopped early by the search` : '';
    process.stdout.write(
      `${result.status}: ${c.succeeded} succeeded, ${c.reused} reused, ${c.failed} failed, ${c.cancelled} cancelled${stopped} of ${c.total}\n`,
    );
    if (result.status !== 'succeeded') process.exitCode = 1;
  } finally {
    clearInterval(timer);
    if (started) bar.stop();
  }
}

/**
 * Live progress of the sweeps' workflows, by sweep id; empty, with one line on stderr, when Temporal does not answer
 * (the database's view is still printed).
 */
async function liveProgress(ids: string[]): Promise<Map<string, SweepProgress>> {
  const progress = new Map<string, SweepProgress>();
  let stack: Stack;
  try {
    stack = await openStack({ embedded: false, temporalTimeoutMs: TEMPORAL_STATUS_TIMEOUT_MS });
  } catch (err) {
    if (!(err instanceof TemporalUnavailableError) && !isTemporalConnectError(err)) throw asUserError(err);
    const why = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    process.stderr.write(
      `dpt-sweep: Temporal is unreachable, showing the database's view without live progress (${why})\n`,
    );
    return progress;
  }
  try {
    const answers = await Promise.all(ids.map((id) => queryProgress(stack, id).catch(() => undefined)));
    ids.forEach((id, i) => {
      const p = answers[i];
      if (p) progress.set(id, p);
    });
  } finally {
    await stack.close();
  }
  return progress;
}

/** `status` waits this long for Temporal before printing the database's view alone. */
const TEMPORAL_STATUS_TIMEOUT_MS = 3_000;

/** Connection.connect fails with a plain error (gRPC UNAVAILABLE, deadline) when the address does not answer. */
function isTemporalConnectError(err: unknown): boolean {
  return err instanceof Error && /UNAVAILABLE|DEADLINE_EXCEEDED|Failed to connect|ECONNREFUSED/i.test(err.message);
}

/** Sweeps are addressed by name (what the user wrote) or by id (what status prints). */
function resolveSweepId(nameOrId: string): string {
  return /^s_[0-9a-f]{24}$/.test(nameOrId) ? nameOrId : sweepIdFor(nameOrId);
}

export async function withStack(
  options: { embedded?: boolean; slots?: number | undefined },
  fn: (stack: Stack) => Promise<void>,
): Promise<void> {
  let stack: Stack;
  try {
    stack = await openStack({
      ...(options.embedded === undefined ? {} : { embedded: options.embedded }),
      ...(options.slots ? { slots: options.slots } : {}),
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    throw asUserError(err);
  }
  try {
    await fn(stack);
  } catch (err) {
    throw asUserError(err);
  } finally {
    await stack.close();
  }
}

function asUserError(err: unknown): unknown {
  if (err instanceof SweepFileError) return new UserError(err.message);
  if (isDatabaseError(err) || err instanceof TemporalUnavailableError) return new UserError(err.message);
  return err;
}

function toHeartbeatTimeout(value: string): string {
  const problem = heartbeatTimeoutProblem(value);
  if (problem) throw new UserError(`--heartbeat-timeout: ${problem}`);
  return value;
}

function toPositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`expected a positive integer, got ${value}`);
  return n;
}
