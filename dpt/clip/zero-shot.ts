import * as tf from '@tensorflow/tfjs';
import { formatPrompt } from '../../data/datasets/registry.ts';
import { l2Normalize } from '../ops.ts';
import { concatChunks, TEXT_CHUNK_SIZE } from '../text-chunks.ts';
import type { ClipModel } from './model.ts';
import type { ClipTokenizer } from './tokenizer.ts';

/** The prompt for one class, as the trainer words it (formatPrompt); a template without `{}` is a mistake. */
function fillTemplate(template: string, classname: string): string {
  if (!template.includes('{}')) throw new Error(`template "${template}" has no {} placeholder`);
  return formatPrompt(template, classname);
}

/**
 * Normalised text features [C, projDim] of one templated prompt per class: the zero-shot classifier weights, and the
 * trainer's hand-crafted text features (dpt/methods/model.ts buildClassContext). Computed `chunkSize` classes per
 * pass of the text tower and normalised per pass, so a 1000-class dataset's intermediates stay bounded
 * (dpt/text-chunks.ts); Infinity runs every class at once.
 */
export function zeroShotClassifier(
  model: ClipModel,
  tokenizer: ClipTokenizer,
  classnames: string[],
  template: string,
  chunkSize = TEXT_CHUNK_SIZE,
): tf.Tensor2D {
  const { ids, eotIndex } = tokenizer.encode(classnames.map((c) => fillTemplate(template, c)));
  return concatChunks(ids.length, chunkSize, ({ start, size }) =>
    tf.tidy(() => {
      const embedded = model.text.tokenEmbedding(ids.slice(start, start + size));
      return l2Normalize(model.text.encodeEmbeddings(embedded, eotIndex.slice(start, start + size)));
    }),
  );
}

/** logit_scale · normalise(image features) @ classifierᵀ → [B, C]. */
export function zeroShotLogits(model: ClipModel, imageFeatures: tf.Tensor2D, classifier: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.matMul(l2Normalize(imageFeatures), classifier, false, true), model.logitScale()));
}
