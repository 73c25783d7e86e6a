import * as tf from '@tensorflow/tfjs';
import { type ChunkRange, chunkRanges, concatChunks, sliceRows } from './text-chunks.ts';

/**
 * Gradient checkpointing over row chunks: rows = concat(encode(chunk) for each chunk), differentiable w.r.t. the
 * trainable variable `param` that `encode` reads, with a tape cost of the [n, d] output only.
 *
 * Why: TF.js's tape keeps every intermediate of a differentiated function until the backward pass ends. For CoOp's
 * learned prompts that is CLIP's whole text tower over every class, so memory grew with the class count (ImageNet's
 * 1000 prompts need far more than a machine has). Here the forward runs inside a tf.customGrad, where nothing is
 * recorded, one chunk at a time; its gradient function re-runs each chunk's forward under a tape of its own,
 * back-propagates that chunk's slice of dy, adds the chunk's gradient w.r.t. `param` and drops the chunk's tape
 * before the next one. Peak memory: one chunk's activations (forward + backward), whatever n is; cost: one extra
 * forward of the text tower per step.
 *
 * `encode(range)` must depend on trainable variables through `param` only (it may read any frozen tensors): a
 * customGrad can only send gradient to its declared inputs, so another variable would silently get none. The
 * recomputation therefore differentiates w.r.t. every trainable variable and fails loudly if it reaches another one.
 * With n <= chunkSize the plain differentiable path runs instead (the tape then holds one chunk anyway).
 */
export function checkpointedChunks(
  param: tf.Variable,
  n: number,
  chunkSize: number,
  encode: (range: ChunkRange) => tf.Tensor2D,
): tf.Tensor2D {
  if (n <= chunkSize || !param.trainable) return concatChunks(n, chunkSize, encode);
  const op = tf.customGrad((..._inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    // `param` is a variable, so it outlives the forward scope and needs no save(); its value cannot change between
    // this forward and the backward of the same gradient computation.
    value: concatChunks(n, chunkSize, encode),
    gradFunc: (dy: tf.Tensor2D) => {
      let total: tf.Tensor | undefined;
      for (const range of chunkRanges(n, chunkSize)) {
        const g = tf.tidy(() => chunkGradient(param, encode, range, sliceRows(dy, range)));
        if (total) {
          const next = tf.add(total, g);
          tf.dispose([total, g]);
          total = next;
        } else {
          total = g;
        }
      }
      return [total!];
    },
  }));
  return op(param) as tf.Tensor2D;
}

/** d(sum(encode(range) ⊙ dyChunk)) / d param: the chunk's vector-Jacobian product. */
function chunkGradient(
  param: tf.Variable,
  encode: (range: ChunkRange) => tf.Tensor2D,
  range: ChunkRange,
  dyChunk: tf.Tensor2D,
): tf.Tensor {
  const { grads } = withOwnTape(() =>
    // No variable list: every trainable variable the chunk reads is differentiated, so stray ones are caught.
    tf.variableGrads(() => tf.sum(tf.mul(encode(range), dyChunk)) as tf.Scalar),
  );
  const stray = Object.keys(grads).filter((name) => name !== param.name);
  if (stray.length > 0) {
    throw new Error(
      `checkpointedChunks: the chunk function reads trainable ${stray.join(', ')} besides ${param.name}; ` +
        `their gradients would be lost (only ${param.name} is differentiated through the checkpoint)`,
    );
  }
  return grads[param.name] ?? tf.zerosLike(param);
}

/**
 * Runs a gradient computation (tf.grads, tf.variableGrads, …) from inside another one's backward pass.
 *
 * Why: TF.js 4.22 keeps one tape per engine (`engine.state.activeTape`). While an outer gradients() call
 * back-propagates, the gradient depth is back to 0, so a nested call starts a fresh tape in that same slot and, when
 * it finishes, sets the slot to null; the outer call then fails (`Cannot read properties of null (reading
 * 'forEach')`) and leaks its saved tensors. Measured on the cpu, wasm and tensorflow backends alike (the tape lives
 * in tfjs-core). Putting the outer tape back restores both; test/unit/trainer/text-chunks.test.ts guards it.
 */
export function withOwnTape<T>(fn: () => T): T {
  const state = tf.engine().state;
  const outer = state.activeTape;
  try {
    return fn();
  } finally {
    state.activeTape = outer;
  }
}
