import { describe, expect, it } from 'vitest';
import { halvingBudget, promote, promotedCount, rungEpochs } from '../../../../sweep/search/halving.ts';
import { configurationObjective, meanStd } from '../../../../sweep/search/objective.ts';

describe('successive halving', () => {
  it('rungs grow by eta from minEpochs and end at maxEpochs', () => {
    expect(rungEpochs({ eta: 3, minEpochs: 1, maxEpochs: 9 })).toEqual([1, 3, 9]);
    expect(rungEpochs({ eta: 3, minEpochs: 1, maxEpochs: 10 })).toEqual([1, 3, 9, 10]);
    expect(rungEpochs({ eta: 2, minEpochs: 5, maxEpochs: 50 })).toEqual([5, 10, 20, 40, 50]);
    expect(rungEpochs({ eta: 4, minEpochs: 7, maxEpochs: 7 })).toEqual([7]);
  });

  it('keeps floor(n / eta), at least one', () => {
    expect([0, 1, 2, 3, 8, 9, 10].map((n) => promotedCount(n, 3))).toEqual([0, 1, 1, 1, 2, 3, 3]);
  });

  it('promotes the best objectives, ties to the lower candidate, never one without a result', () => {
    const scores = [
      { candidate: 4, objective: 50 },
      { candidate: 1, objective: 70 },
      { candidate: 2, objective: 50 },
      { candidate: 0, objective: null },
      { candidate: 3, objective: 20 },
      { candidate: 5, objective: Number.NaN },
    ];
    // Four have results: floor(4 / 2) = 2 go on, 1 (70) then 2 (50, before 4 on the tie).
    expect(promote(scores, 2)).toEqual(new Set([1, 2]));
    expect(promote([{ candidate: 0, objective: null }], 3)).toEqual(new Set());
  });

  it('counts the epochs one replicate of each candidate trains against the grid', () => {
    // 9 x 1 + 3 x (3 - 1) + 1 x (9 - 3) = 21 of 81.
    expect(halvingBudget(9, { eta: 3, minEpochs: 1, maxEpochs: 9 })).toEqual({ halving: 21, grid: 81 });
    expect(halvingBudget(27, { eta: 3, minEpochs: 1, maxEpochs: 27 })).toEqual({
      halving: 27 + 18 + 18 + 18,
      grid: 729,
    });
  });
});

describe('the objective', () => {
  it('is the mean over (dataset, shots) cells of the mean over seeds', () => {
    const value = configurationObjective([
      { dataset: 'dtd', shots: 4, top1: 60 },
      { dataset: 'dtd', shots: 4, top1: 80 },
      { dataset: 'dtd', shots: 4, top1: 70 },
      { dataset: 'eurosat', shots: 4, top1: 40 },
    ]);
    // dtd: 70 over three seeds, eurosat: 40 over one; each cell counts once.
    expect(value).toBe(55);
    expect(configurationObjective([])).toBeNull();
  });

  it('mean and sample std', () => {
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1, n: 3 });
    expect(meanStd([5])).toEqual({ mean: 5, std: null, n: 1 });
    expect(meanStd([])).toBeNull();
  });
});
