import * as tf from '@tensorflow/tfjs';
import type { Param } from '../params.ts';

/**
 * SGD with momentum as PyTorch's `torch.optim.SGD(momentum, dampening=0, nesterov=False, weight_decay)`:
 *   g <- g + wd * p ;  buf <- momentum * buf + g  (buf = g on the first step) ;  p <- p - lr * buf
 *
 * Momentum buffers are keyed by the parameter's logical key (not by position, unlike tf.train.momentum), so a
 * checkpoint can save and restore them exactly, and a tensor that received no gradient in a step is simply not
 * touched: PyTorch skips parameters whose `.grad` is None (e.g. the CAVPT classifier in a batch where no ground truth
 * is in the top-K). A zero-initialised buffer gives the same first step as PyTorch's `buf = g` because dampening is 0.
 */
export interface SgdOptions {
  momentum: number;
  weightDecay: number;
}

export interface SgdGroup {
  name: string;
  params: Param[];
}

export interface SgdState {
  steps: number;
  buffers: Record<string, { shape: number[]; values: Float32Array }>;
}

export class Sgd {
  private readonly buffers = new Map<string, tf.Variable>();
  private steps = 0;

  constructor(
    readonly groups: SgdGroup[],
    readonly options: SgdOptions = { momentum: 0.9, weightDecay: 5e-4 },
  ) {
    const seen = new Set<string>();
    for (const group of groups) {
      for (const p of group.params) {
        if (seen.has(p.key)) throw new Error(`parameter ${p.key} appears in more than one optimizer group`);
        seen.add(p.key);
      }
    }
  }

  /**
   * One update. `grads` maps parameter keys to gradients (a missing key means no gradient: no step, no decay, no
   * momentum for that tensor); `lrs` gives each group's learning rate. Groups are stepped in construction order.
   */
  step(grads: ReadonlyMap<string, tf.Tensor>, lrs: Readonly<Record<string, number>>): void {
    const { momentum, weightDecay } = this.options;
    for (const group of this.groups) {
      const lr = lrs[group.name];
      if (lr === undefined) throw new Error(`no learning rate for optimizer group ${group.name}`);
      for (const { key, variable } of group.params) {
        const g = grads.get(key);
        if (g === undefined) continue;
        tf.tidy(() => {
          const decayed = weightDecay === 0 ? g : tf.add(g, tf.mul(variable, weightDecay));
          let direction: tf.Tensor = decayed;
          if (momentum !== 0) {
            const buf = this.bufferFor(key, variable);
            const next = tf.add(tf.mul(buf, momentum), decayed);
            buf.assign(next);
            direction = next;
          }
          variable.assign(tf.sub(variable, tf.mul(direction, lr)));
        });
      }
    }
    this.steps += 1;
  }

  private bufferFor(key: string, variable: tf.Variable): tf.Variable {
    let buf = this.buffers.get(key);
    if (!buf) {
      buf = tf.variable(tf.zerosLike(variable), false, `${variable.name}/momentum`);
      this.buffers.set(key, buf);
    }
    return buf;
  }

  hasBuffer(key: string): boolean {
    return this.buffers.has(key);
  }

  getState(): SgdState {
    const buffers: SgdState['buffers'] = {};
    for (const key of [...this.buffers.keys()].sort()) {
      const buf = this.buffers.get(key)!;
      buffers[key] = { shape: buf.shape.slice(), values: Float32Array.from(buf.dataSync() as Float32Array) };
    }
    return { steps: this.steps, buffers };
  }

  setState(state: SgdState): void {
    this.disposeBuffers();
    const known = new Map(this.groups.flatMap((g) => g.params.map((p) => [p.key, p] as const)));
    for (const [key, { shape, values }] of Object.entries(state.buffers)) {
      const p = known.get(key);
      if (!p) throw new Error(`optimizer state has a momentum buffer for unknown parameter ${key}`);
      if (shape.join('x') !== p.variable.shape.join('x')) {
        throw new Error(`momentum buffer ${key} has shape [${shape}] but the parameter has [${p.variable.shape}]`);
      }
      this.buffers.set(key, tf.variable(tf.tensor(values, shape, 'float32'), false, `${p.variable.name}/momentum`));
    }
    this.steps = state.steps;
  }

  private disposeBuffers(): void {
    for (const buf of this.buffers.values()) buf.dispose();
    this.buffers.clear();
  }

  dispose(): void {
    this.disposeBuffers();
  }
}
