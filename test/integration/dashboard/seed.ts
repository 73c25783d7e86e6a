import { createHash } from 'node:crypto';
import type { Queryable } from '../../../db/migrate.ts';
import {
  beginAttempt,
  finishAttempt,
  planTrials,
  type TrialInput,
  transitionTrial,
  upsertEpochMetrics,
  upsertResults,
  upsertSweep,
} from '../../../db/repositories.ts';

/*
 * Small sweeps with hand-computed statistics (top1 = correct out of 100; std is the sample std over seeds).
 *
 * fewshot-demo: method {dpt, coop} × dataset {eurosat, dtd} × shots {1, 16} × seeds {1, 2}; each seed is base ∓ 1.
 *   bases        eurosat 1 / 16   dtd 1 / 16
 *   dpt             60 / 80        50 / 70
 *   coop            55 / 75        45 / 65
 *   coop/dtd/1 seed 2 failed ("CUDA out of memory"): that cell is 44 with n = 1, no error bar.
 *   Average over datasets: dpt 55 / 75 (std sqrt(2+2)/2 = 1), coop 49.5 (std n/a) / 70 (std 1).
 *   dpt/eurosat/16/seed 1 has a 5-epoch learning curve.
 *
 * length-demo: dpt × dataset {eurosat, dtd} × cavptLength {1, 10} × seeds {1, 2, 3}, shots 16.
 *   eurosat len 1: 80 82 84 (82 ± 2); len 10: 85 86 90 (87 ± sqrt 7)
 *   dtd     len 1: 60 60 63 (61 ± sqrt 3); len 10: 70 71 72 (71 ± 1)
 *   Average: len 1 71.5 ± sqrt(7)/2; len 10 79 ± sqrt(8)/2.
 *
 * alphabeta-demo: dpt × eurosat × alpha {0.1, 0.5} × beta {0.1, 0.5} × seeds {1, 2}, shots 16.
 *   α 0.1 β 0.1: 70 72 (71 ± sqrt 2); α 0.1 β 0.5: 74 76 (75 ± sqrt 2); α 0.5 β 0.1: 78 80 (79 ± sqrt 2);
 *   α 0.5 β 0.5: both seeds still pending, so that planned cell has no result (the one missing cell).
 *
 * mixed-demo (dashboard v2 rules): methods planned in the order dpt, coop, zeroshot (the paper's is zeroshot, coop,
 *   ..., dpt) × eurosat × shots {1, 4} × seeds {1, 2}; only dpt sets cavptLength, {1, 10}, so the CAVPT-length view
 *   has null-x cells (coop, zeroshot) to leave out and the few-shot view's series are split by cavptLength.
 *   Correct = MIXED_BASE[method] + shots (+ cavptLength for dpt) ∓ 1 by seed.
 *
 * alpha-only-demo: dpt × eurosat × alpha {0.1, 0.5}, beta 0.2 only, seed 1: the heatmap needs both to vary, so the
 *   sweep supports no view (while `results --view alpha-beta` accepts it: one of alpha, beta varies).
 *
 * dpt/eurosat/16/1 of fewshot-demo also has a checkpoint at epoch 5, a finished attempt and its provenance.
 */

const key = (text: string) => createHash('sha256').update(text).digest('hex');

export const FEWSHOT_BASE: Record<string, Record<string, Record<number, number>>> = {
  dpt: { eurosat: { 1: 60, 16: 80 }, dtd: { 1: 50, 16: 70 } },
  coop: { eurosat: { 1: 55, 16: 75 }, dtd: { 1: 45, 16: 65 } },
};

export const LENGTH_CORRECT: Record<string, Record<number, number[]>> = {
  eurosat: { 1: [80, 82, 84], 10: [85, 86, 90] },
  dtd: { 1: [60, 60, 63], 10: [70, 71, 72] },
};

/** Correct out of 100 per seed by `${alpha}/${beta}`; absent = planned but never run. */
export const ALPHA_BETA_CORRECT: Record<string, number[]> = {
  '0.1/0.1': [70, 72],
  '0.1/0.5': [74, 76],
  '0.5/0.1': [78, 80],
};

export const MIXED_BASE: Record<string, number> = { dpt: 50, coop: 45, zeroshot: 40 };

export const PROVENANCE = {
  codeVersion: 'v',
  backend: 'tensorflow',
  weightsSha256: 'ab'.repeat(32),
  splitHash: '0123456789abcdef',
};

export const CURVE = [
  { epoch: 1, loss: 2.0, trainAcc: 40 },
  { epoch: 2, loss: 1.5, trainAcc: 55 },
  { epoch: 3, loss: 1.2, trainAcc: 65 },
  { epoch: 4, loss: 1.0, trainAcc: 72 },
  { epoch: 5, loss: 0.9, trainAcc: 78 },
];

export interface Seeded {
  fewshotId: string;
  lengthId: string;
  alphaBetaId: string;
  mixedId: string;
  alphaOnlyId: string;
  /** fewshot-demo trial ids by `${method}/${dataset}/${shots}/${seed}`. */
  fewshotTrials: Record<string, string>;
}

const base = (
  config: Record<string, unknown>,
): Omit<TrialInput, 'configKey' | 'method' | 'dataset' | 'shots' | 'seed'> => ({
  backbone: 'ViT-B/32',
  lr: 0.002,
  epochs: 5,
  config,
});

async function succeed(db: Queryable, trialId: string, dataset: string, correct: number, durationMs: number) {
  await beginAttempt(db, trialId, 'w1');
  await transitionTrial(db, trialId, 'running');
  await upsertResults(db, trialId, [{ evalDataset: dataset, split: 'test', correct, total: 100 }]);
  await transitionTrial(db, trialId, 'succeeded');
  // Wall-clock durations would make the duration column untestable: pin them.
  await db.query(`UPDATE "Trial" SET "durationMs" = $2 WHERE id = $1`, [trialId, durationMs]);
}

export async function seedDashboard(db: Queryable): Promise<Seeded> {
  const fewshotId = await upsertSweep(db, {
    name: 'fewshot-demo',
    spec: { name: 'fewshot-demo', base: { epochs: 5, lr: 0.002 }, grid: { shots: [1, 16] } },
    specHash: 'f',
    maxParallel: 2,
    codeVersion: 'v',
    workflowId: 'sweep-fewshot',
  });
  const fewshot: Array<TrialInput & { seed: number }> = [];
  for (const method of ['dpt', 'coop'])
    for (const dataset of ['eurosat', 'dtd'])
      for (const shots of [1, 16])
        for (const seed of [1, 2])
          fewshot.push({
            ...base({ method, dataset, shots, seed }),
            configKey: key(`fewshot/${method}/${dataset}/${shots}/${seed}`),
            method,
            dataset,
            shots,
            seed,
          });
  const ids = await planTrials(db, fewshotId, fewshot);
  const fewshotTrials: Record<string, string> = {};
  let order = 0;
  for (const [i, trial] of fewshot.entries()) {
    const id = ids[i] as string;
    const name = `${trial.method}/${trial.dataset}/${trial.shots}/${trial.seed}`;
    fewshotTrials[name] = id;
    if (name === 'coop/dtd/1/2') {
      await beginAttempt(db, id, 'w1');
      await transitionTrial(db, id, 'running');
      await transitionTrial(db, id, 'failed', { error: 'CUDA out of memory' });
      await db.query(`UPDATE "Trial" SET "durationMs" = 250 WHERE id = $1`, [id]);
      continue;
    }
    const correct =
      (FEWSHOT_BASE[trial.method]?.[trial.dataset]?.[trial.shots] as number) + (trial.seed === 1 ? -1 : 1);
    await succeed(db, id, trial.dataset, correct, 1000 * ++order);
  }
  await upsertEpochMetrics(
    db,
    CURVE.map((point) => ({ ...point, trialId: fewshotTrials['dpt/eurosat/16/1'] as string })),
  );

  const lengthId = await upsertSweep(db, {
    name: 'length-demo',
    spec: {},
    specHash: 'l',
    maxParallel: 2,
    codeVersion: 'v',
  });
  const length: TrialInput[] = [];
  const correct: number[] = [];
  for (const dataset of ['eurosat', 'dtd'])
    for (const cavptLength of [1, 10])
      for (const seed of [1, 2, 3]) {
        length.push({
          ...base({ dataset, cavptLength, seed }),
          configKey: key(`length/${dataset}/${cavptLength}/${seed}`),
          method: 'dpt',
          dataset,
          shots: 16,
          seed,
          cavptLength,
        });
        correct.push(LENGTH_CORRECT[dataset]?.[cavptLength]?.[seed - 1] as number);
      }
  const lengthIds = await planTrials(db, lengthId, length);
  for (const [i, id] of lengthIds.entries())
    await succeed(db, id, length[i]?.dataset as string, correct[i] as number, 500);

  const alphaBetaId = await upsertSweep(db, {
    name: 'alphabeta-demo',
    spec: {},
    specHash: 'ab',
    maxParallel: 2,
    codeVersion: 'v',
  });
  const alphaBeta: TrialInput[] = [];
  for (const alpha of [0.1, 0.5])
    for (const beta of [0.1, 0.5])
      for (const seed of [1, 2])
        alphaBeta.push({
          ...base({ alpha, beta, seed }),
          configKey: key(`alphabeta/${alpha}/${beta}/${seed}`),
          method: 'dpt',
          dataset: 'eurosat',
          shots: 16,
          seed,
          alpha,
          beta,
        });
  const alphaBetaIds = await planTrials(db, alphaBetaId, alphaBeta);
  for (const [i, id] of alphaBetaIds.entries()) {
    const trial = alphaBeta[i] as TrialInput;
    const correct = ALPHA_BETA_CORRECT[`${trial.alpha}/${trial.beta}`]?.[trial.seed - 1];
    if (correct !== undefined) await succeed(db, id, 'eurosat', correct, 700);
  }
  const detailId = fewshotTrials['dpt/eurosat/16/1'] as string;
  await finishAttempt(db, detailId, 1, 'succeeded', new Date('2026-01-02T03:04:05.000Z'));
  await db.query(
    `UPDATE "Trial" SET "codeVersion" = $2, backend = $3, "weightsSha256" = $4, "splitHash" = $5 WHERE id = $1`,
    [detailId, PROVENANCE.codeVersion, PROVENANCE.backend, PROVENANCE.weightsSha256, PROVENANCE.splitHash],
  );
  // A pg.Pool is what saveCheckpoint takes; the seed has a Queryable, so the row is written as saveCheckpoint would.
  await db.query(`INSERT INTO "Checkpoint" ("trialId", epoch, bytes, sha256, "sizeBytes") VALUES ($1, 5, $2, $3, 3)`, [
    detailId,
    Buffer.from([1, 2, 3]),
    createHash('sha256')
      .update(Buffer.from([1, 2, 3]))
      .digest('hex'),
  ]);

  const mixedId = await upsertSweep(db, {
    name: 'mixed-demo',
    spec: { name: 'mixed-demo', base: { epochs: 5, lr: 0.002 }, grid: { shots: [1, 4] } },
    specHash: 'm',
    maxParallel: 2,
    codeVersion: 'v',
  });
  const mixed: TrialInput[] = [];
  for (const method of ['dpt', 'coop', 'zeroshot'])
    for (const cavptLength of method === 'dpt' ? [1, 10] : [null])
      for (const shots of [1, 4])
        for (const seed of [1, 2])
          mixed.push({
            ...base({ method, dataset: 'eurosat', shots, seed, ...(cavptLength === null ? {} : { cavptLength }) }),
            configKey: key(`mixed/${method}/${cavptLength}/${shots}/${seed}`),
            method,
            dataset: 'eurosat',
            shots,
            seed,
            cavptLength,
          });
  const mixedIds = await planTrials(db, mixedId, mixed);
  for (const [i, id] of mixedIds.entries()) {
    const trial = mixed[i] as TrialInput;
    const correct =
      (MIXED_BASE[trial.method] as number) +
      trial.shots +
      (typeof trial.cavptLength === 'number' ? trial.cavptLength : 0) +
      (trial.seed === 1 ? -1 : 1);
    await succeed(db, id, 'eurosat', correct, 600);
  }

  const alphaOnlyId = await upsertSweep(db, {
    name: 'alpha-only-demo',
    spec: {},
    specHash: 'ao',
    maxParallel: 2,
    codeVersion: 'v',
  });
  const alphaOnly: TrialInput[] = [0.1, 0.5].map((alpha) => ({
    ...base({ alpha, beta: 0.2, seed: 1 }),
    configKey: key(`alphaonly/${alpha}`),
    method: 'dpt',
    dataset: 'eurosat',
    shots: 16,
    seed: 1,
    alpha,
    beta: 0.2,
  }));
  for (const id of await planTrials(db, alphaOnlyId, alphaOnly)) await succeed(db, id, 'eurosat', 70, 600);
  return { fewshotId, lengthId, alphaBetaId, mixedId, alphaOnlyId, fewshotTrials };
}
