import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll } from 'vitest';
import type { Item } from '../../data/datasets/types.ts';
import { PythonRandom } from '../../data/python-random.ts';
import { activateBackend } from '../../dpt/backend.ts';
import { type LoadedClip, loadClip } from '../../dpt/clip/index.ts';
import type { TrialDeps } from '../../dpt/trainer/deps.ts';
import { parseTrialConfig, type TrialConfig, type TrialConfigInput } from '../../dpt/trial-config.ts';

/** The tiny random CLIP committed by the CLIP work: ViT 2 blocks, width 32, 32 px images, 16-token text context. */
export const TINY_CLIP_DIR = path.resolve(import.meta.dirname, '../fixtures/clip/tiny-a-hf');
export const TINY_CLASSES = ['red', 'green', 'blue', 'yellow'];
const SIZE = 32;

/**
 * A learnable in-memory task: each class is a distinct two-colour layout (top/bottom halves) plus pixel noise.
 * The training "augmentation" is a horizontal flip drawn from the trial generator, so the generator really advances.
 */
export interface TinyTask {
  train: Item[];
  test: Item[];
  images: Map<string, Float32Array>;
}

export function makeTinyTask(perClassTrain = 8, perClassTest = 6, seed = 11, classes = TINY_CLASSES): TinyTask {
  const rng = new PythonRandom(seed);
  const images = new Map<string, Float32Array>();
  const palette = classes.map((_, c) => [
    [Math.cos(c * 1.7), Math.sin(c * 2.3), Math.cos(c * 0.9 + 1)],
    [Math.sin(c * 1.1 + 2), Math.cos(c * 2.9), Math.sin(c * 0.7)],
  ]);
  const make = (split: string, c: number, i: number): Item => {
    const impath = `/tiny/${split}/${classes[c]}/${i}.png`;
    const img = new Float32Array(SIZE * SIZE * 3);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const half = y < SIZE / 2 ? 0 : 1;
        for (let ch = 0; ch < 3; ch++) img[(y * SIZE + x) * 3 + ch] = 1.5 * palette[c]![half]![ch]! + rng.gauss(0, 0.4);
      }
    }
    images.set(impath, img);
    return { impath, label: c, classname: classes[c]! };
  };
  const train: Item[] = [];
  const test: Item[] = [];
  for (let c = 0; c < classes.length; c++) {
    for (let i = 0; i < perClassTrain; i++) train.push(make('train', c, i));
    for (let i = 0; i < perClassTest; i++) test.push(make('test', c, i));
  }
  return { train, test, images };
}

function flipped(img: Float32Array): Float32Array {
  const out = new Float32Array(img.length);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      for (let ch = 0; ch < 3; ch++) out[(y * SIZE + x) * 3 + ch] = img[(y * SIZE + (SIZE - 1 - x)) * 3 + ch]!;
    }
  }
  return out;
}

export function tinyDeps(task: TinyTask, classes = TINY_CLASSES): TrialDeps {
  const get = (item: Item) => {
    const img = task.images.get(item.impath);
    if (!img) throw new Error(`no image ${item.impath}`);
    return img;
  };
  return {
    initBackend: async () => ({ name: tf.getBackend() }),
    loadClip: async (dir) => {
      const { model, tokenizer } = await loadClip(dir);
      return { model, tokenizer };
    },
    loadSource: async () => ({ classnames: classes, template: 'a photo of a {}.', train: task.train, test: task.test }),
    loadTarget: async () => ({ classnames: classes, template: 'a photo of a {}.', test: task.test }),
    trainImage: async (item, rng) => (rng.random() < 0.5 ? flipped(get(item)) : get(item)),
    testImage: async (item) => get(item),
  };
}

/** A short, aggressive schedule so learning is visible in a few epochs of a 2-block model. */
export function tinyConfig(overrides: Partial<TrialConfigInput> & Pick<TrialConfigInput, 'method'>): TrialConfig {
  return parseTrialConfig({
    dataset: 'eurosat',
    root: '/nonexistent-root',
    shots: 8,
    seed: 1,
    model: TINY_CLIP_DIR,
    preset: 'none',
    text: { nCtx: 4 },
    vpt: { length: 2 },
    cavpt: { kN: 2 },
    loss: { warmupEpochs: 3 },
    optim: { epochs: 8, batchSize: 16, lrVisual: 0.5, lrText: 0.5, lrWarmupEpochs: 0, textLrWarmupEpochs: 0 },
    ...overrides,
  });
}

/** The tiny CLIP on the cpu backend for the enclosing describe block: loaded before its tests, disposed after. */
export function useTinyClip(): () => LoadedClip {
  let clip: LoadedClip | undefined;
  beforeAll(async () => {
    await activateBackend('cpu');
    clip = await loadClip(TINY_CLIP_DIR);
  });
  afterAll(() => {
    clip?.model.dispose();
  });
  return () => {
    if (!clip) throw new Error('the tiny CLIP is loaded in beforeAll; use it inside a test');
    return clip;
  };
}
