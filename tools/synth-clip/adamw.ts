/**
 * AdamW (decoupled weight decay, Loshchilov & Hutter) over tf.Variables, with the learning rate given per step so a
 * schedule can drive it. Decay applies only to the variables marked for it (matrices, as open_clip excludes gains,
 * biases, embeddings and the logit scale).
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export class AdamW {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;

  constructor(
    private readonly params: tf.Variable[],
    private readonly decays: boolean[],
    private readonly opts: AdamWOptions,
  ) {
    if (decays.length !== params.length) throw new Error('one weight-decay flag per parameter is needed');
    this.m = params.map((p) => tf.variable(tf.zerosLike(p), false));
    this.v = params.map((p) => tf.variable(tf.zerosLike(p), false));
  }

  get step(): number {
    return this.t;
  }

  /** Applies one update with `grads[i]` for `params[i]`. */
  apply(grads: tf.Tensor[], lr: number): void {
    this.t++;
    const { beta1, beta2, eps, weightDecay } = this.opts;
    const c1 = 1 - beta1 ** this.t;
    const c2 = 1 - beta2 ** this.t;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = grads[i];
        if (!g) throw new Error(`no gradient for parameter ${p.name}`);
        const m = this.m[i] as tf.Variable;
        const v = this.v[i] as tf.Variable;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        const decayed = this.decays[i] ? tf.mul(p, 1 - lr * weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(update, lr)));
      });
    });
  }

  /** Moments and step count as host arrays, for checkpoints. */
  state(): { t: number; m: Float32Array[]; v: Float32Array[] } {
    return {
      t: this.t,
      m: this.m.map((x) => Float32Array.from(x.dataSync())),
      v: this.v.map((x) => Float32Array.from(x.dataSync())),
    };
  }

  restore(state: { t: number; m: Float32Array[]; v: Float32Array[] }): void {
    this.t = state.t;
    tf.tidy(() => {
      for (const [moments, saved] of [
        [this.m, state.m],
        [this.v, state.v],
      ] as const) {
        for (const [i, data] of saved.entries()) {
          const target = moments[i];
          if (!target) throw new Error(`optimizer state has ${saved.length} tensors, the model ${moments.length}`);
          target.assign(tf.tensor(data, target.shape));
        }
      }
    });
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/** Linear warmup to `peak`, then cosine decay to `floor` at `total` steps (step counts from 0). */
export function warmupCosine(step: number, total: number, warmup: number, peak: number, floor = 0): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return floor + 0.5 * (peak - floor) * (1 + Math.cos(Math.PI * progress));
}
