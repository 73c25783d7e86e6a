import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonRandom } from '../../../data/python-random.ts';
import { activateBackend } from '../../../dpt/backend.ts';
import { selectRows, stopGradient } from '../../../dpt/ops.ts';
import { ParamStore } from '../../../dpt/params.ts';
import { CavptModule } from '../../../dpt/prompts/cavpt.ts';
import { backendsUnderTest } from '../../support/backends.ts';

const absSum = (t: tf.Tensor) => tf.sum(tf.abs(t)).dataSync()[0]!;

for (const backend of backendsUnderTest(['cpu', 'wasm'])) {
  describe(`CAVPT module on ${backend}`, () => {
    let store: ParamStore;
    let module: CavptModule;
    beforeAll(async () => {
      await activateBackend(backend);
      store = new ParamStore();
      module = new CavptModule(
        store,
        'cavpt.0',
        { textDim: 6, width: 8, numClasses: 5, ctxTokens: 3 },
        new PythonRandom(3),
      );
    });
    afterAll(() => {
      store.dispose();
    });

    it('has the shapes of docs/method.md §7 and produces K prompts and C-way logits', () => {
      const shapes = Object.fromEntries(store.list().map((p) => [p.key, p.variable.shape]));
      expect(shapes).toEqual({
        'cavpt.0.meta.weight': [6, 8],
        'cavpt.0.meta.bias': [8],
        'cavpt.0.q.weight': [8, 32],
        'cavpt.0.k.weight': [8, 32],
        'cavpt.0.v.weight': [8, 8],
        'cavpt.0.ln.gamma': [8],
        'cavpt.0.ln.beta': [8],
        'cavpt.0.classifier.weight': [8, 5],
        'cavpt.0.ln2.gamma': [8],
        'cavpt.0.ln2.beta': [8],
        'cavpt.0.ctx': [3, 8],
      });
      const out = module.forward(
        tf.randomNormal([2, 4, 8]) as tf.Tensor3D,
        tf.randomNormal([2, 3, 6]) as tf.Tensor3D,
        true,
      );
      expect(out.prompts.shape).toEqual([2, 3, 8]);
      expect(out.logits!.shape).toEqual([2, 3, 5]);
    });

    it('matches a direct evaluation of the formulas', () => {
      const x = tf.randomNormal([1, 2, 8], 0, 1, 'float32', 7);
      const t = tf.randomNormal([1, 1, 6], 0, 1, 'float32', 8);
      const out = module.forward(x as tf.Tensor3D, t as tf.Tensor3D, true);
      const p = (k: string) => store.get(`cavpt.0.${k}`);
      const q = tf.add(tf.matMul(tf.reshape(t, [1, 6]), p('meta.weight') as tf.Tensor2D), p('meta.bias'));
      const kv = tf.concat([tf.reshape(x, [2, 8]), p('ctx')], 0) as tf.Tensor2D;
      const scores = tf.div(
        tf.matMul(tf.matMul(q, p('q.weight') as tf.Tensor2D), tf.matMul(kv, p('k.weight') as tf.Tensor2D), false, true),
        Math.sqrt(32),
      );
      const o = tf.matMul(tf.matMul(tf.softmax(scores), kv), p('v.weight') as tf.Tensor2D);
      const ln = (v: tf.Tensor) => {
        const { mean, variance } = tf.moments(v, -1, true);
        return tf.div(tf.sub(v, mean), tf.sqrt(tf.add(variance, 1e-5)));
      };
      const prompt = ln(tf.add(o, q));
      const logits = tf.matMul(ln(o), p('classifier.weight') as tf.Tensor2D);
      expect(Array.from(out.prompts.dataSync())).toEqual(
        Array.from(prompt.dataSync()).map((v) => expect.closeTo(v, 4)),
      );
      expect(Array.from(out.logits!.dataSync())).toEqual(
        Array.from(logits.dataSync()).map((v) => expect.closeTo(v, 4)),
      );
    });

    it('gives no gradient to the image tokens fed to keys/values, but does to the text features and its ctx', () => {
      const x = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 1);
      const table = tf.randomNormal([5, 6], 0, 1, 'float32', 2) as tf.Tensor2D;
      const idx = tf.tensor2d(
        [
          [4, 1],
          [0, 2],
        ],
        [2, 2],
        'int32',
      );
      const f = (xIn: tf.Tensor, tab: tf.Tensor) => {
        const out = module.forward(stopGradient(xIn) as tf.Tensor3D, selectRows(tab as tf.Tensor2D, idx), true);
        return tf.add(tf.sum(tf.square(out.prompts)), tf.sum(out.logits!));
      };
      const [gx, gTable] = tf.grads(f)([x, table]);
      expect(absSum(gx!)).toBe(0);
      // Only the selected classes (0, 1, 2, 4) receive gradient through the one-hot selection; class 3 none.
      const rows = gTable!.arraySync() as number[][];
      expect(rows[3]!.every((v) => v === 0)).toBe(true);
      for (const r of [0, 1, 2, 4]) expect(rows[r]!.some((v) => v !== 0)).toBe(true);
      const { grads } = tf.variableGrads(
        () => f(x, table) as tf.Scalar,
        store.list().map((p) => p.variable),
      );
      expect(Object.keys(grads)).toHaveLength(11);
      expect(absSum(grads[store.get('cavpt.0.ctx').name]!)).toBeGreaterThan(0);
    });

    it('keeps the classifier out of the graph when logits are not requested', () => {
      const x = tf.randomNormal([1, 4, 8]);
      const t = tf.randomNormal([1, 2, 6]);
      const { grads } = tf.variableGrads(
        () => tf.sum(module.forward(x as tf.Tensor3D, t as tf.Tensor3D, false).prompts) as tf.Scalar,
        store.list().map((p) => p.variable),
      );
      const keys = Object.keys(grads).map((n) => store.keyOf(n));
      expect(keys).not.toContain('cavpt.0.classifier.weight');
      expect(keys).not.toContain('cavpt.0.ln.gamma');
      expect(keys).toContain('cavpt.0.meta.weight');
    });
  });
}
