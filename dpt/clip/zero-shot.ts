import * as tf from '@tensorflow/tfjs';
import type { ClipModel } from './model.ts';
import { fillTemplate } from './templates.ts';
import type { ClipTokenizer } from './tokenizer.ts';

/** L2-normalises rows. */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.norm(x, 'euclidean', -1, true)));
}

/** Normalised text features [C, projDim] of one templated prompt per class (the zero-shot classifier weights). */
export function zeroShotClassifier(
  model: ClipModel,
  tokenizer: ClipTokenizer,
  classnames: string[],
  template: string,
): tf.Tensor2D {
  const { ids, eotIndex } = tokenizer.encode(classnames.map((c) => fillTemplate(template, c)));
  return tf.tidy(() => l2Normalize(model.text.encode(ids, eotIndex)));
}

/** logit_scale · normalise(image features) @ classifierᵀ → [B, C]. */
export function zeroShotLogits(model: ClipModel, imageFeatures: tf.Tensor2D, classifier: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.matMul(l2Normalize(imageFeatures), classifier, false, true), model.logitScale()));
}
