import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { Sgd } from '../../../dpt/optim/sgd.ts';
import { type Param, ParamStore } from '../../../dpt/params.ts';

/** PyTorch SGD(momentum=0.9, dampening=0, weight_decay=5e-4), written out by hand for scalars. */
function torchSgd(p: number, grads: (number | null)[], lr: number): number[] {
  let buf: number | null = null;
  const out: number[] = [];
  for (const g0 of grads) {
    if (g0 !== null) {
      const g = g0 + 5e-4 * p;
      buf = buf === null ? g : 0.9 * buf + g;
      p = p - lr * buf;
    }
    out.push(p);
  }
  return out;
}

describe('Sgd', () => {
  const stores: ParamStore[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.dispose();
  });

  function setup(): { store: ParamStore; a: Param; b: Param; sgd: Sgd } {
    const store = new ParamStore();
    stores.push(store);
    store.add('a', 'visual', tf.tensor1d([1.5]));
    store.add('b', 'text', tf.tensor1d([-0.25]));
    const [a, b] = store.list() as [Param, Param];
    const sgd = new Sgd([
      { name: 'visual', params: [a] },
      { name: 'text', params: [b] },
    ]);
    return { store, a, b, sgd };
  }

  it('matches PyTorch SGD with momentum, dampening 0 and weight decay, skipping steps without a gradient', () => {
    const { a, b, sgd } = setup();
    const gradsA = [0.3, -0.1, null, 0.7, 0.2];
    const gradsB = [null, 0.5, 0.5, null, -1];
    gradsA.forEach((ga, i) => {
      const m = new Map<string, tf.Tensor>();
      if (ga !== null) m.set('a', tf.tensor1d([ga]));
      const gb = gradsB[i]!;
      if (gb !== null) m.set('b', tf.tensor1d([gb]));
      sgd.step(m, { visual: 0.01, text: 0.002 });
      for (const t of m.values()) t.dispose();
    });
    expect(a.variable.dataSync()[0]).toBeCloseTo(torchSgd(1.5, gradsA, 0.01).at(-1)!, 6);
    expect(b.variable.dataSync()[0]).toBeCloseTo(torchSgd(-0.25, gradsB, 0.002).at(-1)!, 6);
    sgd.dispose();
  });

  it('does not create a momentum buffer or decay a tensor that never got a gradient', () => {
    const { b, sgd } = setup();
    sgd.step(new Map([['a', tf.tensor1d([1])]]), { visual: 0.1, text: 0.1 });
    expect(sgd.hasBuffer('a')).toBe(true);
    expect(sgd.hasBuffer('b')).toBe(false);
    expect(b.variable.dataSync()[0]).toBe(-0.25);
    sgd.dispose();
  });

  it('saves and restores its momentum buffers exactly', () => {
    const first = setup();
    const second = setup();
    const grads = [0.3, -0.9, 0.4];
    for (const g of grads.slice(0, 2)) first.sgd.step(new Map([['a', tf.tensor1d([g])]]), { visual: 0.1, text: 0.1 });
    second.a.variable.assign(first.a.variable);
    second.sgd.setState(first.sgd.getState());
    first.sgd.step(new Map([['a', tf.tensor1d([grads[2]!])]]), { visual: 0.1, text: 0.1 });
    second.sgd.step(new Map([['a', tf.tensor1d([grads[2]!])]]), { visual: 0.1, text: 0.1 });
    expect(second.a.variable.dataSync()[0]).toBe(first.a.variable.dataSync()[0]);
    expect(second.sgd.getState()).toEqual(first.sgd.getState());
    first.sgd.dispose();
    second.sgd.dispose();
  });

  it('refuses a learning-rate map without a group and a state for unknown tensors', () => {
    const { sgd } = setup();
    expect(() => sgd.step(new Map(), { visual: 0.1 })).toThrow(/text/);
    expect(() => sgd.setState({ steps: 1, buffers: { zz: { shape: [1], values: new Float32Array(1) } } })).toThrow(
      /unknown parameter zz/,
    );
    sgd.dispose();
  });
});
