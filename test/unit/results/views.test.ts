import { describe, expect, it } from 'vitest';
import type { Factor, FactorValue } from '../../../db/ablation.ts';
import { supportedViews, VIEW_NAMES, VIEWS } from '../../../db/results/views.ts';

const values = (entries: Partial<Record<Factor, FactorValue[]>>) =>
  new Map(
    Object.entries({ dataset: ['eurosat'], evalDataset: ['eurosat'], ...entries }) as Array<[Factor, FactorValue[]]>,
  );

describe('supported views', () => {
  it('a line view needs two non-null values of its x factor', () => {
    expect(supportedViews(values({ shots: [1, 16] }))).toEqual(['fewshot']);
    // Only the method varies: `results --view fewshot` takes it, but a chart over shots would have one point.
    expect(supportedViews(values({ method: ['coop', 'dpt'], shots: [16] }))).toEqual([]);
    // Unset for zero-shot and one value for dpt: nothing to draw.
    expect(supportedViews(values({ cavptLength: [null, 4] }))).toEqual([]);
    expect(supportedViews(values({ cavptLength: [null, 0, 6], kN: [null, 0, 6] }))).toEqual(['cavpt-length', 'kn']);
    expect(supportedViews(values({ lr: [0.002, 0.02], cavptLayers: [1, 2] }))).toEqual(['cavpt-depth', 'lr']);
  });

  it('the heatmap needs alpha and beta both to vary', () => {
    expect(supportedViews(values({ alpha: [0.1, 0.5], beta: [0.2] }))).toEqual([]);
    expect(supportedViews(values({ alpha: [0.1, 0.5], beta: [0.1, 0.2] }))).toEqual(['alpha-beta']);
  });

  it('domain generalization needs an evaluation target besides the source datasets', () => {
    expect(supportedViews(values({ dataset: ['a', 'b'], evalDataset: ['a', 'b'] }))).toEqual([]);
    expect(supportedViews(values({ dataset: ['imagenet'], evalDataset: ['imagenet', 'imagenet-a'] }))).toEqual(['dg']);
  });

  it("a protocol's view needs its protocol: transfer targets, or the novel classes of base-to-novel", () => {
    const transfer = values({ dataset: ['imagenet'], evalDataset: ['imagenet', 'caltech101'] });
    expect(supportedViews(transfer, ['cross-dataset'])).toEqual(['cross-dataset']);
    expect(supportedViews(transfer, ['domain-generalization'])).toEqual(['dg']);
    const b2n = values({ classSubset: ['base', 'novel'], method: ['coop', 'dpt'] });
    expect(supportedViews(b2n, ['base-to-novel'])).toEqual(['base-to-novel']);
    expect(supportedViews(b2n, ['few-shot'])).toEqual([]);
    expect(supportedViews(values({ classSubset: ['all'] }), ['base-to-novel'])).toEqual([]);
  });

  it('every view has its table and its chart, in one list', () => {
    expect(VIEW_NAMES).toEqual([
      'fewshot',
      'cavpt-depth',
      'cavpt-length',
      'kn',
      'alpha-beta',
      'lr',
      'dg',
      'cross-dataset',
      'base-to-novel',
    ]);
    for (const name of VIEW_NAMES) {
      const view = VIEWS[name];
      expect(view.name).toBe(name);
      // A supported view is one `results --view` accepts: the chart's x is among the factors it requires to vary.
      if (view.chart.kind === 'line') expect(view.varies).toContain(view.chart.x);
    }
  });
});
