/**
 * A WeightStore whose tensors are trainable `tf.variable`s, so the project's own VisionTower and TextTower can be
 * optimised in place. The towers ask for canonical tensors through a layout transform (transpose, reshape); each
 * variable holds the transformed tensor, and the store remembers how to map it back to the canonical layout, so the
 * trained weights can be written out as an ordinary checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import { WeightStore } from '../../dpt/clip/layers.ts';
import type { HostTensor } from '../../dpt/clip/safetensors.ts';
import type { CanonicalWeights } from '../../dpt/clip/weights.ts';

export interface TrainableEntry {
  name: string;
  variable: tf.Variable;
  canonicalShape: number[];
  /** `canonical[order[i]] = variable[i]` (flat indices); null when the variable is already canonical. */
  order: Int32Array | null;
}

export class TrainableWeightStore extends WeightStore {
  readonly entries: TrainableEntry[] = [];
  private readonly initial: CanonicalWeights;

  constructor(initial: CanonicalWeights) {
    super(initial);
    this.initial = initial;
  }

  override get(name: string, transform?: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
    const h = this.initial.get(name);
    if (!h) throw new Error(`initial weights lack tensor ${name}`);
    if (this.entries.some((e) => e.name === name)) throw new Error(`tensor ${name} requested twice`);
    const value = tf.tidy(() => {
      const raw = tf.tensor(h.data, h.shape, 'float32');
      return transform ? transform(raw) : raw;
    });
    const variable = tf.variable(value, true, `synthclip/${name}`);
    value.dispose();
    this.entries.push({
      name,
      variable,
      canonicalShape: [...h.shape],
      order: transform ? layoutOrder(h.shape, transform, name) : null,
    });
    return variable;
  }

  variable(name: string): tf.Variable {
    const entry = this.entries.find((e) => e.name === name);
    if (!entry) throw new Error(`no trainable tensor ${name}`);
    return entry.variable;
  }

  /** Current values in canonical names, shapes and orientations. */
  canonical(): CanonicalWeights {
    const out: CanonicalWeights = new Map();
    for (const e of this.entries) {
      const values = e.variable.dataSync() as Float32Array;
      let data: Float32Array;
      if (e.order === null) data = Float32Array.from(values);
      else {
        data = new Float32Array(values.length);
        for (let i = 0; i < values.length; i++) data[e.order[i] as number] = values[i] as number;
      }
      out.set(e.name, { shape: [...e.canonicalShape], data } satisfies HostTensor);
    }
    return out;
  }

  override dispose(): void {
    for (const e of this.entries) e.variable.dispose();
    this.entries.length = 0;
    super.dispose();
  }
}

/**
 * Where each canonical element lands under `transform`: pushing the flat indices 0..n-1 through it gives, for each
 * transformed position, the canonical index it came from. Only pure re-layouts (reshape, transpose) are invertible
 * this way, so anything else is rejected.
 */
function layoutOrder(shape: number[], transform: (t: tf.Tensor) => tf.Tensor, name: string): Int32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  // float32 holds integers exactly up to 2^24, far above any tensor here.
  if (n > 2 ** 24) throw new Error(`tensor ${name} too large to track its layout`);
  const moved = tf.tidy(() =>
    transform(
      tf.tensor(
        Float32Array.from({ length: n }, (_, i) => i),
        shape,
      ),
    ).dataSync(),
  );
  const order = Int32Array.from(moved);
  const seen = new Uint8Array(n);
  for (const i of order) {
    if (i < 0 || i >= n || seen[i]) throw new Error(`transform of ${name} is not a pure re-layout`);
    seen[i] = 1;
  }
  if (order.length !== n) throw new Error(`transform of ${name} changes its size`);
  return order;
}
