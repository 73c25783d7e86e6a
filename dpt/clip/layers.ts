import * as tf from '@tensorflow/tfjs';
import { dense, type LayerNormWeights, layerNorm } from '../ops.ts';
import type { Activation } from './config.ts';
import type { CanonicalWeights } from './weights.ts';

/** One CLIP ResidualAttentionBlock, Linear weights pre-transposed to [in, out] for tf.matMul. */
export interface BlockWeights {
  ln1: LayerNormWeights;
  wQkv: tf.Tensor2D;
  bQkv: tf.Tensor1D;
  wOut: tf.Tensor2D;
  bOut: tf.Tensor1D;
  ln2: LayerNormWeights;
  wFc: tf.Tensor2D;
  bFc: tf.Tensor1D;
  wProj: tf.Tensor2D;
  bProj: tf.Tensor1D;
  heads: number;
  activation: Activation;
}

/** Converts canonical host tensors to TF.js tensors (kept alive until the model is disposed). */
export class WeightStore {
  readonly tensors: tf.Tensor[] = [];
  constructor(private readonly host: CanonicalWeights) {}

  get(name: string, transform?: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
    const h = this.host.get(name);
    if (!h) throw new Error(`internal: canonical tensor ${name} was not loaded`);
    const t = tf.tidy(() => {
      const raw = tf.tensor(h.data, h.shape, 'float32');
      return transform ? transform(raw) : raw;
    });
    this.tensors.push(t);
    return t;
  }

  vector(name: string): tf.Tensor1D {
    return this.get(name) as tf.Tensor1D;
  }

  /** PyTorch Linear weight [out, in] → [in, out]. */
  linear(name: string): tf.Tensor2D {
    return this.get(name, (t) => tf.transpose(t)) as tf.Tensor2D;
  }

  layerNorm(prefix: string, eps: number): LayerNormWeights {
    return { gamma: this.vector(`${prefix}.weight`), beta: this.vector(`${prefix}.bias`), eps };
  }

  block(prefix: string, heads: number, eps: number, activation: Activation): BlockWeights {
    return {
      ln1: this.layerNorm(`${prefix}ln_1`, eps),
      wQkv: this.linear(`${prefix}attn.in_proj_weight`),
      bQkv: this.vector(`${prefix}attn.in_proj_bias`),
      wOut: this.linear(`${prefix}attn.out_proj.weight`),
      bOut: this.vector(`${prefix}attn.out_proj.bias`),
      ln2: this.layerNorm(`${prefix}ln_2`, eps),
      wFc: this.linear(`${prefix}mlp.c_fc.weight`),
      bFc: this.vector(`${prefix}mlp.c_fc.bias`),
      wProj: this.linear(`${prefix}mlp.c_proj.weight`),
      bProj: this.vector(`${prefix}mlp.c_proj.bias`),
      heads,
      activation,
    };
  }

  dispose(): void {
    for (const t of this.tensors) t.dispose();
    this.tensors.length = 0;
  }
}

function activate(x: tf.Tensor, kind: Activation): tf.Tensor {
  if (kind === 'quick_gelu') return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
  // Exact (erf) GELU, as torch.nn.GELU().
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/** Per-head queries, keys and values of one block's input: LN1, the packed projection, split into [B, H, L, d]. */
function headProjections(x: tf.Tensor3D, w: BlockWeights): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  const [batch, len, dim] = x.shape;
  const headDim = dim / w.heads;
  const qkv = dense(layerNorm(x, w.ln1), w.wQkv, w.bQkv) as tf.Tensor3D;
  return tf.split(qkv, 3, 2).map((t) => tf.transpose(tf.reshape(t, [batch, len, w.heads, headDim]), [0, 2, 1, 3])) as [
    tf.Tensor4D,
    tf.Tensor4D,
    tf.Tensor4D,
  ];
}

/** softmax(q·kᵀ/√d + mask) [B, H, L, L]: row i is how token i's query spreads its attention over every token. */
function attentionWeights(q: tf.Tensor4D, k: tf.Tensor4D, mask?: tf.Tensor2D): tf.Tensor4D {
  let scores = tf.matMul(tf.mul(q, 1 / Math.sqrt(q.shape[3])), k, false, true);
  if (mask) scores = tf.add(scores, mask);
  return tf.softmax(scores, -1) as tf.Tensor4D;
}

/**
 * Pre-LN residual attention block: x + MHA(LN1(x)), then + MLP(LN2(x)). `mask` is additive [L, L] (causal text
 * mask) or undefined (vision).
 */
export function residualBlock(x: tf.Tensor3D, w: BlockWeights, mask?: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const [batch, len, dim] = x.shape;
    const [q, k, v] = headProjections(x, w);
    const attended = tf.matMul(attentionWeights(q, k, mask), v);
    const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [batch, len, dim]) as tf.Tensor3D;
    const h = tf.add(x, dense(merged, w.wOut, w.bOut)) as tf.Tensor3D;
    const hidden = activate(dense(layerNorm(h, w.ln2), w.wFc, w.bFc), w.activation) as tf.Tensor3D;
    return tf.add(h, dense(hidden, w.wProj, w.bProj)) as tf.Tensor3D;
  });
}

/** The attention weights [B, H, L, L] the block computes for input `x` (what `residualBlock` multiplies into v). */
export function blockAttention(x: tf.Tensor3D, w: BlockWeights, mask?: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const [q, k] = headProjections(x, w);
    return attentionWeights(q, k, mask);
  });
}

/**
 * Rows x[n, index[n], :] as a one-hot matrix product: differentiable on every backend (tf.gather's gradient needs
 * UnsortedSegmentSum, which the wasm backend lacks).
 */
export function selectTokens(x: tf.Tensor3D, index: number[]): tf.Tensor2D {
  return tf.tidy(() => {
    const [batch, len, dim] = x.shape;
    if (index.length !== batch) throw new Error(`selectTokens: ${index.length} indices for a batch of ${batch}`);
    const pick = tf.reshape(tf.oneHot(tf.tensor1d(index, 'int32'), len).toFloat(), [batch, 1, len]);
    return tf.reshape(tf.matMul(pick, x), [batch, dim]) as tf.Tensor2D;
  });
}
