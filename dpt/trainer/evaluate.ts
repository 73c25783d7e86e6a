import * as tf from '@tensorflow/tfjs';
import type { Item } from '../../data/datasets/types.ts';
import type { ClassContext, PromptedClip } from '../methods/model.ts';

export interface EvalCounts {
  correct: number;
  total: number;
}

/**
 * Top-1 over a full test list with the current (last-epoch) model, in batches of `batchSize` (Dassl TEST 50).
 * The learned text features do not depend on the image, so they are computed once per class context.
 */
export async function evaluate(
  model: PromptedClip,
  ctx: ClassContext,
  items: readonly Item[],
  loadImage: (item: Item) => Promise<Float32Array>,
  batchSize: number,
  imageSize: number,
  signal?: AbortSignal,
  /** called after each batch with its 0-based index (progress for a supervisor) */
  onBatch?: (batch: number) => void,
): Promise<EvalCounts> {
  const textFeatures = model.textLearner ? tf.tidy(() => model.textFeatures(ctx)) : null;
  let correct = 0;
  try {
    for (let start = 0; start < items.length; start += batchSize) {
      signal?.throwIfAborted();
      const batch = items.slice(start, start + batchSize);
      const images = await Promise.all(batch.map(loadImage));
      const predicted = tf.tidy(() => {
        const pixels = stackImages(images, imageSize);
        return tf.argMax(model.predictLogits(pixels, ctx, textFeatures), -1);
      });
      const values = await predicted.data();
      predicted.dispose();
      batch.forEach((item, i) => {
        if (values[i] === item.label) correct += 1;
      });
      onBatch?.(start / batchSize);
    }
  } finally {
    textFeatures?.dispose();
  }
  return { correct, total: items.length };
}

export function stackImages(images: readonly Float32Array[], size: number): tf.Tensor4D {
  const per = size * size * 3;
  const flat = new Float32Array(images.length * per);
  images.forEach((img, i) => {
    if (img.length !== per) throw new Error(`image ${i} has ${img.length} values, expected ${size}×${size}×3`);
    flat.set(img, i * per);
  });
  return tf.tensor4d(flat, [images.length, size, size, 3]);
}
