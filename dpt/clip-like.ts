import type * as tf from '@tensorflow/tfjs';

/**
 * The parts of the CLIP helper's ClipModel / ClipTokenizer (dpt/clip/model.ts, dpt/clip/tokenizer.ts) the trainer uses.
 * Typed structurally so the trainer can be built and tested before, and independently of, the real loader.
 */
export interface VisionLike {
  numLayers: number;
  width: number;
  imageSize: number;
  embed(pixels: tf.Tensor4D): tf.Tensor3D;
  block(layer: number, x: tf.Tensor3D): tf.Tensor3D;
  head(x: tf.Tensor3D): tf.Tensor2D;
}

export interface TextLike {
  width: number;
  contextLength: number;
  projDim: number;
  tokenEmbedding(ids: Int32Array[] | tf.Tensor2D): tf.Tensor3D;
  encodeEmbeddings(x: tf.Tensor3D, eotIndex: number[]): tf.Tensor2D;
}

export interface ClipLike {
  vision: VisionLike;
  text: TextLike;
  logitScale(): number;
}

export interface TokenizerLike {
  encode(texts: string[]): { ids: Int32Array[]; eotIndex: number[] };
  tokenize(text: string): number[];
}
