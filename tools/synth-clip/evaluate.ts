/**
 * Zero-shot accuracy of a saved CLIP directory on the procedural downstream tasks, generated exactly as the quick
 * start generates them (`writeSyntheticTasks` defaults, seed 0), images read back from PNG through the eval transform.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { clipEvalTransform } from '../../data/image.ts';
import { type SyntheticTask, type SyntheticTasksOptions, writeSyntheticTasks } from '../../data/synthetic/tasks.ts';
import { type LoadedClip, loadClip } from '../../dpt/clip/model.ts';
import { zeroShotClassifier, zeroShotLogits } from '../../dpt/clip/zero-shot.ts';

/** Other phrasings tried for each task, reported beside the task's own template. */
export const ALTERNATIVE_TEMPLATES: Readonly<Record<string, string[]>> = {
  shape: ['a {}', 'a small {}.', 'a large {}.'],
  colour: ['a {} shape', 'a small {} shape.', 'a large {} shape.'],
  'target-shape': ['a large {}', 'a {}.'],
};

export interface Accuracy {
  accuracy: number;
  correct: number;
  n: number;
}

export interface TaskZeroShot {
  task: string;
  dataset: string;
  classnames: string[];
  template: string;
  chance: number;
  test: Accuracy;
  all: Accuracy;
  alternatives: { template: string; test: Accuracy; all: Accuracy }[];
}

/** Zero-shot on the tasks written into `root`: the quick start's (seed 0), or others when `options` says so. */
export async function zeroShotReport(
  modelDir: string,
  root: string,
  options: Omit<SyntheticTasksOptions, 'root'> = { seed: 0 },
): Promise<TaskZeroShot[]> {
  const clip = await loadClip(modelDir);
  try {
    const tasks = await writeSyntheticTasks({ ...options, root });
    const out: TaskZeroShot[] = [];
    for (const task of tasks) out.push(await evaluateTask(clip, task));
    return out;
  } finally {
    clip.model.dispose();
  }
}

/**
 * What a probe reads from the frozen image tower: `embedding`, the image embedding zero-shot compares with the text
 * (ln_post of the class token, projected); `tokens`, that embedding beside the mean of the last block's patch tokens,
 * each L2-normalised: what the tower computed anywhere in the image, before the class token's pooling.
 */
export type FeatureKind = 'embedding' | 'tokens';

/** The frozen image features of every item of the task, in item order, read back from PNG as the trainer reads them. */
export async function taskFeatures(
  clip: LoadedClip,
  task: SyntheticTask,
  kind: FeatureKind = 'embedding',
): Promise<tf.Tensor2D> {
  const { model } = clip;
  const size = model.vision.imageSize;
  const features: tf.Tensor2D[] = [];
  const chunk = 64;
  for (let i = 0; i < task.items.length; i += chunk) {
    const items = task.items.slice(i, i + chunk);
    const pixels = new Float32Array(items.length * size * size * 3);
    for (const [j, item] of items.entries()) {
      pixels.set(await clipEvalTransform(join(task.imageDir, item.file), size), j * size * size * 3);
    }
    features.push(
      tf.tidy(() => {
        const batch = tf.tensor4d(pixels, [items.length, size, size, 3]);
        const embedding = model.vision.encode(batch);
        if (kind === 'embedding') return embedding;
        let x = model.vision.embed(batch);
        for (let layer = 0; layer < model.vision.numLayers; layer++) x = model.vision.block(layer, x);
        const [count, tokens, width] = x.shape;
        const patches = tf.mean(tf.slice(x, [0, 1, 0], [count, tokens - 1, width]), 1) as tf.Tensor2D;
        const unit = (t: tf.Tensor2D) => tf.div(t, tf.norm(t, 2, 1, true));
        return tf.concat([unit(embedding), unit(patches)], 1) as tf.Tensor2D;
      }),
    );
  }
  const all = tf.concat(features, 0);
  tf.dispose(features);
  return all;
}

async function evaluateTask(clip: LoadedClip, task: SyntheticTask): Promise<TaskZeroShot> {
  const { model, tokenizer } = clip;
  const imageFeatures = await taskFeatures(clip, task);
  const score = (template: string) => {
    const predictions = tf.tidy(() => {
      const classifier = zeroShotClassifier(model, tokenizer, task.classnames, template);
      return tf.argMax(zeroShotLogits(model, imageFeatures, classifier), 1).dataSync();
    });
    const tally = (split?: string): Accuracy => {
      let correct = 0;
      let n = 0;
      task.items.forEach((item, i) => {
        if (split !== undefined && item.split !== split) return;
        n++;
        if (predictions[i] === item.label) correct++;
      });
      return { accuracy: n > 0 ? correct / n : Number.NaN, correct, n };
    };
    return { template, test: tally('test'), all: tally() };
  };
  const main = score(task.template);
  const alternatives = (ALTERNATIVE_TEMPLATES[task.kind] ?? []).map(score);
  imageFeatures.dispose();
  return {
    task: task.kind,
    dataset: task.dataset,
    classnames: task.classnames,
    template: task.template,
    chance: 1 / task.classnames.length,
    test: main.test,
    all: main.all,
    alternatives,
  };
}
