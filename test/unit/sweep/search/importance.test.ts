import { describe, expect, it } from 'vitest';
import { axisImportance, IMPORTANCE_BINS, type ImportanceRow } from '../../../../sweep/search/importance.ts';

/** value = 10·a + b on the full grid a ∈ {0, 1}, b ∈ {0, 1, 2}: mean 6, SS_a = 6·5² = 150, SS_b = 2·(1 + 0 + 1) = 4. */
const grid: ImportanceRow[] = [0, 1].flatMap((a) => [0, 1, 2].map((b) => ({ params: { a, b }, value: 10 * a + b })));

describe('axisImportance', () => {
  it('gives the hand-computed η² of a full grid, sorted by share', () => {
    const result = axisImportance(grid, [
      { key: 'b', kind: 'numeric' },
      { key: 'a', kind: 'categorical' },
    ]);
    expect(result.map((r) => r.key)).toEqual(['a', 'b']);
    expect(result[0]!.share).toBeCloseTo(150 / 154, 12);
    expect(result[1]!.share).toBeCloseTo(4 / 154, 12);
    expect(result.map((r) => r.groups)).toEqual([2, 3]);
  });

  it('gives ~0 to an axis with no effect and sorts equal shares by key', () => {
    const rows = [0, 1].flatMap((a) =>
      ['x', 'y', 'z'].map((noise) => ({ params: { a, noise, alsoNoise: noise }, value: 3 * a })),
    );
    const result = axisImportance(rows, [
      { key: 'noise', kind: 'categorical' },
      { key: 'a', kind: 'numeric' },
      { key: 'alsoNoise', kind: 'categorical' },
    ]);
    expect(result.map((r) => r.key)).toEqual(['a', 'alsoNoise', 'noise']);
    expect(result[0]!.share).toBeCloseTo(1, 12);
    expect(result[1]!.share).toBeCloseTo(0, 12);
    expect(result[2]!.share).toBeCloseTo(0, 12);
  });

  it(`cuts a numeric axis with many values into ${IMPORTANCE_BINS} equal-count bins, ties in one bin`, () => {
    // x = 1..8 → bins {1,2} {3,4} {5,6} {7,8}; value alternates within each bin, so only the bin means count.
    const rows = [1, 2, 3, 4, 5, 6, 7, 8].map((x) => ({ params: { x }, value: (x > 4 ? 10 : 0) + (x % 2) }));
    const [x] = axisImportance(rows, [{ key: 'x', kind: 'numeric' }]);
    expect(x!.groups).toBe(4);
    // bin means 0.5, 0.5, 10.5, 10.5 around 5.5: SS_between = 8·25 = 200; SS_total = 200 + 8·0.25 = 202.
    expect(x!.share).toBeCloseTo(200 / 202, 12);
    // As categorical, each value is its own group and explains everything.
    expect(axisImportance(rows, [{ key: 'x', kind: 'categorical' }])[0]).toEqual({ key: 'x', share: 1, groups: 8 });

    // Ties: 1 appears four times (ranks 0..3) and stays in bin 0 although that takes half the rows.
    const tied = [1, 1, 1, 1, 2, 3, 4, 5].map((x, i) => ({ params: { x }, value: i }));
    const [t] = axisImportance(tied, [{ key: 'x', kind: 'numeric' }]);
    // Bins: {1,1,1,1} (rank 0), {2,3} (ranks 4, 5 → bin 2), {4,5} (ranks 6, 7 → bin 3).
    expect(t!.groups).toBe(3);
    const mean = 3.5;
    const between = 4 * (1.5 - mean) ** 2 + 2 * (4.5 - mean) ** 2 + 2 * (6.5 - mean) ** 2;
    const total = [0, 1, 2, 3, 4, 5, 6, 7].reduce((s, v) => s + (v - mean) ** 2, 0);
    expect(t!.share).toBeCloseTo(between / total, 12);
  });

  it('groups by value when a numeric axis has few values', () => {
    const [b] = axisImportance(grid, [{ key: 'b', kind: 'numeric' }]);
    expect(b!.groups).toBe(3);
  });

  it('returns [] for fewer than 3 rows and for a constant objective', () => {
    expect(axisImportance(grid.slice(0, 2), [{ key: 'a', kind: 'numeric' }])).toEqual([]);
    expect(axisImportance([], [{ key: 'a', kind: 'numeric' }])).toEqual([]);
    const constant = grid.map((r) => ({ params: r.params, value: 0.1 }));
    expect(axisImportance(constant, [{ key: 'a', kind: 'numeric' }])).toEqual([]);
  });

  it('ignores non-finite rows', () => {
    const noisy = [
      ...grid,
      { params: { a: 0, b: 0 }, value: Number.NaN },
      { params: { a: 1, b: 2 }, value: Number.POSITIVE_INFINITY },
    ];
    const axes = [
      { key: 'a', kind: 'numeric' as const },
      { key: 'b', kind: 'numeric' as const },
    ];
    expect(axisImportance(noisy, axes)).toEqual(axisImportance(grid, axes));
    const twoFinite = [...grid.slice(0, 2), { params: { a: 1, b: 1 }, value: Number.NaN }];
    expect(axisImportance(twoFinite, axes)).toEqual([]);
  });

  it('puts rows without the axis in one "absent" group, and keeps 1 and "1" apart', () => {
    const rows: ImportanceRow[] = [
      { params: { m: 1 }, value: 0 },
      { params: { m: 1 }, value: 0 },
      { params: { m: '1' }, value: 4 },
      { params: { m: '1' }, value: 4 },
      { params: {}, value: 8 },
      { params: {}, value: 8 },
    ];
    const [m] = axisImportance(rows, [{ key: 'm', kind: 'categorical' }]);
    expect(m).toEqual({ key: 'm', share: 1, groups: 3 });
    const [numeric] = axisImportance(rows, [{ key: 'm', kind: 'numeric' }]);
    expect(numeric!.groups).toBe(3);
  });

  it('rejects an axis listed twice', () => {
    expect(() =>
      axisImportance(grid, [
        { key: 'a', kind: 'numeric' },
        { key: 'a', kind: 'categorical' },
      ]),
    ).toThrow(/twice/);
  });
});
