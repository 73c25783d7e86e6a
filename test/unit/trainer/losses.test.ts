import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { cavptLoss, cavptMask, crossEntropy, warmupMainLoss } from '../../../dpt/losses.ts';

const oneHot = (labels: number[], c: number) => tf.oneHot(tf.tensor1d(labels, 'int32'), c).toFloat();

function ceRow(logits: number[], label: number): number {
  const m = Math.max(...logits);
  const lse = m + Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0));
  return lse - logits[label]!;
}

describe('CAVPT mask (docs/method.md §10)', () => {
  it('selects the row whose top-K class is the label, never forcing the ground truth in', () => {
    const indices = [Int32Array.from([2, 0, 1]), Int32Array.from([3, 1, 2]), Int32Array.from([0, 1, 2])];
    const mask = cavptMask(indices, [0, 0, 2]);
    expect(Array.from(mask.weights)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 1]);
    expect(mask.selectedPerLayer).toBe(2);
  });

  it('is empty for K = 0', () => {
    const mask = cavptMask([new Int32Array(0), new Int32Array(0)], [0, 1]);
    expect(mask.k).toBe(0);
    expect(mask.selectedPerLayer).toBe(0);
  });
});

describe('L_cavpt', () => {
  it('averages CE over the selected (sample, layer) rows only, not over the batch', () => {
    const c = 4;
    const labels = [1, 3];
    const indices = [Int32Array.from([1, 0]), Int32Array.from([0, 2])]; // sample 1 has no GT in its top-2
    const mask = cavptMask(indices, labels);
    const l1 = [
      [
        [0.1, 2, -1, 0.5],
        [1, 1, 1, 1],
      ],
      [
        [3, 0, 0, 0],
        [0, 0, 5, 0],
      ],
    ];
    const l2 = [
      [
        [0.5, -0.5, 0, 0],
        [2, 0, 0, 0],
      ],
      [
        [0, 1, 0, 0],
        [1, 0, 0, 1],
      ],
    ];
    const loss = cavptLoss([tf.tensor3d(l1), tf.tensor3d(l2)], mask, oneHot(labels, c))!;
    const expected = (ceRow(l1[0]![0]!, 1) + ceRow(l2[0]![0]!, 1)) / 2;
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
  });

  it('is skipped (null) when no row is selected', () => {
    const mask = cavptMask([Int32Array.from([0]), Int32Array.from([0])], [1, 2]);
    expect(cavptLoss([tf.zeros([2, 1, 3])], mask, oneHot([1, 2], 3))).toBeNull();
  });
});

describe('main loss with general-knowledge warm-up (docs/method.md §10)', () => {
  const logits = tf.tensor2d([[2, 0, -1]]);
  const logits1 = tf.tensor2d([[0, 1, 0]]);
  const logits2 = tf.tensor2d([[0.5, 0.5, 3]]);
  const y = oneHot([0], 3);
  const ce = (t: tf.Tensor) => crossEntropy(t, y).dataSync()[0]!;

  it('uses CE(logits1) + CE(logits2) + β·CE(logits) for epochs before C', () => {
    const v = warmupMainLoss({ epoch: 29, warmupEpochs: 30, beta: 0.1, logits, logits1, logits2, oneHot: y });
    expect(v.dataSync()[0]).toBeCloseTo(ce(logits1) + ce(logits2) + 0.1 * ce(logits), 5);
  });

  it('uses CE(logits) from epoch C on', () => {
    const v = warmupMainLoss({ epoch: 30, warmupEpochs: 30, beta: 0.1, logits, logits1, logits2, oneHot: y });
    expect(v.dataSync()[0]).toBeCloseTo(ce(logits), 6);
    expect(ce(logits)).toBeCloseTo(ceRow([2, 0, -1], 0), 5);
  });
});
