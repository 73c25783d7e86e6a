import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { isDatabaseError } from '../../db/errors.ts';
import { sweepIdFor } from '../../db/repositories.ts';
import { SweepFileError } from '../../sweep/issues.ts';
import { TemporalUnavailableError } from '../../worker/dev/temporal-server.ts';
import { pauseSignal, setMaxParallelSignal, unpauseSignal } from '../../workflows/sweep.ts';
import { UserError } from '../errors.ts';
import { type LaunchOptions, launchSweep, queryProgress, startSweepWorkflow, workflowIdFor } from '../sweeps/launch.ts';
import { openStack, type Stack } from '../sweeps/stack.ts';
import { resetForResume, sweepStatus } from '../sweeps/status.ts';
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
    .option('--slots <n>', 'concurrent trials of the embedded worker (embedded stack only)', toPositiveInt)
    .action(
      async (
        file: string,
        opts: { wait?: boolean; force?: boolean; reuse: boolean; maxParallel?: number; slots?: number },
      ) => {
        await withStack({ slots: opts.slots }, async (stack) => {
          const launchOptions: LaunchOptions = { force: opts.force ?? false, noReuse: !opts.reuse };
          if (opts.maxParallel) launchOptions.maxParallel = opts.maxParallel;
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
      await withStack({ embedded: false }, async (stack) => {
        const rows = await sweepStatus(stack.db, sweep ? [resolveSweepId(sweep)] : undefined);
        if (sweep && rows.length === 0) throw new UserError(`no sweep named ${sweep}`);
        const withProgress = await Promise.all(
          rows.map(async (row) => ({ ...row, workflow: await queryProgress(stack, row.id).catch(() => undefined) })),
        );
        if (opts.json) process.stdout.write(`${JSON.stringify(withProgress, null, 2)}\n`);
        else for (const row of withProgress) process.stdout.write(`${formatStatus(row)}\n`);
      });
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
        const reset = await resetForResume(stack, sweepId);
        process.stdout.write(`${row.name}: ${reset} trials to run again\n`);
        await startSweepWorkflow(stack, {
          sweepId,
          name: row.name,
          maxParallel: row.maxParallel,
          taskQueue: row.taskQueue,
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
          await act(stack, resolveSweepId(sweep));
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
        await stack.client.workflow.getHandle(workflowIdFor(resolveSweepId(sweep))).signal(setMaxParallelSignal, n);
        process.stdout.write(`${sweep}: maxParallel ${n}\n`);
      });
    });
}

/** Follows a sweep's workflow with a progress bar until it completes. */
export async function followSweep(stack: Stack, sweepId: string): Promise<void> {
  const handle = stack.client.workflow.getHandle(workflowIdFor(sweepId));
  const bar = new cliProgress.SingleBar(
    {
      format: 'trials [{bar}] {value}/{total} | running {running} | failed {failed} | {duration_formatted}',
      hideCursor: true,
      // Piped into a log (CI, nohup), the bar still reports: one line every 10 s instead of redrawing.
      noTTYOutput: true,
      notTTYSchedule: 10_000,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const tick = async () => {
    const p = await queryProgress(stack, sweepId).catch(() => undefined);
    if (!p) return;
    const done = p.succeeded + p.failed + p.cancelled;
    const payload = { running: p.running, failed: p.failed };
    if (!started) {
      bar.start(Math.max(p.planned, 1), done, payload);
      started = true;
    } else bar.update(done, payload);
  };
  const timer = setInterval(() => void tick(), 1_000);
  try {
    const result = await handle.result();
    await tick();
    bar.stop();
    const c = result.counts;
    process.stdout.write(
      `${result.status}: ${c.succeeded} succeeded, ${c.reused} reused, ${c.failed} failed, ${c.cancelled} cancelled of ${c.total}\n`,
    );
    if (result.status !== 'succeeded') process.exitCode = 1;
  } finally {
    clearInterval(timer);
    if (started) bar.stop();
  }
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

function toPositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`expected a positive integer, got ${value}`);
  return n;
}
