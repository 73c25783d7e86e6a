import * as tf from '@tensorflow/tfjs';
import { type LayerNormWeights, layerNorm } from '../ops.ts';
import type { VisionConfig } from './config.ts';
import { type BlockWeights, blockAttention, residualBlock, type WeightStore } from './layers.ts';

/**
 * Hook called before block `layer` with that block's input tokens [B, T, D] (T = numTokens). Returning extra tokens
 * [B, n, D] appends them for that one block; they are dropped after it. Returning null leaves the block unchanged.
 */
export type InjectFn = (layer: number, xIn: tf.Tensor3D) => tf.Tensor3D | null;

/** Hook called with block `layer`'s whole input [B, T + n, D]: the image's tokens, then those injected for it. */
export type ObserveFn = (layer: number, tokens: tf.Tensor3D) => void;

/** CLIP's ViT image encoder (OpenAI VisionTransformer / transformers' CLIPVisionTransformer + visual projection). */
export class VisionTower {
  readonly numLayers: number;
  readonly width: number;
  readonly imageSize: number;
  readonly patchSize: number;
  readonly numTokens: number;
  readonly projDim: number;
  private readonly patchFilter: tf.Tensor4D;
  private readonly classEmbedding: tf.Tensor3D;
  private readonly positional: tf.Tensor3D;
  private readonly lnPre: LayerNormWeights;
  private readonly blocks: BlockWeights[];
  private readonly lnPost: LayerNormWeights;
  private readonly proj: tf.Tensor2D;

  constructor(config: VisionConfig, store: WeightStore) {
    this.numLayers = config.layers;
    this.width = config.width;
    this.imageSize = config.imageSize;
    this.patchSize = config.patchSize;
    const grid = config.imageSize / config.patchSize;
    this.numTokens = 1 + grid * grid;
    const eps = config.layerNormEps;
    // PyTorch conv weight OIHW → TF.js HWIO.
    this.patchFilter = store.get('visual.conv1.weight', (t) => tf.transpose(t, [2, 3, 1, 0])) as tf.Tensor4D;
    this.classEmbedding = store.get('visual.class_embedding', (t) =>
      tf.reshape(t, [1, 1, config.width]),
    ) as tf.Tensor3D;
    this.positional = store.get('visual.positional_embedding', (t) =>
      tf.reshape(t, [1, this.numTokens, config.width]),
    ) as tf.Tensor3D;
    this.lnPre = store.layerNorm('visual.ln_pre', eps);
    this.blocks = Array.from({ length: config.layers }, (_, i) =>
      store.block(`visual.transformer.resblocks.${i}.`, config.heads, eps, config.activation),
    );
    this.lnPost = store.layerNorm('visual.ln_post', eps);
    this.proj = store.get('visual.proj') as tf.Tensor2D;
    this.projDim = this.proj.shape[1];
  }

  /** Patch embedding, class token, positional embedding, ln_pre: NHWC pixels → [B, 1+P, D]. */
  embed(pixels: tf.Tensor4D): tf.Tensor3D {
    const [batch, height, width, channels] = pixels.shape;
    if (height !== this.imageSize || width !== this.imageSize || channels !== 3) {
      throw new Error(
        `vision tower expects [B, ${this.imageSize}, ${this.imageSize}, 3] pixels, got [${pixels.shape.join(', ')}]`,
      );
    }
    return tf.tidy(() => {
      const patches = tf.conv2d(pixels, this.patchFilter, this.patchSize, 'valid');
      const tokens = tf.reshape(patches, [batch, this.numTokens - 1, this.width]);
      const cls = tf.tile(this.classEmbedding, [batch, 1, 1]);
      const x = tf.add(tf.concat([cls, tokens], 1), this.positional) as tf.Tensor3D;
      return layerNorm(x, this.lnPre);
    });
  }

  /** One pre-LN residual attention block (no mask); works for any token count. */
  block(layer: number, x: tf.Tensor3D): tf.Tensor3D {
    const w = this.blocks[layer];
    if (!w) throw new Error(`vision layer ${layer} out of range 0..${this.numLayers - 1}`);
    return residualBlock(x, w);
  }

  /** Block `layer`'s attention weights [B, H, L, L] for its input `x` (patch maps, docs/attention.md). */
  attention(layer: number, x: tf.Tensor3D): tf.Tensor4D {
    const w = this.blocks[layer];
    if (!w) throw new Error(`vision layer ${layer} out of range 0..${this.numLayers - 1}`);
    return blockAttention(x, w);
  }

  /** ln_post of the class token, then the projection → [B, projDim], unnormalised. */
  head(x: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const [batch, , width] = x.shape;
      const cls = tf.reshape(tf.slice(x, [0, 0, 0], [batch, 1, width]), [batch, width]) as tf.Tensor2D;
      return tf.matMul(layerNorm(cls, this.lnPost), this.proj);
    });
  }

  /**
   * The full image encoder: embed, the blocks, head. Before block `layer`, `inject(layer, x)` may return tokens that
   * are appended for that block only; the block's output is cut back to the image's tokens. Without a tf.tidy of
   * its own, so that tensors the hook makes (CAVPT logits) outlive the call: call it inside a tidy or a gradient.
   * `observe` sees each block's whole input, injected tokens included.
   */
  encode(pixels: tf.Tensor4D, inject?: InjectFn, observe?: ObserveFn): tf.Tensor2D {
    let x = this.embed(pixels);
    const [batch, count, width] = x.shape;
    for (let layer = 0; layer < this.numLayers; layer++) {
      const extra = inject ? inject(layer, x) : null;
      if (extra) {
        const tokens = tf.concat([x, extra], 1) as tf.Tensor3D;
        observe?.(layer, tokens);
        x = tf.slice(this.block(layer, tokens), [0, 0, 0], [batch, count, width]);
      } else {
        observe?.(layer, x);
        x = this.block(layer, x);
      }
    }
    return this.head(x);
  }
}
