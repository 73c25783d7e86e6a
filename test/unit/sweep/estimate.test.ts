import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE_IMAGES_PER_SECOND, estimateCompute, trialImages } from '../../../sweep/estimate.ts';
import { plan } from './helpers.ts';

describe('compute estimate', () => {
  it('counts epochs × few-shot images (drop_last at batch 32) plus the test split', () => {
    const [one, sixteen] = plan({ shots: '[1, 16]' }).trials;
    // EuroSAT: 10 classes, 8,100 test images. 1 shot = 10 images (< 32, nothing dropped) × 60 epochs.
    expect(trialImages(one!.config)).toEqual({ train: 600, eval: 8100 });
    // 16 shots = 160 images = 5 full batches × 100 epochs.
    expect(trialImages(sixteen!.config)).toEqual({ train: 16_000, eval: 8100 });
    const dtd = plan({ datasets: '[dtd]', shots: '[1]' }).trials[0]!;
    // DTD 1 shot: 47 images → one batch of 32 kept per epoch.
    expect(trialImages(dtd.config).train).toBe(32 * 60);
  });

  it('zero-shot only evaluates; domain shift adds the shifted test sets', () => {
    const zs = plan({ base: '  method: zeroshot' }).trials[0]!;
    expect(trialImages(zs.config)).toEqual({ train: 0, eval: 8100 });
    const dg = plan({ datasets: '[domain-shift]', shots: '[16]' }).trials[0]!;
    expect(trialImages(dg.config)).toEqual({ train: 20 * 16_000, eval: 50_000 + 10_000 + 50_889 + 7500 + 30_000 });
  });

  it('sums a plan and converts with the given rate or the placeholder', () => {
    const p = plan({ shots: '[1, 16]' });
    const total = 600 + 8100 + 16_000 + 8100;
    expect(estimateCompute(p, 10)).toEqual({
      trainImages: 16_600,
      evalImages: 16_200,
      images: total,
      rate: 10,
      hours: total / 10 / 3600,
      placeholderRate: false,
    });
    expect(estimateCompute(p).rate).toBe(DEFAULT_RATE_IMAGES_PER_SECOND);
    expect(estimateCompute(p).placeholderRate).toBe(true);
    expect(() => estimateCompute(p, 0)).toThrow(/positive/);
  });
});
