import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import YAML from 'yaml';
import type { Database } from '../../../db/client.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { writeTinyDataset } from '../../support/tiny-dataset.ts';
import { useFaultEnvironment } from './faults/environment.ts';
import { outcomesByConfigKey, sameOutcome } from './faults/outcomes.ts';
import { faultSchedule } from './faults/schedule.ts';
import { tinyBase } from './harness.ts';

/*
 * A successive-halving search under the seeded faults of fault-injection.test.ts: a worker and a trainer SIGKILLed
 * at an epoch boundary and mid-epoch, the Temporal server SIGKILLed and restarted, PostgreSQL restarted without a
 * checkpoint. Against the same search run without faults: the same rung decisions, every trial the same status,
 * epochs, losses, validation and test accuracies, nothing written twice. DPT_FAULT_SEED replays another schedule.
 */

const SEED = Number(process.env.DPT_FAULT_SEED ?? 3);
/** 9 configurations x 2 seeds at rung 1 (1 epoch), 3 x 2 to 3 epochs, 1 x 2 to 9. */
const EPOCH_ROWS = 9 * 2 * 1 + 3 * 2 * 2 + 1 * 2 * 6;
const log = (line: string) => process.stderr.write(`[search-faults] ${line}\n`);

/** What a search decided and what each of its trials holds, keyed by identity so that two sweeps compare. */
async function searchState(db: Database, sweepId: string) {
  const rungs = await db.prisma.searchRung.findMany({
    where: { sweepId },
    orderBy: [{ rung: 'asc' }, { candidate: 'asc' }],
  });
  const trials = await db.prisma.trial.findMany({
    where: { sweepId },
    include: { validations: { orderBy: { epochs: 'asc' } } },
  });
  return {
    decisions: rungs.map(({ rung, candidate, epochs, objective, promoted }) => ({
      rung,
      candidate,
      epochs,
      objective,
      promoted,
    })),
    trials: new Map(
      trials.map((t) => [
        t.configKey,
        { status: t.status, validations: t.validations.map((v) => `${v.epochs}:${v.correct}/${v.total}`) },
      ]),
    ),
  };
}

describeWith(
  'PostgreSQL + Temporal',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('a search under seeded faults', () => {
  const environment = useFaultEnvironment(
    'search-faults',
    (dataRoot) =>
      writeTinyDataset({
        root: dataRoot,
        dataset: 'dtd',
        classes: ['banded', 'dotted', 'striped', 'zigzagged'],
        perClass: { train: 4, val: 4, test: 3 },
        seed: 3,
      }),
    log,
  );

  const sweepFile = async (name: string, queue: string): Promise<string> => {
    const { dir, dataRoot } = environment();
    const file = path.join(dir, `${name}.yaml`);
    const body = {
      name: `${name}-${randomBytes(4).toString('hex')}`,
      base: {
        ...tinyBase(dataRoot),
        method: 'dpt',
        trial: { text: { nCtx: 2 }, vpt: { length: 2 }, cavpt: { kN: 2 } },
      },
      datasets: ['dtd'],
      shots: [4],
      seeds: [1, 2],
      vary: { mode: 'grid', lr: [0.002, 0.02, 0.2], alpha: [0, 0.3, 1] },
      search: { kind: 'successive-halving', eta: 3, minEpochs: 1, maxEpochs: 9 },
      resources: { maxParallel: 2, taskQueue: queue },
    };
    // tinyBase's two epochs belong to grid sweeps; the search sets every trial's epochs itself.
    delete (body.base as { epochs?: number }).epochs;
    await writeFile(file, YAML.stringify(body));
    return file;
  };

  it('decides, trains and evaluates exactly as the search without faults, writing nothing twice', async () => {
    const { runReference, launchFaulted, sufferFaults } = environment();
    const ref = await runReference((queue) => sweepFile('search-reference', queue));
    const schedule = faultSchedule({ seed: SEED, totalEpochRows: EPOCH_ROWS, killsPerKind: 1 });
    log(`seed ${SEED}; schedule ${JSON.stringify(schedule)}`);
    const faulted = await launchFaulted((queue) => sweepFile('search-faulted', queue));
    const { injected, result, died } = await sufferFaults(faulted, schedule, 9);

    const [want, got] = [await searchState(ref.db, ref.sweepId), await searchState(faulted.db, faulted.sweepId)];
    const [wantOutcomes, gotOutcomes] = [
      await outcomesByConfigKey(ref.db, ref.sweepId),
      await outcomesByConfigKey(faulted.db, faulted.sweepId),
    ];
    const all = [...gotOutcomes.values()];
    const identical = [...wantOutcomes].filter(([key, w]) => {
      const g = gotOutcomes.get(key);
      return g !== undefined && sameOutcome(g, w) && g.epochs.join() === w.epochs.join();
    }).length;
    const summary = {
      seed: SEED,
      injected,
      workersDied: died.length,
      trials: all.length,
      epochRows: all.reduce((n, o) => n + o.losses.length, 0),
      attemptOutcomes: all
        .flatMap((o) => o.attemptOutcomes)
        .reduce<Record<string, number>>((c, o) => {
          c[o] = (c[o] ?? 0) + 1;
          return c;
        }, {}),
      openAttempts: all.reduce((n, o) => n + o.openAttempts, 0),
      identical: `${identical}/${wantOutcomes.size}`,
      sameDecisions: JSON.stringify(got.decisions) === JSON.stringify(want.decisions),
      sweepStatus: result.status,
    };
    console.log(JSON.stringify(summary));

    expect(result.status).toBe('succeeded');
    expect(died).toEqual([]);
    expect(got.decisions).toEqual(want.decisions);
    expect(got.decisions).toHaveLength(9 + 3 + 1);
    expect(all).toHaveLength(18);
    expect(summary.epochRows).toBe(EPOCH_ROWS);
    expect(summary.openAttempts).toBe(0);
    expect(identical).toBe(18);
    for (const [key, trial] of want.trials) expect(got.trials.get(key)).toEqual(trial);
    // Every planned fault found its target.
    expect(Object.values(injected)).toEqual([1, 1, 1, 1, 1, 1]);
  }, 900_000);
});
