import { describe, expect, it } from 'vitest';
import { batchesPerEpoch, epochBatches } from '../../../data/batches.ts';
import { PythonRandom } from '../../../data/python-random.ts';

describe('epochBatches', () => {
  it('EuroSAT 1-shot: 10 images make one batch of 10, nothing dropped', () => {
    const batches = epochBatches(10, 32, new PythonRandom(1));
    expect(batches).toHaveLength(1);
    expect([...(batches[0] as number[])].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
  });

  it('SUN397 1-shot: 397 images make 12 full batches and drop 13', () => {
    const batches = epochBatches(397, 32, new PythonRandom(1));
    expect(batches).toHaveLength(12);
    expect(batches.every((b) => b.length === 32)).toBe(true);
    expect(new Set(batches.flat()).size).toBe(384);
    expect(batchesPerEpoch(397, 32)).toBe(12);
    expect(batchesPerEpoch(10, 32)).toBe(1);
  });

  it('exactly 32 images make one batch; 64 make two', () => {
    expect(epochBatches(32, 32, new PythonRandom(1)).map((b) => b.length)).toEqual([32]);
    expect(epochBatches(64, 32, new PythonRandom(1)).map((b) => b.length)).toEqual([32, 32]);
    expect(epochBatches(0, 32, new PythonRandom(1))).toEqual([]);
  });

  it('reshuffles every epoch with random.shuffle of the shared generator', () => {
    const rng = new PythonRandom(5);
    const e1 = epochBatches(100, 32, rng);
    const e2 = epochBatches(100, 32, rng);
    expect(e1).not.toEqual(e2);
    const ref = new PythonRandom(5);
    const order = [...Array(100).keys()];
    ref.shuffle(order);
    expect(e1.flat()).toEqual(order.slice(0, 96));
  });

  it('rejects a non-positive batch size', () => {
    expect(() => epochBatches(10, 0, new PythonRandom(1))).toThrow(/batch size/);
  });
});
