import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonRandom } from '../../../data/python-random.ts';
import { activateBackend } from '../../../dpt/backend.ts';
import { type LoadedClip, loadClip } from '../../../dpt/clip/index.ts';
import { cavptMask } from '../../../dpt/losses.ts';
import { type ClassContext, indexTensor, PromptedClip, VPT_CTX_KEY } from '../../../dpt/methods/model.ts';
import { selectRows } from '../../../dpt/ops.ts';
import { Sgd } from '../../../dpt/optim/sgd.ts';
import { PARAM_GROUPS } from '../../../dpt/params.ts';
import { TEXT_CTX_KEY } from '../../../dpt/prompts/text-prompt.ts';
import { trainBatch } from '../../../dpt/trainer/step.ts';
import { backendsUnderTest } from '../../support/backends.ts';
import { TINY_CLASSES, TINY_CLIP_DIR, tinyConfig } from '../../support/tiny-task.ts';

const absSum = (t: tf.Tensor | undefined) => (t ? tf.sum(tf.abs(t)).dataSync()[0]! : 0);

for (const backend of backendsUnderTest(['cpu', 'wasm'])) {
  describe(`DPT gradients on the tiny CLIP (${backend})`, () => {
    let clip: LoadedClip;
    let pixels: tf.Tensor4D;
    const labels = Int32Array.from([0, 1, 2, 3, 1, 2]);
    beforeAll(async () => {
      await activateBackend(backend);
      clip = await loadClip(TINY_CLIP_DIR);
      pixels = tf.randomNormal([labels.length, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    });
    afterAll(() => {
      pixels.dispose();
      clip.model.dispose();
    });

    function build(kN: number): { model: PromptedClip; ctx: ClassContext } {
      const cfg = tinyConfig({ method: 'dpt', cavpt: { kN } });
      const model = new PromptedClip(clip.model, clip.tokenizer, cfg, TINY_CLASSES.length, new PythonRandom(1));
      return { model, ctx: model.buildClassContext(TINY_CLASSES, 'a photo of a {}.') };
    }

    it('sends no gradient through the CAVPT keys/values, but one through its queries into the text ctx', () => {
      const { model, ctx } = build(2);
      const f0 = model.zeroShotFeatures(pixels);
      const idx = indexTensor(model.selectTopK(f0, ctx));
      // L = sum of the CAVPT classifier logits: it depends on the VPT prompts only through the (detached) block
      // input of the CAVPT layer, and on the text ctx only through the queries.
      const { grads } = tf.variableGrads(
        () => {
          const tSel = selectRows(model.textFeatures(ctx), idx);
          const { layerLogits } = model.encodeImage(pixels, tSel, true);
          return tf.sum(layerLogits[0]!) as tf.Scalar;
        },
        model.store.list().map((p) => p.variable),
      );
      const g = (key: string) => grads[model.store.get(key).name];
      expect(absSum(g(VPT_CTX_KEY))).toBe(0);
      expect(absSum(g(TEXT_CTX_KEY))).toBeGreaterThan(0);
      expect(absSum(g('cavpt.0.ctx'))).toBeGreaterThan(0);
      // logits2 = prompted image × FROZEN hand-crafted text: the text ctx reaches it only via the CAVPT queries.
      const viaQueries = tf.variableGrads(
        () => {
          const tSel = selectRows(model.textFeatures(ctx), idx);
          const img = model.encodeImage(pixels, tSel, false).features;
          return tf.sum(tf.matMul(img, ctx.handFeatures, false, true)) as tf.Scalar;
        },
        model.store.list().map((p) => p.variable),
      ).grads;
      expect(absSum(viaQueries[model.store.get(TEXT_CTX_KEY).name])).toBeGreaterThan(0);
      expect(absSum(viaQueries[model.store.get(VPT_CTX_KEY).name])).toBeGreaterThan(0);
      f0.dispose();
      idx.dispose();
      ctx.dispose();
      model.dispose();
    });

    it('trains only prompt tensors: frozen CLIP features are unchanged after steps', () => {
      const { model, ctx } = build(2);
      const before = model.zeroShotFeatures(pixels).dataSync().slice();
      const sgd = new Sgd(PARAM_GROUPS.map((name) => ({ name, params: model.store.inGroup(name) })));
      const ctxBefore = model.store.get(TEXT_CTX_KEY).dataSync().slice();
      for (let i = 0; i < 2; i++) {
        trainBatch(
          model,
          sgd,
          ctx,
          pixels,
          labels,
          0,
          i,
          { alpha: 0.3, beta: 0.1, warmupEpochs: 1 },
          {
            visual: 0.1,
            cavpt: 0.1,
            text: 0.1,
          },
        );
      }
      expect(Array.from(model.zeroShotFeatures(pixels).dataSync())).toEqual(Array.from(before));
      expect(Array.from(model.store.get(TEXT_CTX_KEY).dataSync())).not.toEqual(Array.from(ctxBefore));
      sgd.dispose();
      ctx.dispose();
      model.dispose();
    });

    it('handles K_N larger than the class count (K = C, every GT selected once) and length 0', () => {
      const big = build(50);
      expect(big.model.topK(TINY_CLASSES.length)).toBe(4);
      const f0 = big.model.zeroShotFeatures(pixels);
      const rows = big.model.selectTopK(f0, big.ctx);
      expect(rows.every((r) => r.length === 4 && new Set(r).size === 4)).toBe(true);
      expect(cavptMask(rows, labels).selectedPerLayer).toBe(labels.length);
      f0.dispose();
      big.ctx.dispose();
      big.model.dispose();

      const zero = build(0);
      const sgd = new Sgd(PARAM_GROUPS.map((name) => ({ name, params: zero.model.store.inGroup(name) })));
      const classifier = zero.model.store.get('cavpt.0.classifier.weight').dataSync().slice();
      const meta = zero.model.store.get('cavpt.0.meta.weight').dataSync().slice();
      const r = trainBatch(
        zero.model,
        sgd,
        zero.ctx,
        pixels,
        labels,
        5,
        0,
        { alpha: 0.3, beta: 0.1, warmupEpochs: 1 },
        {
          visual: 0.1,
          cavpt: 0.1,
          text: 0.1,
        },
      );
      expect(r.cavptActive).toBe(false);
      expect(Number.isFinite(r.loss)).toBe(true);
      // No class-aware tokens and no CAVPT loss: the classifier is untouched; the attention weights only see
      // PyTorch's zero-gradient weight decay (so they shrink by exactly lr·wd).
      expect(Array.from(zero.model.store.get('cavpt.0.classifier.weight').dataSync())).toEqual(Array.from(classifier));
      const metaAfter = zero.model.store.get('cavpt.0.meta.weight').dataSync();
      expect(metaAfter[0]).toBeCloseTo(meta[0]! * (1 - 0.1 * 5e-4), 7);
      sgd.dispose();
      zero.ctx.dispose();
      zero.model.dispose();
    });
  });
}
