import { describe, expect, it } from 'vitest';
import type { Cell, CellReport } from '../../../db/ablation.ts';
import { baseToNovelPivot, harmonicMean } from '../../../db/results/base-to-novel.ts';

const cell = (method: string, dataset: string, classSubset: string, mean: number, std = 1): Cell => ({
  key: { method, dataset, classSubset },
  n: 3,
  expectedN: 3,
  mean,
  stdPop: std,
  stdSample: std,
  seeds: [1, 2, 3],
  plannedSeeds: [1, 2, 3],
  endedSeeds: [],
  stoppedSeeds: [],
});

/*
 * Hand-computed: dataset a has base 80, novel 60 (HM 2·80·60/140 = 68.5714…); dataset b base 90, novel 40 (HM
 * 2·90·40/130 = 55.3846…). The average row is base 85, novel 50 and HM 2·85·50/135 = 62.9629…, the harmonic mean of
 * the averages, not (68.5714 + 55.3846) / 2 = 61.978 (the mean of the per-dataset HMs).
 */
describe('the base-to-novel table (db/results/base-to-novel.ts)', () => {
  const report: CellReport = {
    factors: ['method', 'dataset', 'classSubset'],
    added: [],
    cells: [
      cell('coop', 'a', 'base', 80, 2),
      cell('coop', 'a', 'novel', 60, 3),
      cell('coop', 'b', 'base', 90),
      cell('coop', 'b', 'novel', 40),
      cell('zeroshot', 'a', 'base', 70),
      cell('zeroshot', 'a', 'novel', 75),
      cell('zeroshot', 'b', 'base', 60),
      cell('zeroshot', 'b', 'novel', 65),
    ],
    missing: [],
  };
  const pivot = baseToNovelPivot(report, ['method']);
  const row = (dataset: string, method: string) => {
    const found = pivot.rows.find((r) => r.key[0] === dataset && r.key[1] === method);
    if (!found) throw new Error(`no row ${dataset} ${method}`);
    return found.entries;
  };

  it('has base, novel and HM columns and the average rows first, methods in the paper order', () => {
    expect(pivot.rowFactors).toEqual(['dataset', 'method']);
    expect(pivot.columns).toEqual(['base', 'novel', 'HM']);
    expect(pivot.rows.map((r) => r.key)).toEqual([
      ['average', 'zeroshot'],
      ['average', 'coop'],
      ['a', 'zeroshot'],
      ['a', 'coop'],
      ['b', 'zeroshot'],
      ['b', 'coop'],
    ]);
  });

  it('per dataset: mean ± std of base and novel over seeds, HM of the two means', () => {
    const [base, novel, hm] = row('a', 'coop');
    expect([base?.mean, base?.std, novel?.mean, novel?.std]).toEqual([80, 2, 60, 3]);
    expect(hm?.mean).toBeCloseTo(68.571428571, 8);
    expect(hm?.std).toBeNull();
    expect(row('b', 'coop')[2]?.mean).toBeCloseTo(55.384615385, 8);
  });

  it('the average row: HM of the averaged base and novel, not the mean of the HMs', () => {
    const [base, novel, hm] = row('average', 'coop');
    expect(base?.mean).toBe(85);
    expect(novel?.mean).toBe(50);
    expect(hm?.mean).toBeCloseTo(62.962962963, 8);
    expect(hm?.mean).not.toBeCloseTo((68.571428571 + 55.384615385) / 2, 2);
    expect([base?.n, base?.expectedN]).toEqual([2, 2]);
    // Propagated from the datasets' stds: base sqrt(2² + 1²) / 2, novel sqrt(3² + 1²) / 2.
    expect(base?.std).toBeCloseTo(Math.sqrt(5) / 2, 12);
    expect(novel?.std).toBeCloseTo(Math.sqrt(10) / 2, 12);
    expect(hm?.std).toBeNull();
  });

  it('marks the best per column within each dataset', () => {
    expect(row('a', 'coop').map((entry) => entry?.best)).toEqual([true, false, false]);
    expect(row('a', 'zeroshot').map((entry) => entry?.best)).toEqual([false, true, true]);
    expect(row('average', 'coop')[0]?.best).toBe(true);
  });

  it('harmonic mean: zero when both are zero, null when one is missing', () => {
    expect(harmonicMean(0, 0)).toBe(0);
    expect(harmonicMean(50, null)).toBeNull();
    expect(harmonicMean(50, 50)).toBe(50);
  });
});
