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

/** `x @ w (+ b)` for x of any rank >= 2 (last axis contracted), w: [in, out]. */
export function dense(x: tf.Tensor, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor {
  const inDim = x.shape[x.shape.length - 1]!;
  const lead = x.shape.slice(0, -1);
  const y = tf.matMul(tf.reshape(x, [-1, inDim]) as tf.Tensor2D, w);
  const withBias = b ? tf.add(y, b) : y;
  return tf.reshape(withBias, [...lead, w.shape[1]]);
}

/** LayerNorm over the last axis, eps 1e-5 like torch.nn.LayerNorm. */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = 1e-5): tf.Tensor {
  const axis = x.shape.length - 1;
  const { mean, variance } = tf.moments(x, axis, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta);
}

/** Row-wise L2 normalisation, as `x / x.norm(dim=-1, keepdim=True)`. */
export function l2Normalize(x: tf.Tensor): tf.Tensor {
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
