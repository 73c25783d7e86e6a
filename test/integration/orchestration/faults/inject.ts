import type pg from 'pg';
import { alive, trainerPidsOf, type WorkerProcesses } from './processes.ts';
import type { Fault, FaultKind } from './schedule.ts';
import type { CrashablePostgres, CrashableTemporal } from './services.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface TrialRow {
  id: string;
  status: string;
  workerPid: number | null;
  epochs: number;
}

export interface InjectionTargets {
  /** A pool on the faulted database (queries fail while PostgreSQL restarts; the poller retries). */
  pool: pg.Pool;
  sweepId: string;
  queue: string;
  workers: WorkerProcesses;
  temporal: CrashableTemporal;
  postgres: CrashablePostgres;
  /** Gives up waiting for a fault's moment after this long without a new epoch row (the sweep is stuck or over). */
  stallMs: number;
  log: (line: string) => void;
}

export type FaultCounts = Record<FaultKind, number>;

/**
 * Applies the schedule in order. Each fault waits until the sweep has written its number of epoch rows; kills go to
 * a process that is training a trial at that moment — for epoch-boundary kills, the trial whose row just appeared.
 * A killed worker is replaced at once by a fresh process, as a supervisor would.
 */
export async function injectFaults(schedule: Fault[], t: InjectionTargets): Promise<FaultCounts> {
  const done: FaultCounts = {
    'worker-epoch': 0,
    'worker-mid': 0,
    'trainer-epoch': 0,
    'trainer-mid': 0,
    'temporal-restart': 0,
    'postgres-restart': 0,
  };
  const seen = new Map<string, number>();
  let lastGrowth = Date.now();
  let total = 0;

  const poll = async (): Promise<{ rows: TrialRow[]; grown: Set<string> } | undefined> => {
    const rows = await trialRows(t.pool, t.sweepId).catch(() => undefined);
    if (!rows) return undefined;
    const grown = new Set<string>();
    for (const row of rows) {
      if (row.epochs > (seen.get(row.id) ?? 0)) grown.add(row.id);
      seen.set(row.id, row.epochs);
    }
    const now = rows.reduce((sum, r) => sum + r.epochs, 0);
    if (now > total) lastGrowth = Date.now();
    total = now;
    return { rows, grown };
  };

  for (const fault of schedule) {
    let grown = new Set<string>();
    for (;;) {
      const snapshot = await poll();
      if (snapshot && total >= fault.afterEpochRows) {
        grown = snapshot.grown;
        break;
      }
      if (Date.now() - lastGrowth > t.stallMs) {
        throw new Error(`no new epoch row for ${t.stallMs} ms before fault ${JSON.stringify(fault)} (${total} rows)`);
      }
      await sleep(25);
    }
    if (fault.delayMs > 0) await sleep(fault.delayMs);
    const what = await apply(fault, grown, t);
    done[fault.kind] += what === undefined ? 0 : 1;
    t.log(`fault ${fault.kind} at ${total} epoch rows: ${what ?? 'no training process found, skipped'}`);
  }
  return done;
}

async function apply(fault: Fault, grown: Set<string>, t: InjectionTargets): Promise<string | undefined> {
  if (fault.kind === 'temporal-restart') {
    await t.temporal.crashAndRestart();
    return 'Temporal SIGKILLed and restarted';
  }
  if (fault.kind === 'postgres-restart') {
    await t.postgres.crashAndRestart();
    return 'PostgreSQL restarted with -m immediate';
  }
  // A trial that just started may not have its worker's pid on its row yet: look again for a few seconds.
  for (let tries = 0; tries < 50; tries++) {
    const target = await pickTarget(fault, grown, t);
    if (target) {
      if (fault.kind.startsWith('worker')) {
        await t.workers.kill(target.workerPid);
        t.workers.start(t.queue);
        return `worker ${target.workerPid} (trial ${target.trialId}) SIGKILLed, replaced`;
      }
      const trainer = trainerPidsOf(target.workerPid)[0];
      if (trainer !== undefined) {
        process.kill(trainer, 'SIGKILL');
        return `trainer ${trainer} of worker ${target.workerPid} (trial ${target.trialId}) SIGKILLed`;
      }
    }
    await sleep(100);
  }
  return undefined;
}

async function pickTarget(
  fault: Fault,
  grown: Set<string>,
  t: InjectionTargets,
): Promise<{ trialId: string; workerPid: number } | undefined> {
  const rows = await trialRows(t.pool, t.sweepId).catch((): TrialRow[] => []);
  const live = new Set(t.workers.pids());
  const training = rows.filter(
    (r): r is TrialRow & { workerPid: number } =>
      r.status === 'running' && r.workerPid !== null && live.has(r.workerPid) && alive(r.workerPid),
  );
  const atBoundary = training.filter((r) => grown.has(r.id));
  const pool = fault.kind.endsWith('-epoch') && atBoundary.length > 0 ? atBoundary : training;
  const chosen = pool[fault.target % Math.max(1, pool.length)];
  return chosen ? { trialId: chosen.id, workerPid: chosen.workerPid } : undefined;
}

async function trialRows(pool: pg.Pool, sweepId: string): Promise<TrialRow[]> {
  const { rows } = await pool.query<{ id: string; status: string; workerId: string | null; epochs: string }>(
    `SELECT t.id, t.status::text AS status, t."workerId", count(m.epoch) AS epochs
       FROM "Trial" t LEFT JOIN "EpochMetric" m ON m."trialId" = t.id
      WHERE t."sweepId" = $1 GROUP BY t.id ORDER BY t.id`,
    [sweepId],
  );
  // Worker ids are `<host>:<pid>` (cli/commands/worker.ts).
  return rows.map((r) => ({
    id: r.id,
    status: r.status,
    workerPid: r.workerId === null ? null : Number(r.workerId.split(':').at(-1)),
    epochs: Number(r.epochs),
  }));
}
