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
  /** Mean training time of its epochs so far. */
  epochSeconds: number;
}

export interface InjectionTargets {
  /** A pool on the faulted database (queries fail while PostgreSQL restarts; the poller retries). */
  pool: pg.Pool;
  sweepId: string;
  /** Epochs of every trial: kills go to trials with epochs still to train, so that they land mid-trial. */
  epochsPerTrial: number;
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

  /** One look at the sweep: which trials train on a live worker now, and which of them wrote a row since the last look. */
  const poll = async (): Promise<{ training: Training[]; grown: Training[] } | undefined> => {
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
    const live = new Set(t.workers.pids());
    const training = rows.filter(
      (r): r is Training =>
        r.status === 'running' &&
        r.epochs < t.epochsPerTrial &&
        r.workerPid !== null &&
        live.has(r.workerPid) &&
        alive(r.workerPid),
    );
    return { training, grown: training.filter((r) => grown.has(r.id)) };
  };

  /**
   * The moment of a fault: the sweep has its number of epoch rows and, for a kill, a trial is training — for an
   * epoch-boundary kill, a trial whose epoch row appeared since the previous look (25 ms ago at most).
   */
  const moment = async (fault: Fault): Promise<Training | undefined> => {
    for (;;) {
      const look = await poll();
      if (look && total >= fault.afterEpochRows) {
        if (fault.kind === 'temporal-restart' || fault.kind === 'postgres-restart') return undefined;
        // A mid-epoch kill needs a trainer that is past its start-up and into its epochs.
        const pool = fault.kind.endsWith('-epoch') ? look.grown : look.training.filter((r) => r.epochs > 0);
        const chosen = pool[fault.target % Math.max(1, pool.length)];
        if (chosen) return chosen;
      }
      if (Date.now() - lastGrowth > t.stallMs) {
        throw new Error(`no new epoch row for ${t.stallMs} ms before fault ${JSON.stringify(fault)} (${total} rows)`);
      }
      await sleep(25);
    }
  };

  for (const fault of schedule) {
    let what: string | undefined;
    // A kill can find no trainer (its worker was just replaced and has not forked one yet): it waits for the next
    // moment of its kind instead of being dropped, so every planned fault is applied.
    for (let attempt = 0; what === undefined && attempt < 20; attempt++) {
      let target = await moment(fault);
      // Mid-epoch: the kill comes part of an epoch after the trial's last epoch row, before it writes the next one. A
      // trial that wrote it first (the machine stalled) is tried again; after a few misses, the kill goes ahead anyway.
      for (let tries = 0; target && fault.midEpoch > 0; tries++) {
        const before = target;
        await sleep(fault.midEpoch * before.epochSeconds * 1000);
        const look = await poll();
        const now = look?.training.find((r) => r.id === before.id && r.workerPid === before.workerPid);
        if (now && (now.epochs === before.epochs || tries >= 4)) {
          target = now;
          break;
        }
        target = await moment(fault);
      }
      what = await apply(fault, target, t);
    }
    done[fault.kind] += what === undefined ? 0 : 1;
    t.log(`fault ${fault.kind} at ${total} epoch rows: ${what ?? 'no trainer process found, skipped'}`);
  }
  return done;
}

type Training = TrialRow & { workerPid: number };

async function apply(fault: Fault, target: Training | undefined, t: InjectionTargets): Promise<string | undefined> {
  if (fault.kind === 'temporal-restart') {
    await t.temporal.crashAndRestart(fault.downMs);
    return `Temporal SIGKILLed, restarted ${fault.downMs} ms later`;
  }
  if (fault.kind === 'postgres-restart') {
    await t.postgres.crashAndRestart(fault.downMs);
    return `PostgreSQL stopped with -m immediate, started ${fault.downMs} ms later`;
  }
  if (!target) return undefined;
  const where = `trial ${target.id} after ${target.epochs} of its epochs`;
  if (fault.kind.startsWith('worker')) {
    await t.workers.kill(target.workerPid);
    t.workers.start(t.queue);
    return `worker ${target.workerPid} (${where}) SIGKILLed, replaced`;
  }
  // With one slot per worker, the worker's only trainer process is the one training this trial.
  const trainer = trainerPidsOf(target.workerPid)[0];
  if (trainer === undefined) return undefined;
  process.kill(trainer, 'SIGKILL');
  return `trainer ${trainer} of worker ${target.workerPid} (${where}) SIGKILLed`;
}

async function trialRows(pool: pg.Pool, sweepId: string): Promise<TrialRow[]> {
  const { rows } = await pool.query<{
    id: string;
    status: string;
    workerId: string | null;
    epochs: string;
    seconds: number | null;
  }>(
    `SELECT t.id, t.status::text AS status, t."workerId", count(m.epoch) AS epochs, avg(m.seconds) AS seconds
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
    epochSeconds: r.seconds ?? 0,
  }));
}
