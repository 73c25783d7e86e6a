import * as tf from '@tensorflow/tfjs';

/** Losses of docs/method.md §10. Labels are passed as a constant one-hot matrix [B, C] built outside the gradient. */

/** Mean cross-entropy of `logits` [N, C] against one-hot targets [N, C]. */
export function crossEntropy(logits: tf.Tensor, oneHot: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits, -1)), -1))) as tf.Scalar;
}

export interface MainLossInput {
  /** 0-based epoch */
  epoch: number;
  /** PRETRAIN.C: epochs 0..C-1 use the general-knowledge warm-up loss */
  warmupEpochs: number;
  beta: number;
  /** main prompted-image × learned-text logits */
  logits: tf.Tensor;
  /** frozen zero-shot image × learned text ("CoOp branch") */
  logits1: tf.Tensor;
  /** prompted image × frozen hand-crafted text ("VPT branch") */
  logits2: tf.Tensor;
  oneHot: tf.Tensor;
}

/** e < C: CE(logits1) + CE(logits2) + β·CE(logits); afterwards CE(logits). Shared by DPT and VLP. */
export function warmupMainLoss(input: MainLossInput): tf.Scalar {
  const { epoch, warmupEpochs, beta, logits, logits1, logits2, oneHot } = input;
  if (epoch < warmupEpochs) {
    return tf.addN([
      crossEntropy(logits1, oneHot),
      crossEntropy(logits2, oneHot),
      tf.mul(crossEntropy(logits, oneHot), beta),
    ]) as tf.Scalar;
  }
  return crossEntropy(logits, oneHot);
}

/**
 * Which CAVPT query rows are supervised: row (b, k) is selected when the k-th top-K class of sample b is its label.
 * The ground truth is never forced into the top-K (docs/method.md §6), so a sample may select nothing.
 */
export interface CavptMask {
  /** [B, K] 0/1 weights */
  weights: Float32Array;
  batch: number;
  k: number;
  /** selected rows per CAVPT layer (same in every layer) */
  selectedPerLayer: number;
}

export function cavptMask(indices: readonly Int32Array[], labels: ArrayLike<number>): CavptMask {
  const batch = indices.length;
  const k = batch === 0 ? 0 : indices[0]!.length;
  const weights = new Float32Array(batch * k);
  let selected = 0;
  for (let b = 0; b < batch; b++) {
    const row = indices[b]!;
    if (row.length !== k) throw new Error('top-K index rows must all have the same length');
    for (let j = 0; j < k; j++) {
      if (row[j] === labels[b]) {
        weights[b * k + j] = 1;
        selected += 1;
      }
    }
  }
  return { weights, batch, k, selectedPerLayer: selected };
}

/**
 * L_cavpt (docs/method.md §10, DPT.py:665-685): CE of each selected row's C-way logits against its label, averaged
 * over the selected (sample, layer) rows — not over the batch. Returns null when nothing is selected (K = 0 or no GT
 * in any top-K): the caller must then not build the classifier branch at all, so its tensors get no gradient.
 * `layerLogits`: one [B, K, C] tensor per CAVPT layer application.
 */
export function cavptLoss(layerLogits: readonly tf.Tensor[], mask: CavptMask, oneHot: tf.Tensor): tf.Scalar | null {
  const total = mask.selectedPerLayer * layerLogits.length;
  if (total === 0) return null;
  const weights = tf.tensor2d(mask.weights, [mask.batch, mask.k]);
  const target = tf.expandDims(oneHot, 1); // [B, 1, C]
  const perLayer = layerLogits.map((logits) => {
    const rowCe = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits, -1)), -1)); // [B, K]
    return tf.sum(tf.mul(rowCe, weights));
  });
  return tf.div(tf.addN(perLayer), total) as tf.Scalar;
}

/** Dassl's detect_anomaly equivalent: a NaN/Inf loss stops training with the epoch and batch that produced it. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly value: number,
    readonly epoch: number,
    readonly batch: number,
  ) {
    super(
      `loss became ${value} at epoch ${epoch + 1}, batch ${batch + 1}; training stopped (lower the learning rate?)`,
    );
    this.name = 'NonFiniteLossError';
  }
}
