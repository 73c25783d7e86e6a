import { createHash } from 'node:crypto';
import type { Queryable } from '../../../db/migrate.ts';
import {
  beginAttempt,
  planTrials,
  transitionTrial,
  upsertEpochMetrics,
  upsertResults,
  upsertSweep,
} from '../../../db/repositories.ts';
import { upsertValidation, writeRungDecisions } from '../../../db/search.ts';

/*
 * sh-demo, a successive-halving search with hand-computed numbers (validation and test top-1 out of 100):
 *   dpt on dtd, 4 shots, seeds {1, 2}; vary grid lr {0.01, 0.1} × alpha {0, 1} → candidates 0..3 in that order;
 *   eta 2, rungs at 1 and 2 epochs.
 *   candidate  lr    alpha  val @1 (seeds)  mean   val @2      mean   test      mean ± std
 *   0          0.01  0      40, 42          41     —                  —
 *   1          0.01  1      60, 64          62     70, 74      72     65, 69    67 ± 2.828
 *   2          0.1   0      50, 50          50     —                  —
 *   3          0.1   1      70, 66          68     80, 78      79     75, 71    73 ± 2.828
 *   rung 1 promotes floor(4 / 2) = 2: candidates 3 and 1; the best is 3.
 *   epochs trained: 4 × 1 + 4 × 2 = 12 of 8 × 2 = 16 (25% saved).
 *   importance at the first rung (values 41, 62, 50, 68; mean 55.25; total SS 438.75):
 *   alpha groups {41, 50} {62, 68}: SS 380.25 → 0.8667; lr groups {41, 62} {50, 68}: SS 56.25 → 0.1282.
 */
export const SEARCH_SPEC = {
  name: 'sh-demo',
  base: { model: '/models/clip-vit-base-patch16', dataRoot: '/data', method: 'dpt' },
  datasets: ['dtd'],
  shots: [4],
  seeds: [1, 2],
  vary: { mode: 'grid', lr: [0.01, 0.1], alpha: [0, 1] },
  search: { kind: 'successive-halving', eta: 2, minEpochs: 1, maxEpochs: 2 },
};

const VAL: Record<number, { 1: [number, number]; 2?: [number, number]; test?: [number, number] }> = {
  0: { 1: [40, 42] },
  1: { 1: [60, 64], 2: [70, 74], test: [65, 69] },
  2: { 1: [50, 50] },
  3: { 1: [70, 66], 2: [80, 78], test: [75, 71] },
};

const key = (text: string) => createHash('sha256').update(text).digest('hex');

export async function seedSearch(db: Queryable): Promise<string> {
  const sweepId = await upsertSweep(db, {
    name: 'sh-demo',
    spec: SEARCH_SPEC,
    specHash: 'sh',
    maxParallel: 2,
    codeVersion: 'v',
  });
  const grid = [
    { lr: 0.01, alpha: 0 },
    { lr: 0.01, alpha: 1 },
    { lr: 0.1, alpha: 0 },
    { lr: 0.1, alpha: 1 },
  ];
  for (const [candidate, params] of grid.entries()) {
    for (const [s, seed] of [1, 2].entries()) {
      const [id] = await planTrials(db, sweepId, [
        {
          configKey: key(`sh/${candidate}/${seed}`),
          method: 'dpt',
          dataset: 'dtd',
          backbone: 'clip-vit-base-patch16',
          shots: 4,
          seed,
          ...params,
          epochs: 2,
          searchCandidate: candidate,
          config: { method: 'dpt', dataset: 'dtd', shots: 4, seed, optim: { epochs: 2, lrVisual: params.lr } },
        },
      ]);
      const trialId = id as string;
      const rows = VAL[candidate]!;
      await beginAttempt(db, trialId, 'w1');
      await transitionTrial(db, trialId, 'running');
      await upsertEpochMetrics(db, [{ trialId, epoch: 0, loss: 1 }]);
      await upsertValidation(db, trialId, { epochs: 1, top1: rows[1][s]!, correct: rows[1][s]!, total: 100 });
      if (!rows[2]) {
        await transitionTrial(db, trialId, 'stopped');
        continue;
      }
      await upsertEpochMetrics(db, [{ trialId, epoch: 1, loss: 0.5 }]);
      await upsertValidation(db, trialId, { epochs: 2, top1: rows[2][s]!, correct: rows[2][s]!, total: 100 });
      const correct = rows.test![s]!;
      await upsertResults(db, trialId, [
        { evalDataset: 'dtd', split: 'test', classSubset: 'all', correct, total: 100 },
      ]);
      await transitionTrial(db, trialId, 'succeeded');
    }
  }
  await writeRungDecisions(db, sweepId, [
    { rung: 0, candidate: 0, epochs: 1, objective: 41, promoted: false },
    { rung: 0, candidate: 1, epochs: 1, objective: 62, promoted: true },
    { rung: 0, candidate: 2, epochs: 1, objective: 50, promoted: false },
    { rung: 0, candidate: 3, epochs: 1, objective: 68, promoted: true },
  ]);
  await writeRungDecisions(db, sweepId, [
    { rung: 1, candidate: 1, epochs: 2, objective: 72, promoted: false },
    { rung: 1, candidate: 3, epochs: 2, objective: 79, promoted: false },
  ]);
  return sweepId;
}
