import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Item } from '../../data/datasets/types.ts';
import { PythonRandom } from '../../data/python-random.ts';
import { PromptedClip } from '../methods/model.ts';
import type { TrialConfig } from '../trial-config.ts';
import { CheckpointError, configFingerprint, decodeCheckpoint } from './checkpoint.ts';
import type { TrialDeps } from './deps.ts';
import { stackImages } from './evaluate.ts';
import { resolveDeps, restoreParams } from './run-trial.ts';
import { loadTrialSource } from './source.ts';

/** One test image's maps: shares of attention per patch, row-major over the `grid` × `grid` patches. */
export interface ImageAttention {
  /** the image, relative to the trial's dataset root */
  file: string;
  /** the image file as stored (PNG bytes, base64): the dashboard draws the overlay without the dataset */
  png: string;
  label: string;
  predicted: string;
  classToken: number[];
  /** mean over the block's class-aware prompts (DPT); absent where the block holds none */
  classAwarePrompts?: number[];
}

export interface TrialAttentionMaps {
  dataset: string;
  /** 0-based vision block */
  layer: number;
  grid: number;
  images: ImageAttention[];
}

export interface AttentionOptions {
  /** how many test images, one per class in class order, then the next of each class (default 4) */
  images?: number;
  /** 0-based vision block (default the last) */
  layer?: number;
  deps?: Partial<TrialDeps>;
  /** the stored bytes of a test image (default: the file itself) */
  readImage?: (item: Item) => Promise<Buffer>;
}

/**
 * The first test images of each class in turn: a few images that show every class before any repeats, the same for
 * every trial of a dataset so the methods can be set side by side.
 */
export function attentionImages(test: readonly Item[], count: number): Item[] {
  const byClass = new Map<number, Item[]>();
  for (const item of test) byClass.set(item.label, [...(byClass.get(item.label) ?? []), item]);
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const picked: Item[] = [];
  for (let round = 0; picked.length < count; round++) {
    const before = picked.length;
    for (const label of classes) {
      const item = byClass.get(label)?.[round];
      if (item && picked.length < count) picked.push(item);
    }
    if (picked.length === before) break;
  }
  return picked;
}

/**
 * What a trained trial's test-time image encoder attends to (docs/attention.md): the trial's model is rebuilt from
 * its config and its final checkpoint (none for a method that trains nothing), then the class token's attention over
 * the patches in one vision block, and the class-aware prompts' where the block holds them, on a few of the source
 * dataset's test images.
 */
export async function trialAttention(
  config: TrialConfig,
  checkpoint: Uint8Array | null,
  options: AttentionOptions = {},
): Promise<TrialAttentionMaps> {
  const deps = await resolveDeps(options.deps);
  await deps.initBackend();
  // Under base-to-novel the model is the base classes' and the images come from their test split.
  const { source } = await loadTrialSource(config, deps);
  const { model: clip, tokenizer } = await deps.loadClip(config.model);
  const layer = options.layer ?? clip.vision.numLayers - 1;
  const model = new PromptedClip(clip, tokenizer, config, source.classnames.length, new PythonRandom(config.seed));
  const ctx = model.buildClassContext(source.classnames, source.template);
  try {
    if (checkpoint) {
      const ckpt = decodeCheckpoint(checkpoint);
      if (ckpt.configFingerprint !== configFingerprint(config)) {
        throw new CheckpointError('checkpoint belongs to a different trial configuration');
      }
      restoreParams(model, ckpt.params);
    } else if (model.store.count() > 0) {
      throw new CheckpointError(`a ${config.method} trial has trained parameters but no checkpoint is stored`);
    }
    const items = attentionImages(source.test, options.images ?? 4);
    const readImage = options.readImage ?? ((item: Item) => readFile(item.impath));
    const size = clip.vision.imageSize;
    const pixels = stackImages(await Promise.all(items.map((item) => deps.testImage(item, size))), size);
    const textFeatures = model.textLearner ? tf.tidy(() => model.textFeatures(ctx)) : null;
    const maps = model.patchAttention(pixels, ctx, textFeatures, layer);
    const predicted = tf.tidy(() => tf.argMax(maps.logits, -1).arraySync() as number[]);
    const classToken = maps.classToken.arraySync();
    const prompts = maps.classAwarePrompts?.arraySync();
    tf.dispose([
      pixels,
      maps.logits,
      maps.classToken,
      ...(textFeatures ? [textFeatures] : []),
      ...(maps.classAwarePrompts ? [maps.classAwarePrompts] : []),
    ]);
    const images: ImageAttention[] = [];
    for (const [i, item] of items.entries()) {
      images.push({
        png: (await readImage(item)).toString('base64'),
        file: relative(config.root, item.impath),
        label: item.classname,
        predicted: source.classnames[predicted[i] as number] as string,
        classToken: classToken[i] as number[],
        ...(prompts ? { classAwarePrompts: prompts[i] as number[] } : {}),
      });
    }
    return { dataset: config.dataset, layer, grid: size / clip.vision.patchSize, images };
  } finally {
    ctx.dispose();
    model.dispose();
    clip.dispose();
  }
}
