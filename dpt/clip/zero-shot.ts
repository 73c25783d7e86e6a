import * as tf from '@tensorflow/tfjs';
import { formatPrompt } from '../../data/datasets/registry.ts';
import { l2Normalize } from '../ops.ts';
import type { ClipModel } from './model.ts';
import type { ClipTokenizer } from './tokenizer.ts';

/** The prompt for one class, as the trainer words it (formatPrompt); a template without `{}` is a mistake. */
function fillTemplate(template: string, classname: string): string {
  if (!template.includes('{}')) throw new Error(`template "${template}" has no {} placeholder`);
  return formatPrompt(template, classname);
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
