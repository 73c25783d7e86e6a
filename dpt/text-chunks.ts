import * as tf from '@tensorflow/tfjs';

/**
 * How many class prompts go through CLIP's text tower in one pass (training, hand-crafted features, evaluation).
 *
 * Why 16: under a gradient tape the ViT-B text tower (width 512, 12 layers, 77 tokens) costs about 0.19 GB of RSS per
 * prompt on tfjs-node (measured: 1.5 / 3.0 / 5.7 GB for 8 / 16 / 32 prompts; TF.js keeps every saved activation AND
 * every intermediate gradient until the backward pass ends), so a chunk of 16 peaks near 3 GB, where 64 would take
 * 11 GB and 100 about 18 GB: on a 24 GB machine that leaves little or nothing for the vision tower's own tape. Still,
 * 16 × 77 = 1232 rows per matrix product keep BLAS efficient, and 16 was no slower than 32 per class when measured
 * side by side. Class lists up to the chunk size skip the checkpointing (no recomputation), as before.
 */
export const TEXT_CHUNK_SIZE = 16;

export interface ChunkRange {
  start: number;
  size: number;
}

/** Consecutive ranges of at most `chunkSize` rows covering [0, n); the last one may be shorter. */
export function chunkRanges(n: number, chunkSize: number): ChunkRange[] {
  checkChunkSize(chunkSize);
  const ranges: ChunkRange[] = [];
  for (let start = 0; start < n; start += chunkSize) ranges.push({ start, size: Math.min(chunkSize, n - start) });
  return ranges;
}

/** A chunk size is a positive integer, or Infinity for "everything at once" (the unchunked path). */
export function checkChunkSize(chunkSize: number): void {
  if (chunkSize !== Number.POSITIVE_INFINITY && !(Number.isInteger(chunkSize) && chunkSize > 0)) {
    throw new Error(`text chunk size must be a positive integer or Infinity, got ${chunkSize}`);
  }
}

/**
 * `fn` over row chunks, concatenated along axis 0. Each chunk runs in its own tidy, so outside a gradient tape only
 * one chunk's intermediates are alive at a time. Under a tape this saves nothing (the tape keeps every chunk's
 * activations): differentiated callers want checkpointedChunks (dpt/recompute.ts).
 */
export function concatChunks<T extends tf.Tensor>(n: number, chunkSize: number, fn: (range: ChunkRange) => T): T {
  const ranges = chunkRanges(n, chunkSize);
  // One chunk (or none: zero rows keep their [0, …] shape) needs no concat and no copy.
  if (ranges.length <= 1) return fn(ranges[0] ?? { start: 0, size: n });
  const parts = ranges.map((range) => tf.tidy(() => fn(range)));
  try {
    return tf.concat(parts, 0) as T;
  } finally {
    tf.dispose(parts);
  }
}

/** Rows [start, start + size) of `x` along axis 0; `x` itself when the range covers it. */
export function sliceRows<T extends tf.Tensor>(x: T, range: ChunkRange): T {
  if (range.start === 0 && range.size === x.shape[0]) return x;
  const begin = x.shape.map((_, i) => (i === 0 ? range.start : 0));
  const size = x.shape.map((d, i) => (i === 0 ? range.size : d));
  return tf.slice(x, begin, size) as T;
}
