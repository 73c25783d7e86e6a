import * as tf from '@tensorflow/tfjs';
import { type LayerNormWeights, layerNorm } from '../ops.ts';
import { concatChunks, sliceRows, TEXT_CHUNK_SIZE } from '../text-chunks.ts';
import type { TextConfig } from './config.ts';
import { type BlockWeights, residualBlock, selectTokens, type WeightStore } from './layers.ts';

/** CLIP's causal text transformer with end-of-text pooling and the text projection. */
export class TextTower {
  readonly numLayers: number;
  readonly width: number;
  readonly contextLength: number;
  readonly vocabSize: number;
  readonly projDim: number;
  private readonly tokenTable: tf.Tensor2D;
  private readonly positional: tf.Tensor3D;
  private readonly blocks: BlockWeights[];
  private readonly lnFinal: LayerNormWeights;
  private readonly proj: tf.Tensor2D;
  private readonly causalMask: tf.Tensor2D;

  constructor(config: TextConfig, store: WeightStore) {
    this.numLayers = config.layers;
    this.width = config.width;
    this.contextLength = config.contextLength;
    this.vocabSize = config.vocabSize;
    const eps = config.layerNormEps;
    this.tokenTable = store.get('token_embedding.weight') as tf.Tensor2D;
    this.positional = store.get('positional_embedding', (t) =>
      tf.reshape(t, [1, config.contextLength, config.width]),
    ) as tf.Tensor3D;
    this.blocks = Array.from({ length: config.layers }, (_, i) =>
      store.block(`transformer.resblocks.${i}.`, config.heads, eps, config.activation),
    );
    this.lnFinal = store.layerNorm('ln_final', eps);
    this.proj = store.get('text_projection') as tf.Tensor2D;
    this.projDim = this.proj.shape[1];
    // Additive mask: position i attends to j <= i only. A large finite negative keeps softmax NaN-free.
    const n = config.contextLength;
    const mask = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) mask[i * n + j] = -1e9;
    this.causalMask = tf.tensor2d(mask, [n, n]);
    store.tensors.push(this.causalMask);
  }

  /** Frozen token lookup → [N, ctx, D]; not differentiable (prompts are optimised in embedding space instead). */
  tokenEmbedding(ids: Int32Array[] | tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const idTensor = Array.isArray(ids) ? this.idsToTensor(ids) : ids;
      const [n, len] = idTensor.shape;
      if (len !== this.contextLength)
        throw new Error(`token ids have length ${len}, context length is ${this.contextLength}`);
      const flat = tf.gather(this.tokenTable, tf.reshape(idTensor, [n * len]).toInt());
      return tf.reshape(flat, [n, len, this.width]);
    });
  }

  /** Positional embedding, causal transformer, ln_final, EOT token, projection → [N, projDim] (unnormalised). */
  encodeEmbeddings(x: tf.Tensor3D, eotIndex: number[]): tf.Tensor2D {
    const [n, len] = x.shape;
    if (len !== this.contextLength)
      throw new Error(`text embeddings have length ${len}, context length is ${this.contextLength}`);
    if (eotIndex.length !== n) throw new Error(`${eotIndex.length} EOT indices for ${n} sequences`);
    return tf.tidy(() => {
      let h = tf.add(x, this.positional) as tf.Tensor3D;
      for (const block of this.blocks) h = residualBlock(h, block, this.causalMask);
      const pooled = selectTokens(layerNorm(h, this.lnFinal), eotIndex);
      return tf.matMul(pooled, this.proj);
    });
  }

  /**
   * Token ids → [N, projDim], `chunkSize` texts per pass: one pass over a whole class list (ImageNet's 1000 prompts)
   * would hold every text's intermediates of a layer at once.
   */
  encode(ids: Int32Array[] | tf.Tensor2D, eotIndex: number[], chunkSize = TEXT_CHUNK_SIZE): tf.Tensor2D {
    const n = Array.isArray(ids) ? ids.length : ids.shape[0];
    if (eotIndex.length !== n) throw new Error(`${eotIndex.length} EOT indices for ${n} sequences`);
    return concatChunks(n, chunkSize, (range) =>
      tf.tidy(() => {
        const part = Array.isArray(ids) ? ids.slice(range.start, range.start + range.size) : sliceRows(ids, range);
        return this.encodeEmbeddings(this.tokenEmbedding(part), eotIndex.slice(range.start, range.start + range.size));
      }),
    );
  }

  private idsToTensor(ids: Int32Array[]): tf.Tensor2D {
    const flat = new Int32Array(ids.length * this.contextLength);
    ids.forEach((row, i) => {
      if (row.length !== this.contextLength) {
        throw new Error(`token ids have length ${row.length}, context length is ${this.contextLength}`);
      }
      for (const id of row) {
        if (id < 0 || id >= this.vocabSize)
          throw new Error(`token id ${id} outside the vocabulary (size ${this.vocabSize})`);
      }
      flat.set(row, i * this.contextLength);
    });
    return tf.tensor2d(flat, [ids.length, this.contextLength], 'int32');
  }
}
