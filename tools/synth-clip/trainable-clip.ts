/**
 * CLIP in training mode: the project's VisionTower and TextTower built on trainable variables, plus a learnable
 * logit scale and the symmetric InfoNCE loss. Two lookups are re-expressed so that they differentiate on the wasm
 * backend, which lacks Conv2DBackpropFilter and UnsortedSegmentSum: the patch convolution (stride = kernel, so a
 * patchify + matmul with the same HWIO filter) and the token-embedding gather (gradient scattered on the host).
 * Everything after the embeddings is the towers' own code.
 */
import * as tf from '@tensorflow/tfjs';
import type { SceneObject } from '../../data/synthetic/scene.ts';
import type { ClipConfig } from '../../dpt/clip/config.ts';
import { TextTower } from '../../dpt/clip/text.ts';
import { VisionTower } from '../../dpt/clip/vision.ts';
import type { CanonicalWeights } from '../../dpt/clip/weights.ts';
import { type LayerNormWeights, l2Normalize, layerNorm } from '../../dpt/ops.ts';
import { type CaptionMeaning, captionIsTrueOf } from './captions.ts';
import { TrainableWeightStore } from './trainable-weights.ts';

/** OpenAI CLIP clamps exp(logit_scale) at 100. */
export const MAX_LOG_SCALE = Math.log(100);

export class TrainableClip {
  readonly store: TrainableWeightStore;
  readonly vision: VisionTower;
  readonly text: TextTower;
  readonly logScale: tf.Variable;
  private readonly lnPre: LayerNormWeights;

  constructor(
    readonly config: ClipConfig,
    initial: CanonicalWeights,
  ) {
    this.store = new TrainableWeightStore(initial);
    this.vision = new VisionTower(config.vision, this.store);
    this.text = new TextTower(config.text, this.store);
    const scale = initial.get('logit_scale')?.data[0];
    if (scale === undefined) throw new Error('initial weights lack logit_scale');
    this.logScale = tf.variable(tf.scalar(scale), true, 'synthclip/logit_scale');
    this.lnPre = {
      gamma: this.store.variable('visual.ln_pre.weight') as tf.Variable<tf.Rank.R1>,
      beta: this.store.variable('visual.ln_pre.bias') as tf.Variable<tf.Rank.R1>,
      eps: config.vision.layerNormEps,
    };
  }

  /** Every trainable variable, the logit scale last. */
  variables(): tf.Variable[] {
    return [...this.store.entries.map((e) => e.variable), this.logScale];
  }

  /** Same result as VisionTower.embed, differentiable w.r.t. the patch filter on every backend. */
  embedImages(pixels: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => {
      const { imageSize: size, patchSize: p, width } = this.config.vision;
      const [batch] = pixels.shape;
      const grid = size / p;
      // [B, gh, p, gw, p, C] → [B, gh, gw, p, p, C]: each row is one patch in the filter's HWI order.
      const patches = tf.reshape(tf.transpose(tf.reshape(pixels, [batch * grid, p, grid, p * 3]), [0, 2, 1, 3]), [
        batch * grid * grid,
        p * p * 3,
      ]);
      const filter = tf.reshape(this.store.variable('visual.conv1.weight'), [p * p * 3, width]);
      const tokens = tf.reshape(tf.matMul(patches, filter), [batch, grid * grid, width]);
      const cls = tf.tile(this.store.variable('visual.class_embedding'), [batch, 1, 1]);
      const x = tf.add(tf.concat([cls, tokens], 1), this.store.variable('visual.positional_embedding'));
      return layerNorm(x as tf.Tensor3D, this.lnPre);
    });
  }

  encodeImages(pixels: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      let x = this.embedImages(pixels);
      for (let layer = 0; layer < this.vision.numLayers; layer++) x = this.vision.block(layer, x);
      return this.vision.head(x);
    });
  }

  /** Token lookup whose gradient (a scatter-add into the table) is computed on the host. */
  embedTokens(ids: Int32Array[]): tf.Tensor3D {
    const { contextLength: len, width, vocabSize } = this.config.text;
    const flat = new Int32Array(ids.length * len);
    ids.forEach((row, i) => {
      if (row.length !== len) throw new Error(`token row ${i} has length ${row.length}, context is ${len}`);
      flat.set(row, i * len);
    });
    const table = this.store.variable('token_embedding.weight');
    const lookup = tf.customGrad(((t: tf.Tensor) => {
      const value = tf.tidy(() => tf.gather(t, tf.tensor1d(flat, 'int32')));
      const gradFunc = (dy: tf.Tensor) => {
        const g = dy.dataSync();
        const out = new Float32Array(vocabSize * width);
        for (let r = 0; r < flat.length; r++) {
          const base = (flat[r] as number) * width;
          for (let c = 0; c < width; c++) out[base + c] = (out[base + c] as number) + (g[r * width + c] as number);
        }
        return tf.tensor2d(out, [vocabSize, width]);
      };
      return { value, gradFunc };
    }) as Parameters<typeof tf.customGrad>[0]);
    return tf.tidy(() => tf.reshape(lookup(table), [ids.length, len, width]));
  }

  encodeTexts(ids: Int32Array[], eotIndex: number[]): tf.Tensor2D {
    return tf.tidy(() => this.text.encodeEmbeddings(this.embedTokens(ids), eotIndex));
  }

  /**
   * Symmetric InfoNCE: cross-entropy of image→text and text→image logits, averaged. `targets[i]` is the row of
   * positives for pair i (identical captions in one batch are all positives, weighted equally), or the identity;
   * `textTargets[j]` is text j's row over images (default: the transpose of `targets`).
   */
  loss(
    pixels: tf.Tensor4D,
    ids: Int32Array[],
    eotIndex: number[],
    targets?: tf.Tensor2D,
    textTargets?: tf.Tensor2D,
  ): ContrastiveOutput {
    return tf.tidy(() => {
      const img = l2Normalize(this.encodeImages(pixels));
      const txt = l2Normalize(this.encodeTexts(ids, eotIndex));
      const logits = tf.mul(tf.matMul(img, txt, false, true), tf.exp(this.logScale)) as tf.Tensor2D;
      const n = logits.shape[0];
      const target = targets ?? tf.eye(n);
      const i2t = tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits, 1)), 1)));
      const t2iTarget = textTargets ?? tf.transpose(target);
      const t2i = tf.neg(tf.mean(tf.sum(tf.mul(t2iTarget, tf.logSoftmax(tf.transpose(logits), 1)), 1)));
      return { loss: tf.div(tf.add(i2t, t2i), 2) as tf.Scalar, logits };
    });
  }

  /** Keeps exp(logit_scale) ≤ 100 after each update. */
  clampScale(): void {
    tf.tidy(() => this.logScale.assign(tf.minimum(this.logScale, MAX_LOG_SCALE)));
  }

  canonical(): CanonicalWeights {
    const out = this.store.canonical();
    out.set('logit_scale', { shape: [], data: Float32Array.from(this.logScale.dataSync()) });
    return out;
  }

  dispose(): void {
    this.store.dispose();
    this.logScale.dispose();
  }
}

export interface ContrastiveOutput {
  loss: tf.Scalar;
  logits: tf.Tensor2D;
}

/** Soft targets: row i spreads 1 over every j whose caption equals caption i. */
export function captionTargets(captions: string[]): tf.Tensor2D {
  const n = captions.length;
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    let same = 0;
    for (let j = 0; j < n; j++) if (captions[j] === captions[i]) same++;
    for (let j = 0; j < n; j++) if (captions[j] === captions[i]) data[i * n + j] = 1 / same;
  }
  return tf.tensor2d(data, [n, n]);
}

/**
 * Targets from meaning: image i and text j are a positive pair when caption j is true of image i ("a circle" of every
 * image holding a named circle), so a short caption's other true images are not pushed away as negatives. Returns
 * the image→text rows and the text→image rows, each spreading 1 over its positives.
 */
export function meaningTargets(
  meanings: readonly Omit<CaptionMeaning, 'text'>[],
  objects: readonly (readonly Pick<SceneObject, 'shape' | 'colour' | 'texture' | 'size'>[])[],
): { images: tf.Tensor2D; texts: tf.Tensor2D } {
  const n = meanings.length;
  const truth = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++)
      truth[i * n + j] = captionIsTrueOf(meanings[j] as CaptionMeaning, objects[i] ?? []) ? 1 : 0;
  }
  const images = new Float32Array(n * n);
  const texts = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    let row = 0;
    let col = 0;
    for (let j = 0; j < n; j++) {
      row += truth[i * n + j] as number;
      col += truth[j * n + i] as number;
    }
    // Every pair's own caption is true of its own image, so neither sum is 0.
    for (let j = 0; j < n; j++) {
      images[i * n + j] = (truth[i * n + j] as number) / row;
      texts[i * n + j] = (truth[j * n + i] as number) / col;
    }
  }
  return { images: tf.tensor2d(images, [n, n]), texts: tf.tensor2d(texts, [n, n]) };
}
