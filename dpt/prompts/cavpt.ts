import * as tf from '@tensorflow/tfjs';
import { dense, type LayerNormWeights, momentsLayerNorm } from '../ops.ts';
import type { ParamStore } from '../params.ts';
import { linearInit, normalInit, type RandomSource } from './init.ts';

/**
 * Class-aware visual prompt generator, exactly DPT.py:354-404 (docs/method.md §7), one module:
 *   KV = [stopgrad(x_in); ctx]                  x_in: tokens entering the block, ctx: `ctxTokens` learnable tokens
 *   Q  = T_sel · W_meta + b_meta                T_sel: learned (unnormalised) text features of the top-K classes
 *   A  = softmax( (Q W_q)(KV W_k)ᵀ / √32 )      single head, no bias, scores over the keys
 *   O  = (A · KV) · W_v                         values are the raw KV tokens; projection after attention
 *   logits = LN(O) · W_cls                      C-way classifier, no bias, no residual
 *   P  = LN2(O + Q)                             the K class-aware prompt tokens
 * The stop-gradient on x_in is the caller's job (it owns the tape); see ops.stopGradient.
 */
export const CAVPT_QK_DIM = 32;

export interface CavptDims {
  textDim: number;
  width: number;
  numClasses: number;
  ctxTokens: number;
}

export interface CavptOutput {
  /** [B, K, width] */
  prompts: tf.Tensor3D;
  /** [B, K, C], only when requested (the classifier must stay out of the graph when no row is supervised) */
  logits?: tf.Tensor3D;
}

export class CavptModule {
  constructor(
    private readonly store: ParamStore,
    readonly prefix: string,
    readonly dims: CavptDims,
    rng: RandomSource,
  ) {
    const { textDim, width, numClasses, ctxTokens } = dims;
    const meta = linearInit(rng, textDim, width, true);
    store.add(`${prefix}.meta.weight`, 'cavpt', meta.weight);
    store.add(`${prefix}.meta.bias`, 'cavpt', meta.bias!);
    store.add(`${prefix}.q.weight`, 'cavpt', linearInit(rng, width, CAVPT_QK_DIM, false).weight);
    store.add(`${prefix}.k.weight`, 'cavpt', linearInit(rng, width, CAVPT_QK_DIM, false).weight);
    store.add(`${prefix}.v.weight`, 'cavpt', linearInit(rng, width, width, false).weight);
    store.add(`${prefix}.ln.gamma`, 'cavpt', tf.ones([width]));
    store.add(`${prefix}.ln.beta`, 'cavpt', tf.zeros([width]));
    store.add(`${prefix}.classifier.weight`, 'cavpt', linearInit(rng, width, numClasses, false).weight);
    store.add(`${prefix}.ln2.gamma`, 'cavpt', tf.ones([width]));
    store.add(`${prefix}.ln2.beta`, 'cavpt', tf.zeros([width]));
    if (ctxTokens > 0) store.add(`${prefix}.ctx`, 'cavpt', normalInit(rng, [ctxTokens, width], 0.02));
  }

  private p(name: string): tf.Variable {
    return this.store.get(`${this.prefix}.${name}`);
  }

  /** nn.LayerNorm(width) with PyTorch's default eps. */
  private ln(name: 'ln' | 'ln2'): LayerNormWeights {
    return { gamma: this.p(`${name}.gamma`) as tf.Tensor1D, beta: this.p(`${name}.beta`) as tf.Tensor1D, eps: 1e-5 };
  }

  /**
   * @param xIn  [B, N, width] tokens entering the block, ALREADY detached by the caller
   * @param tSel [B, K, textDim] learned text features of each sample's top-K classes (with gradient)
   */
  forward(xIn: tf.Tensor3D, tSel: tf.Tensor3D, withLogits: boolean): CavptOutput {
    const [b] = xIn.shape;
    const kv =
      this.dims.ctxTokens > 0
        ? tf.concat([xIn, tf.tile(tf.expandDims(this.p('ctx'), 0), [b, 1, 1])], 1)
        : (xIn as tf.Tensor);
    const q = dense(tSel, this.p('meta.weight') as tf.Tensor2D, this.p('meta.bias') as tf.Tensor1D);
    const qProj = dense(q, this.p('q.weight') as tf.Tensor2D) as tf.Tensor3D;
    const kProj = dense(kv, this.p('k.weight') as tf.Tensor2D) as tf.Tensor3D;
    const scores = tf.div(tf.matMul(qProj, kProj, false, true), Math.sqrt(CAVPT_QK_DIM));
    const attn = tf.softmax(scores, -1) as tf.Tensor3D;
    const o = dense(tf.matMul(attn, kv as tf.Tensor3D), this.p('v.weight') as tf.Tensor2D);
    const prompts = momentsLayerNorm(tf.add(o, q), this.ln('ln2')) as tf.Tensor3D;
    if (!withLogits) return { prompts };
    const normed = momentsLayerNorm(o, this.ln('ln'));
    return { prompts, logits: dense(normed, this.p('classifier.weight') as tf.Tensor2D) as tf.Tensor3D };
  }
}
