import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import YAML from 'yaml';
import { z } from 'zod';
import { startDashboard } from '../../dashboards/server.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { isDatabaseError } from '../../db/errors.ts';
import { sweepIdFor } from '../../db/repositories.ts';
import { searchReport } from '../../db/results/search.ts';
import { SOURCE_ROOT } from '../../source-root.ts';
import { canonicalJson } from '../../sweep/canonical.ts';
import { SweepFileError } from '../../sweep/issues.ts';
import { loadSweepFile } from '../../sweep/load.ts';
import { protocolOf } from '../../sweep/protocol.ts';
import { codeVersion } from '../../worker/code-version.ts';
import { UserError } from '../errors.ts';
import { quickstartFigure } from '../quickstart/attention.ts';
import { ensureQuickstartData } from '../quickstart/data.ts';
import { assertModelDir, prepareQuickstartSweep } from '../quickstart/sweep-file.ts';
import { protocolTable, quickstartTables } from '../quickstart/tables.ts';
import { renderSearch } from '../results/search-render.ts';
import { launchSweep } from '../sweeps/launch.ts';
import { defaultSlots, type Stack, startWorkers, stateDir } from '../sweeps/stack.ts';
import { sweepStatus } from '../sweeps/status.ts';
import { followSweep, withStack } from './sweeps.ts';

const REPO_ROOT = SOURCE_ROOT;
const QUICKSTART_SWEEP = path.join(REPO_ROOT, 'examples', 'quickstart.yaml');

interface QuickstartOptions {
  dashboard: boolean;
  port: string;
  host: string;
  model?: string;
  epochs?: string;
  sweep?: string;
}

/**
 * The README's main job: the quick-start sweep (every method on the generated tasks, plus a CAVPT-length ablation)
 * on the embedded stack, its tables, then the dashboard until Ctrl-C.
 */
export function register(program: Command): void {
  program
    .command('quickstart')
    .alias('demo')
    .description(
      'Run the quick-start sweep (every method on two generated tasks, DPT with and without class-aware prompts), print its tables and attention maps, serve the dashboard',
    )
    .option('--no-dashboard', 'exit after printing the tables')
    .option('--port <port>', 'dashboard port (0 picks a free one)', '8321')
    .option('--host <host>', 'dashboard address to bind', '127.0.0.1')
    .option('--model <dir>', 'CLIP directory (Hugging Face layout) instead of the sweep file’s model')
    .option('--epochs <n>', 'train every trial for n epochs (a reduced run; its trials never stand in for full ones)')
    .option('--sweep <file>', 'another sweep file (relative paths inside it are relative to the repository)')
    .action(async (opts: QuickstartOptions) => {
      await runQuickstart(opts);
    });
}

async function runQuickstart(opts: QuickstartOptions): Promise<void> {
  const started = Date.now();
  const port = z.coerce.number().int().min(0).max(65535).safeParse(opts.port);
  if (!port.success) throw new UserError(`--port must be a port number (0-65535), got ${opts.port}`);
  const epochs = opts.epochs === undefined ? undefined : z.coerce.number().int().min(1).safeParse(opts.epochs);
  if (epochs && !epochs.success) throw new UserError(`--epochs must be a positive integer, got ${opts.epochs}`);

  const sweepFile = path.resolve(opts.sweep ?? QUICKSTART_SWEEP);
  const syntheticRoot = path.join(stateDir(), 'quickstart-data');
  const prepared = await prepareQuickstartSweep(sweepFile, {
    model: opts.model,
    epochs: epochs?.data,
    syntheticRoot,
    repoRoot: REPO_ROOT,
  });
  assertModelDir(prepared.model, path.join(REPO_ROOT, 'examples', 'models', 'synth-clip'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (prepared.synthetic.length > 0 && !(await ensureQuickstartData(syntheticRoot, prepared.synthetic, log))) {
    log(`using the synthetic tasks in ${syntheticRoot}`);
  }
  await mkdir(stateDir(), { recursive: true });
  const draftFile = path.join(stateDir(), `${prepared.sweep.name}.draft.yaml`);
  await writeFile(draftFile, YAML.stringify(prepared.sweep));
  // Validated and expanded here too (launch does it again): the tables need each trial's planned factors.
  const { plan } = await loadSweepFile(draftFile).catch((err: unknown) => {
    throw err instanceof SweepFileError ? new UserError(err.message) : err;
  });
  await rm(draftFile, { force: true });
  // A sweep keeps every trial it was ever launched with, and its tables average them all. Naming it by its content
  // and the trainer's code version keeps one run's tables to one plan; finished twins in older sweeps are still
  // reused (linked, not retrained) by configKey.
  const contentHash = createHash('sha256').update(codeVersion()).update(canonicalJson(plan.file)).digest('hex');
  prepared.sweep.name = `${prepared.sweep.name}-${contentHash.slice(0, 8)}`;
  const resolvedFile = path.join(stateDir(), `${prepared.sweep.name}.yaml`);
  await writeFile(resolvedFile, YAML.stringify(prepared.sweep));

  const sweepId = sweepIdFor(prepared.sweep.name);
  const report = async (db: Database, reused: number, trained: number) => {
    // A search plans as it goes and reuses nothing (db/results/search.ts reports what it trained).
    if (!plan.file.search) {
      process.stdout.write(
        `${reused} of ${plan.trials.length} trials reused from earlier runs, ${trained} trained now\n\n`,
      );
    }
    const sweep = { id: sweepId, name: prepared.sweep.name };
    const search = plan.file.search ? await searchReport(db.pool, sweepId) : null;
    const tables = search
      ? renderSearch(search)
      : protocolOf(plan.file.protocol).name === 'few-shot'
        ? await quickstartTables(
            db.pool,
            sweep,
            plan.trials.map((t) => t.factors),
          )
        : await protocolTable(db.pool, sweep);
    process.stdout.write(`${tables}\n`);
    const figure = await quickstartFigure(
      db.pool,
      { id: sweepId, datasets: prepared.sweep.datasets ?? [], base: prepared.sweep.base },
      path.join(stateDir(), `${prepared.sweep.name}-attention.png`),
      log,
    );
    if (figure) process.stdout.write(`attention maps (the paper's Figure 1): ${figure}\n`);
    process.stdout.write(`total wall time ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  };

  // A sweep whose every planned trial finished in an earlier run needs neither Temporal nor workers: its tables, its
  // figure and the dashboard come from the database alone, in seconds.
  const finished = await openFinishedSweep(sweepId, plan.file.search ? null : plan.trials.length);
  if (finished) {
    try {
      process.stdout.write(`${prepared.sweep.name}: all ${plan.trials.length} trials finished in an earlier run\n`);
      await report(finished, plan.trials.length, 0);
      const { TEMPORAL_UI_URL, TEMPORAL_NAMESPACE } = process.env;
      if (opts.dashboard)
        await serveDashboard(finished, TEMPORAL_UI_URL ?? null, TEMPORAL_NAMESPACE, opts.host, port.data);
    } finally {
      await finished.close();
    }
    return;
  }

  // One trainer per core: on the embedded stack the trainers run the CPU backends, one thread each.
  await withStack({ slots: Math.max(1, cpus().length) }, async (stack) => {
    const stopWorkers = await ensureWorkers(stack);
    try {
      const before = await trialCounts(stack, prepared.sweep.name);
      const launched = await launchSweep(stack, resolvedFile);
      process.stdout.write(`${launched.name}: ${launched.trials} trials\n`);
      await followSweep(stack, launched.sweepId);
      const after = await trialCounts(stack, prepared.sweep.name);
      // Only this run's training adds succeeded trials; the rest were finished before or linked to a finished twin.
      const trained = Math.max(0, (after.succeeded ?? 0) - (before.succeeded ?? 0));
      await report(stack.db, (before.succeeded ?? 0) + (after.reused ?? 0), trained);
      const uiUrl = stack.temporal.uiUrl ?? process.env.TEMPORAL_UI_URL ?? null;
      if (opts.dashboard) await serveDashboard(stack.db, uiUrl, stack.temporal.namespace, opts.host, port.data);
    } finally {
      await stopWorkers();
    }
  });
}

/**
 * The database, open, when the sweep exists and all of its `planned` trials finished (succeeded, or linked to a
 * finished twin; for a search, `planned` null, when it succeeded); otherwise null, the database closed again so the
 * full stack can open it.
 */
async function openFinishedSweep(sweepId: string, planned: number | null): Promise<Database | null> {
  const db = await openDatabase().catch((err: unknown) => {
    throw isDatabaseError(err) ? new UserError(err.message) : err;
  });
  const [row] = await sweepStatus(db, [sweepId]).catch(async (err: unknown) => {
    await db.close();
    throw err;
  });
  const done = (row?.trials.succeeded ?? 0) + (row?.trials.reused ?? 0);
  // A search plans as it goes (TPE) and stops trials early: its workflow's success is what says it is over.
  if (row?.status === 'succeeded' && (planned === null || (row.total === planned && done === planned))) return db;
  await db.close();
  return null;
}

/**
 * The quick start trains on data in this machine's state folder, so trials must run here: with a configured
 * Temporal server (TEMPORAL_ADDRESS) this process runs the workers itself.
 */
async function ensureWorkers(stack: Stack): Promise<() => Promise<void>> {
  if (stack.ownsWorkers) return async () => {};
  const workers = await startWorkers(stack.temporal, stack.db, defaultSlots());
  return workers.stop;
}

/** The named sweep's trial counts by status (none before its first launch). */
async function trialCounts(stack: Stack, name: string): Promise<Record<string, number>> {
  const [row] = await sweepStatus(stack.db, [sweepIdFor(name)]);
  return row?.trials ?? {};
}

async function serveDashboard(
  db: Database,
  temporalUiUrl: string | null,
  temporalNamespace: string | undefined,
  host: string,
  port: number,
): Promise<void> {
  let server: Awaited<ReturnType<typeof startDashboard>>;
  try {
    server = await startDashboard({
      db,
      host,
      port,
      ...(temporalUiUrl ? { temporalUiUrl } : {}),
      ...(temporalNamespace ? { temporalNamespace } : {}),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new UserError(`port ${port} on ${host} is in use; pick another with --port, or --no-dashboard`);
    throw error;
  }
  process.stdout.write(`dashboard: ${server.url}/ — Ctrl-C stops it and the embedded services\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}
