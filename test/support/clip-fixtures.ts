import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { decodeRgb, normalizeClip } from '../../data/image.ts';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/clip');

export interface ReferenceOutputs {
  dirs: string[];
  image_embeds: number[][];
  text_embeds: number[][];
  zero_shot_logits: number[][];
  logit_scale: number;
}

export interface ModelReference {
  texts: string[];
  ids: number[][];
  classnames: string[];
  template: string;
  prompt_ids: number[][];
  images: string[];
  context_length: number;
  vocab_size: number;
  variants: Record<string, ReferenceOutputs>;
}

export const MODEL_NAMES = ['tiny-a', 'tiny-b'] as const;

export function readReference(model: string): ModelReference {
  return JSON.parse(readFileSync(join(FIXTURES, `${model}-reference.json`), 'utf8')) as ModelReference;
}

/** The reference images as a normalised NHWC batch, read through data/image.ts. */
export async function referencePixels(ref: ModelReference): Promise<tf.Tensor4D> {
  const images = await Promise.all(ref.images.map((f) => decodeRgb(join(FIXTURES, f))));
  const size = images[0]?.width ?? 0;
  const flat = new Float32Array(images.length * size * size * 3);
  images.forEach((img, i) => {
    flat.set(normalizeClip(img), i * size * size * 3);
  });
  return tf.tensor4d(flat, [images.length, size, size, 3]);
}

export function maxAbsDiff(actual: ArrayLike<number>[] | number[][], expected: number[][]): number {
  let worst = 0;
  expected.forEach((row, i) => {
    const a = actual[i];
    if (!a || a.length !== row.length) throw new Error(`row ${i}: length ${a?.length} vs ${row.length}`);
    row.forEach((v, j) => {
      worst = Math.max(worst, Math.abs((a[j] ?? Number.NaN) - v));
      if (Number.isNaN(a[j])) worst = Number.POSITIVE_INFINITY;
    });
  });
  return worst;
}
