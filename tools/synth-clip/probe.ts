/**
 * How much a task's frozen image features allow, beside what the zero-shot prompt gets: a linear probe (multinomial
 * logistic regression on the L2-normalised image features, as CLIP's and CoOp's linear-probe baselines) fitted on the
 * full training split and on the quick start's few-shot picks (data/fewshot.ts, the trainer's own), its L2 penalty
 * chosen on the validation split (the few-shot validation picks for a few-shot probe). Tasks as the quick start writes
 * them (seed 0); test split accuracies. `--train-per-class N` writes the same tasks with N training images per class
 * instead of 16 (so other images, test included): what the features allow with more data than the quick start has.
 * `--features tokens` probes the image embedding beside the mean of the last block's patch tokens (evaluate.ts).
 *
 *   DPT_BACKEND=wasm npx tsx tools/synth-clip/probe.ts --model examples/models/synth-clip [--json out.json]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { readDataset } from '../../data/datasets/index.ts';
import { sampleFewShot } from '../../data/fewshot.ts';
import { type SyntheticTask, writeSyntheticTasks } from '../../data/synthetic/tasks.ts';
import { initBackend } from '../../dpt/backend.ts';
import { loadClip } from '../../dpt/clip/model.ts';
import { type FeatureKind, taskFeatures, zeroShotReport } from './evaluate.ts';

const SHOTS = [2, 8];
const SEEDS = [1, 2, 3];
/**
 * The L2 penalties tried, none included (CLIP's probe searches sklearn's C over a wide log range on validation
 * accuracy; a strong penalty on unit-norm features caps the logits and so the probe).
 */
const PENALTIES = [0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1];
const STEPS = 1000;

interface ProbeFit {
  penalty: number;
  /** the accuracy the penalty was chosen on: the validation picks, or the mean over cross-validation folds */
  val: number;
  test: number;
}

/**
 * Fits one probe per penalty on `train` and returns each penalty's accuracy on every `score` list. The penalties
 * train side by side as one batch of independent problems: Adam is elementwise, so summing their losses gives each
 * the updates it would get alone.
 */
function fitPenalties(
  features: tf.Tensor2D,
  labels: number[],
  classes: number,
  train: number[],
  score: number[][],
): number[][] {
  const count = PENALTIES.length;
  const width = features.shape[1];
  const pick = (rows: number[]) => tf.tile(tf.expandDims(tf.gather(features, rows), 0), [count, 1, 1]) as tf.Tensor3D;
  const weights = tf.variable(tf.zeros<tf.Rank.R3>([count, width, classes]));
  const bias = tf.variable(tf.zeros<tf.Rank.R3>([count, 1, classes]));
  const logits = (x: tf.Tensor3D) => tf.add(tf.matMul(x, weights), bias) as tf.Tensor3D;
  const x = pick(train);
  const y = tf.oneHot(
    train.map((row) => labels[row] as number),
    classes,
  );
  const penalties = tf.tensor1d(PENALTIES);
  const optimizer = tf.train.adam(0.05);
  for (let step = 0; step < STEPS; step++) {
    optimizer.minimize(() => {
      const perPenalty = tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits(x))), 2), 1));
      const l2 = tf.mul(penalties, tf.sum(tf.square(weights), [1, 2]));
      return tf.sum(tf.add(perPenalty, l2)) as tf.Scalar;
    });
  }
  const accuracies = (rows: number[]) =>
    tf.tidy(() => {
      const predicted = tf.argMax(logits(pick(rows)), 2).arraySync() as number[][];
      return predicted.map((row) => rows.filter((item, i) => row[i] === labels[item]).length / rows.length);
    });
  const scored = score.map(accuracies);
  tf.dispose([x, y, weights, bias, penalties]);
  optimizer.dispose();
  return scored;
}

/** The penalty with the best selection accuracy, the larger on a tie. */
function choose(selection: number[], test: number[]): ProbeFit {
  let best = 0;
  for (let i = 1; i < selection.length; i++) if ((selection[i] as number) >= (selection[best] as number)) best = i;
  return { penalty: PENALTIES[best] as number, val: selection[best] as number, test: test[best] as number };
}

/** Fitted on `train`, the penalty chosen on `val` (CoOp's few-shot probe: the few-shot validation picks). */
function probe(
  features: tf.Tensor2D,
  labels: number[],
  classes: number,
  train: number[],
  val: number[],
  test: number[],
) {
  const [valAccuracy, testAccuracy] = fitPenalties(features, labels, classes, train, [val, test]);
  return choose(valAccuracy as number[], testAccuracy as number[]);
}

/**
 * Fitted on `train`, the penalty chosen by k-fold cross-validation on it: the task's validation split (4 images per
 * class) is too small to choose on, and picked a penalty 17 points worse on test than the best one.
 */
function crossValidatedProbe(
  features: tf.Tensor2D,
  labels: number[],
  classes: number,
  train: number[],
  test: number[],
  folds = 4,
) {
  const perFold = Array.from({ length: folds }, (_, fold) => {
    const held = train.filter((_, i) => i % folds === fold);
    const kept = train.filter((_, i) => i % folds !== fold);
    return fitPenalties(features, labels, classes, kept, [held])[0] as number[];
  });
  const mean = PENALTIES.map((_, p) => perFold.reduce((sum, fold) => sum + (fold[p] as number), 0) / folds);
  const [testAccuracy] = fitPenalties(features, labels, classes, train, [test]);
  return choose(mean, testAccuracy as number[]);
}

async function probeTask(modelDir: string, root: string, task: SyntheticTask, kind: FeatureKind) {
  const clip = await loadClip(modelDir);
  try {
    const raw = await taskFeatures(clip, task, kind);
    const features = tf.tidy(() => tf.div(raw, tf.norm(raw, 2, 1, true)) as tf.Tensor2D);
    raw.dispose();
    const labels = task.items.map((item) => item.label);
    const rows = (split: string) => task.items.flatMap((item, i) => (item.split === split ? [i] : []));
    const byPath = new Map(task.items.map((item, i) => [join(task.imageDir, item.file), i]));
    const test = rows('test');
    const classes = task.classnames.length;
    const full = crossValidatedProbe(features, labels, classes, rows('train'), test);
    const splits = await readDataset(task.dataset as Parameters<typeof readDataset>[0], root);
    const fewShot = SHOTS.map((shots) => {
      const seeds = SEEDS.map((seed) => {
        const picked = sampleFewShot(splits, shots, seed);
        const index = (items: typeof picked.train) => items.map((item) => byPath.get(item.impath) as number);
        return { seed, ...probe(features, labels, classes, index(picked.train), index(picked.val), test) };
      });
      return { shots, meanTest: seeds.reduce((sum, s) => sum + s.test, 0) / seeds.length, seeds };
    });
    features.dispose();
    return { full, fewShot };
  } finally {
    clip.model.dispose();
  }
}

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    json: { type: 'string' },
    'train-per-class': { type: 'string' },
    features: { type: 'string', default: 'embedding' },
  },
});
const kind = values.features;
const trainPerClass = values['train-per-class'] === undefined ? undefined : Number(values['train-per-class']);
if (
  !values.model ||
  (trainPerClass !== undefined && !(Number.isInteger(trainPerClass) && trainPerClass >= 8)) ||
  (kind !== 'embedding' && kind !== 'tokens')
) {
  process.stderr.write(
    'usage: probe.ts --model <CLIP directory> [--json <file>] [--train-per-class N (8 or more)] [--features embedding|tokens]\n',
  );
  process.exit(2);
}
// The quick start's tasks, or the same generator with a larger training split (how far the features go with data).
const taskOptions = {
  seed: 0,
  ...(trainPerClass === undefined ? {} : { perClass: { train: trainPerClass, val: 4, test: 50 } }),
};
await initBackend();
const root = await mkdtemp(join(tmpdir(), 'synth-clip-probe-'));
try {
  const zeroShot = await zeroShotReport(values.model, root, taskOptions);
  const tasks = await writeSyntheticTasks({ ...taskOptions, root });
  const report = [];
  for (const task of tasks) {
    const probed = await probeTask(values.model, root, task, kind);
    const zs = zeroShot.find((entry) => entry.dataset === task.dataset);
    const entry = { dataset: task.dataset, zeroShotTest: zs?.test.accuracy ?? null, ...probed };
    report.push(entry);
    const few = probed.fewShot.map((f) => `${f.shots}-shot ${f.meanTest.toFixed(3)}`).join(', ');
    console.log(
      `${task.dataset}: zero-shot ${entry.zeroShotTest?.toFixed(3)}; linear probe full ${probed.full.test.toFixed(3)} (L2 ${probed.full.penalty}), ${few} (mean of seeds ${SEEDS.join(', ')})`,
    );
  }
  if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
} finally {
  await rm(root, { recursive: true, force: true });
}
