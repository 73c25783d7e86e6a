import { describe, expect, it } from 'vitest';
import { learningRateAt } from '../../../dpt/optim/schedule.ts';
import { paperPreset } from '../../../dpt/presets.ts';

const visual = (maxEpochs: number, warmupEpochs = 10) => ({ baseLr: 0.01, maxEpochs, warmupEpochs, warmupLr: 1e-5 });
const text = (maxEpochs: number) => ({ baseLr: 0.002, maxEpochs, warmupEpochs: 1, warmupLr: 1e-5 });

describe('per-epoch learning rate (docs/method.md §11)', () => {
  it('is the constant 1e-5 during warm-up, then the cosine starts at the base LR', () => {
    expect(learningRateAt(visual(100), 0)).toBe(1e-5);
    expect(learningRateAt(visual(100), 9)).toBe(1e-5);
    expect(learningRateAt(visual(100), 10)).toBeCloseTo(0.01, 12);
    expect(learningRateAt(text(100), 0)).toBe(1e-5);
    expect(learningRateAt(text(100), 1)).toBeCloseTo(0.002, 12);
  });

  it('reproduces the final-epoch values of docs/method.md §11 (the cosine never reaches zero)', () => {
    expect(learningRateAt(visual(100), 99).toExponential(2)).toBe('2.96e-4');
    expect(learningRateAt(visual(60), 59).toExponential(2)).toBe('8.07e-4');
    expect(learningRateAt(visual(20, 1), 19).toExponential(2)).toBe('2.45e-4');
    expect(learningRateAt(text(100), 99).toExponential(2)).toBe('1.97e-6');
    expect(learningRateAt(text(60), 59).toExponential(2)).toBe('5.48e-6');
  });

  it('decreases monotonically after warm-up', () => {
    let prev = Number.POSITIVE_INFINITY;
    for (let e = 10; e < 100; e++) {
      const lr = learningRateAt(visual(100), e);
      expect(lr).toBeLessThan(prev);
      expect(lr).toBeGreaterThan(0);
      prev = lr;
    }
  });

  it('rejects bad epochs', () => {
    expect(() => learningRateAt(visual(100), -1)).toThrow(/non-negative/);
    expect(() => learningRateAt(visual(100), 1.5)).toThrow(/integer/);
  });
});

describe('paper presets (docs/method.md §12)', () => {
  it('encodes the per-(dataset, shots) schedule', () => {
    expect(paperPreset('eurosat', 16)).toEqual({ epochs: 100, warmupEpochs: 30, lrWarmupEpochs: 10 });
    expect(paperPreset('eurosat', 2)).toEqual({ epochs: 100, warmupEpochs: 30, lrWarmupEpochs: 10 });
    expect(paperPreset('dtd', 1)).toEqual({ epochs: 60, warmupEpochs: 30, lrWarmupEpochs: 10 });
    expect(paperPreset('caltech101', 16).epochs).toBe(60);
    expect(paperPreset('oxford_pets', 16).epochs).toBe(60);
    expect(paperPreset('oxford_pets', 8).epochs).toBe(100);
    expect(paperPreset('imagenet', 16)).toEqual({ epochs: 20, warmupEpochs: 10, lrWarmupEpochs: 1 });
  });
});
