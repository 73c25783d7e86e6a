import * as tf from '@tensorflow/tfjs';
import { cavptMask, NonFiniteLossError } from '../losses.ts';
import { type ClassContext, indexTensor, type PromptedClip, zeroLengthCavptKeys } from '../methods/model.ts';
import type { Sgd } from '../optim/sgd.ts';
import type { TrialConfig } from '../trial-config.ts';

export interface BatchResult {
  loss: number;
  main: number;
  cavpt: number;
  /** whether L_cavpt was computed for this batch (some GT landed in a top-K) */
  cavptActive: boolean;
  correct: number;
  size: number;
}

/**
 * One optimisation step (Dassl forward_backward + model_backward_and_update): constants first (zero-shot features and
 * top-K selection, outside the tape), then loss and gradients for every trainable tensor, a NaN/Inf check, and one
 * SGD step per group in the order visual, cavpt, text. Tensors the loss did not reach get no update.
 */
export function trainBatch(
  model: PromptedClip,
  sgd: Sgd,
  ctx: ClassContext,
  pixels: tf.Tensor4D,
  labels: Int32Array,
  epoch: number,
  batchIndex: number,
  loss: TrialConfig['loss'],
  lrs: Record<string, number>,
): BatchResult {
  const { def } = model;
  const f0 = def.frozenFeaturesInLoss || def.classAware ? model.zeroShotFeatures(pixels) : null;
  const rows = f0 && def.classAware ? model.selectTopK(f0, ctx) : [];
  const mask = cavptMask(rows, labels);
  const k = rows[0]?.length ?? 0;
  const indices = k > 0 ? indexTensor(rows) : null;
  const params = model.store.list();
  let parts: { main: number; cavpt: number; correct: number } = { main: 0, cavpt: 0, correct: 0 };
  try {
    const { value, grads } = tf.variableGrads(
      () => {
        const r = model.trainLoss({ pixels, labels, epoch, loss }, ctx, f0, indices, mask);
        parts = r;
        return r.total;
      },
      params.map((p) => p.variable),
    );
    const lossValue = value.dataSync()[0]!;
    value.dispose();
    const byKey = new Map<string, tf.Tensor>();
    for (const [engineName, g] of Object.entries(grads)) {
      const key = model.store.keyOf(engineName);
      if (key) byKey.set(key, g);
      else g.dispose();
    }
    if (!Number.isFinite(lossValue)) {
      for (const g of byKey.values()) g.dispose();
      throw new NonFiniteLossError(lossValue, epoch, batchIndex);
    }
    // With K = 0 PyTorch still runs the CAVPT attention on zero queries, so its tensors get zero (not None)
    // gradients and are weight-decayed; only the loss-only LN and classifier stay None.
    if (def.trains.includes('cavpt') && k === 0) {
      for (const key of zeroLengthCavptKeys(model)) {
        if (!byKey.has(key)) byKey.set(key, tf.zerosLike(model.store.get(key)));
      }
    }
    sgd.step(byKey, lrs);
    for (const g of byKey.values()) g.dispose();
    return {
      loss: lossValue,
      main: parts.main,
      cavpt: parts.cavpt,
      cavptActive: mask.selectedPerLayer > 0 && def.classAware && loss.alpha > 0,
      correct: parts.correct,
      size: labels.length,
    };
  } finally {
    f0?.dispose();
    indices?.dispose();
  }
}
