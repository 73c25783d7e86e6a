import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { planSweepText } from '../../../../sweep/plan.ts';
import { searchDimensions } from '../../../../sweep/search/space.ts';
import { trialsForAssignment } from '../../../../sweep/search/suggestion.ts';

const file = (extra: Record<string, unknown>, base: Record<string, unknown> = {}) =>
  YAML.stringify({
    name: 'search',
    base: { model: '/m', dataRoot: '/d', method: 'dpt', ...base },
    datasets: ['dtd'],
    shots: [4],
    seeds: [1, 2],
    ...extra,
  });

const halving = { kind: 'successive-halving', eta: 3, minEpochs: 1, maxEpochs: 9 };
const messages = (text: string) => {
  try {
    planSweepText(text);
    return [];
  } catch (err) {
    return (err as { issues: Array<{ path: string; message: string }> }).issues.map((i) => `${i.path}: ${i.message}`);
  }
};

describe('search in the sweep file', () => {
  it('successive halving configures every trial for maxEpochs and keeps the file as written', () => {
    const plan = planSweepText(file({ vary: { mode: 'grid', lr: [0.01, 0.1] }, search: halving }));
    expect(plan.trials).toHaveLength(4);
    expect(plan.trials.map((t) => t.config.optim.epochs)).toEqual([9, 9, 9, 9]);
    expect(plan.trials.map((t) => t.variation)).toEqual([0, 0, 1, 1]);
    expect(plan.file.base.epochs).toBeUndefined();
  });

  it('TPE plans nothing at launch; a suggestion plans its datasets x shots x seeds as a grid would', () => {
    const search = {
      kind: 'tpe',
      trials: 5,
      space: { lr: { min: 0.001, max: 0.1, scale: 'log' }, 'cavpt.layers': { min: 1, max: 2 }, method: ['dpt', 'vpt'] },
    };
    const plan = planSweepText(file({ search }));
    expect(plan.trials).toEqual([]);
    expect(plan.upperBound).toBe(10);
    const spec = plan.file.search;
    if (spec?.kind !== 'tpe') throw new Error('expected tpe');
    expect(spec).toMatchObject({ batch: 4, seed: 0, startup: 10, metric: 'val-top1' });
    // In the axis list's order (sweep/axes.ts), not the file's: the sampler's draws never depend on key order.
    expect(searchDimensions(spec)).toEqual([
      { kind: 'categorical', key: 'method', values: ['dpt', 'vpt'] },
      { kind: 'float', key: 'lr', min: 0.001, max: 0.1, scale: 'log' },
      { kind: 'int', key: 'cavpt.layers', min: 1, max: 2, scale: 'linear' },
    ]);
    const trials = trialsForAssignment(plan.file, { lr: 0.02, 'cavpt.layers': 2, method: 'dpt' });
    const grid = planSweepText(file({ vary: { mode: 'grid', lr: [0.02], 'cavpt.layers': [2] } }));
    expect(trials.map((t) => t.config)).toEqual(grid.trials.map((t) => t.config));
  });

  it('refuses what a search cannot rank or stop, each with its path', () => {
    expect(messages(file({ search: halving }, { method: 'zeroshot' }))).toEqual([
      'search: expected trained methods only in a search, got zeroshot (it trains nothing to stop or tune)',
    ]);
    expect(messages(file({ search: halving, datasets: ['imagenet'] }))).toContain(
      'datasets: expected datasets with a validation split for a search, got imagenet (it has none)',
    );
    expect(messages(file({ search: halving }, { epochs: 4 }))).toEqual([
      "base.epochs: expected no epochs here: search.maxEpochs sets every trial's epochs",
    ]);
    expect(messages(file({ search: halving, vary: { mode: 'grid', epochs: [2, 4] } }))).toEqual([
      "vary.epochs: expected no epochs axis: search.maxEpochs sets every trial's epochs",
    ]);
    expect(
      messages(file({ search: { kind: 'tpe', trials: 2, space: { lr: [0.1] } }, vary: { mode: 'grid', lr: [1] } })),
    ).toEqual(['vary: expected no vary with search kind tpe: it draws the axes of search.space']);
    expect(messages(file({ search: { ...halving, maxEpochs: 0 } }))[0]).toMatch(
      /^search.maxEpochs: expected an integer >= 1/,
    );
    expect(messages(file({ search: { kind: 'asha' } }))[0]).toMatch(/asha: use successive-halving/);
  });

  it('checks the corners of a TPE space against the trainer before launch', () => {
    const text = file({ search: { kind: 'tpe', trials: 2, space: { 'cavpt.layers': { min: 1, max: 13 } } } });
    let problems: string[] = [];
    try {
      planSweepText(text, 'sweep file', { model: { visionLayers: 12, textContextLength: 77 } });
    } catch (err) {
      problems = (err as { issues: Array<{ path: string; message: string }> }).issues.map(
        (i) => `${i.path}: ${i.message}`,
      );
    }
    expect(problems).toEqual([
      "search.space.cavpt.layers: expected an integer <= 12, the model's vision blocks, got 13 (in 1 cell, e.g. dpt on dtd, 4 shots, the space's highest values)",
    ]);
  });
});
