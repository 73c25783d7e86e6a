import * as tf from '@tensorflow/tfjs';

/**
 * Small differentiable building blocks that work on every TF.js backend we claim (cpu, wasm): no tf.gather in
 * differentiated code (its gradient needs UnsortedSegmentSum, missing on wasm), no stopGradient op (absent in TF.js).
 */

/** Identity forward, zero gradient backward: PyTorch's `.detach()` inside a differentiated function. */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: unknown[]) => {
  const x = args[0] as tf.Tensor;
  return { value: x.clone(), gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)] };
}) as unknown as (x: tf.Tensor) => tf.Tensor;

/**
 * `x @ w (+ b)` for x of any rank >= 2 (last axis contracted), w: [in, out]: the Linear layers of the CLIP towers
 * (dpt/clip/layers.ts) and of CAVPT (dpt/prompts/cavpt.ts).
 */
export function dense(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const inDim = x.shape[x.shape.length - 1]!;
  const lead = x.shape.slice(0, -1);
  const y = tf.matMul(tf.reshape(x, [-1, inDim]) as tf.Tensor2D, w);
  const withBias = b ? tf.add(y, b) : y;
  return tf.reshape(withBias, [...lead, w.shape[1]]);
}

export interface LayerNormWeights {
  gamma: tf.Tensor1D;
  beta: tf.Tensor1D;
  eps: number;
}

/*
 * Two LayerNorms, the same function of x (biased variance over the last axis, eps inside the root, as
 * torch.nn.LayerNorm), written as two op sequences. They round differently in float32 (rsqrt and a product against
 * sqrt and a quotient) and their gradients are built from different graphs (tf.moments recomputes x - mean), so
 * swapping one for the other changes training results in the last bits: with CAVPT on the CLIP one, the DPT runs of
 * the golden check diverge from their second epoch on. Each keeps the sequence its results were recorded with.
 */

/** The CLIP towers' LayerNorm (ln_pre, ln_1, ln_2, ln_post, ln_final), checked against PyTorch (test/unit/clip). */
export function layerNorm<T extends tf.Tensor>(x: T, w: LayerNormWeights): T {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), -1, true);
    const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, w.eps)));
    return tf.add(tf.mul(normed, w.gamma), w.beta) as T;
  });
}

/** CAVPT's LayerNorms (dpt/prompts/cavpt.ts), via tf.moments; see above for why it is not the towers' one. */
export function momentsLayerNorm<T extends tf.Tensor>(x: T, w: LayerNormWeights): T {
  const axis = x.shape.length - 1;
  const { mean, variance } = tf.moments(x, axis, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, w.eps))), w.gamma), w.beta) as T;
}

/** Row-wise L2 normalisation, as `x / x.norm(dim=-1, keepdim=True)`. */
export function l2Normalize<T extends tf.Tensor>(x: T): T {
  return tf.div(x, tf.norm(x, 'euclidean', -1, true));
}

/** Rows of `table` [C, D] picked by integer `indices` [B, K] → [B, K, D], via a one-hot product (differentiable). */
export function selectRows(table: tf.Tensor2D, indices: tf.Tensor2D): tf.Tensor3D {
  const [b, k] = indices.shape;
  const c = table.shape[0];
  const oneHot = tf.oneHot(tf.reshape(indices, [-1]) as tf.Tensor1D, c).toFloat();
  return tf.reshape(tf.matMul(oneHot, table), [b, k, table.shape[1]]) as tf.Tensor3D;
}

/** Indices of the K largest entries per row (descending), computed outside any gradient. */
export function topKIndices(scores: tf.Tensor2D, k: number): Int32Array[] {
  const [rows, cols] = scores.shape;
  const values = scores.dataSync();
  const out: Int32Array[] = [];
  for (let r = 0; r < rows; r++) {
    const order = Array.from({ length: cols }, (_, c) => c);
    // Stable sort by descending score; ties keep the lower class index first, as torch.argsort usually does on CPU.
    order.sort((a, b) => values[r * cols + b]! - values[r * cols + a]! || a - b);
    out.push(Int32Array.from(order.slice(0, k)));
  }
  return out;
}
