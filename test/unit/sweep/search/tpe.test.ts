import { describe, expect, it } from 'vitest';
import {
  goodCount,
  type Observation,
  type Params,
  type SearchDimension,
  suggestTpe,
  TPE_DEFAULTS,
  type TpeOptions,
} from '../../../../sweep/search/tpe.ts';

const LR: SearchDimension = { kind: 'float', key: 'lr', min: 1e-4, max: 1e-1, scale: 'log' };
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

/** The sequential loop a search runs: suggestion i sees the observations of suggestions 0..i-1. */
function search(
  space: readonly SearchDimension[],
  objective: (p: Params) => number,
  count: number,
  options: TpeOptions,
): Observation[] {
  const observations: Observation[] = [];
  for (let i = 0; i < count; i++) {
    const params = suggestTpe(space, observations, i, options);
    observations.push({ params, value: objective(params) });
  }
  return observations;
}

const lrObjective = (p: Params) => -((Math.log10(p.lr as number) + 2) ** 2);
const meanOf = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('goodCount (Optuna default gamma)', () => {
  it('is min(ceil(n / 10), 25)', () => {
    expect(goodCount(0)).toBe(0);
    expect(goodCount(1)).toBe(1);
    expect(goodCount(10)).toBe(1);
    expect(goodCount(11)).toBe(2);
    expect(goodCount(30)).toBe(3);
    expect(goodCount(249)).toBe(25);
    expect(goodCount(300)).toBe(25);
    expect(() => goodCount(-1)).toThrow(/non-negative integer/);
    expect(() => goodCount(1.5)).toThrow(/non-negative integer/);
  });

  it('uses Optuna defaults', () => {
    expect(TPE_DEFAULTS).toEqual({ startup: 10, candidates: 24 });
  });
});

describe('suggestTpe: reproducibility', () => {
  const space: SearchDimension[] = [
    LR,
    { kind: 'int', key: 'epochs', min: 1, max: 50, scale: 'linear' },
    { kind: 'categorical', key: 'opt', values: ['sgd', 'adam', 3] },
  ];
  const history = search(
    space,
    (p) => lrObjective(p) - Math.abs((p.epochs as number) - 20) / 50 + (p.opt === 'adam' ? 0.5 : 0),
    15,
    { seed: 11 },
  );

  it('gives the same params for the same arguments, in startup and in the model phase', () => {
    for (const n of [0, 5, 15]) {
      const a = suggestTpe(space, history.slice(0, n), n, { seed: 11 });
      const b = suggestTpe(
        space,
        history.slice(0, n).map((o) => ({ params: { ...o.params }, value: o.value })),
        n,
        {
          seed: 11,
        },
      );
      expect(b).toEqual(a);
    }
  });

  it('differs between indices and between seeds', () => {
    const base = suggestTpe(space, history, 15, { seed: 11 });
    expect(suggestTpe(space, history, 16, { seed: 11 })).not.toEqual(base);
    expect(suggestTpe(space, history, 15, { seed: 12 })).not.toEqual(base);
    expect(suggestTpe(space, [], 0, { seed: 11 })).not.toEqual(suggestTpe(space, [], 1, { seed: 11 }));
    expect(suggestTpe(space, [], 0, { seed: 1 })).not.toEqual(suggestTpe(space, [], 0, { seed: -1 }));
  });

  it('is invariant to the order of observations with distinct values in groups under 25', () => {
    const reversed = [...history].reverse();
    const rotated = [...history.slice(7), ...history.slice(0, 7)];
    const expected = suggestTpe(space, history, 15, { seed: 11 });
    expect(suggestTpe(space, reversed, 15, { seed: 11 })).toEqual(expected);
    expect(suggestTpe(space, rotated, 15, { seed: 11 })).toEqual(expected);
  });

  it('breaks ties in the objective by observation order (the earlier one is good)', () => {
    const x: SearchDimension = { kind: 'float', key: 'x', min: 0, max: 1, scale: 'linear' };
    const low = { params: { x: 0.1 }, value: 1 };
    const high = { params: { x: 0.9 }, value: 1 };
    const rest = [0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7].map((v) => ({ params: { x: v }, value: 0 }));
    const mean = (obs: Observation[]) =>
      meanOf(Array.from({ length: 20 }, (_, i) => suggestTpe([x], obs, 10 + i, { seed: 3 }).x as number));
    expect(mean([low, high, ...rest])).toBeLessThan(0.3);
    expect(mean([high, low, ...rest])).toBeGreaterThan(0.7);
  });

  it('ranks non-finite values last', () => {
    const x: SearchDimension = { kind: 'float', key: 'x', min: 0, max: 1, scale: 'linear' };
    const obs = [
      { params: { x: 0.95 }, value: Number.NaN },
      { params: { x: 0.9 }, value: Number.POSITIVE_INFINITY },
      { params: { x: 0.1 }, value: -5 },
      ...[0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85].map((v) => ({ params: { x: v }, value: -10 })),
    ];
    const xs = Array.from({ length: 20 }, (_, i) => suggestTpe([x], obs, 10 + i, { seed: 5 }).x as number);
    expect(meanOf(xs)).toBeLessThan(0.3);
  });
});

describe('suggestTpe: startup draws', () => {
  it('stay in bounds with the right types, log scale spread evenly over decades', () => {
    const space: SearchDimension[] = [
      LR,
      { kind: 'float', key: 'wd', min: -1, max: 1, scale: 'linear' },
      { kind: 'int', key: 'n', min: 2, max: 5, scale: 'linear' },
      { kind: 'int', key: 'width', min: 1, max: 1000, scale: 'log' },
      { kind: 'categorical', key: 'c', values: ['x', 'y', 7] },
    ];
    const draws = Array.from({ length: 400 }, (_, i) => suggestTpe(space, [], i, { seed: 42 }));
    const decades = [0, 0, 0];
    const ints = new Set<number>();
    for (const p of draws) {
      const lr = p.lr as number;
      expect(lr).toBeGreaterThanOrEqual(1e-4);
      expect(lr).toBeLessThanOrEqual(1e-1);
      decades[Math.min(2, Math.floor(Math.log10(lr) + 4))]! += 1;
      expect(p.wd as number).toBeGreaterThanOrEqual(-1);
      expect(p.wd as number).toBeLessThanOrEqual(1);
      expect(Number.isInteger(p.n)).toBe(true);
      ints.add(p.n as number);
      expect(Number.isInteger(p.width)).toBe(true);
      expect(p.width as number).toBeGreaterThanOrEqual(1);
      expect(p.width as number).toBeLessThanOrEqual(1000);
      expect(['x', 'y', 7]).toContain(p.c);
    }
    for (const count of decades) {
      expect(count).toBeGreaterThan(100);
      expect(count).toBeLessThan(167);
    }
    expect([...ints].sort()).toEqual([2, 3, 4, 5]);
    const smallWidths = draws.filter((p) => (p.width as number) <= 31).length;
    expect(smallWidths).toBeGreaterThan(140);
    expect(smallWidths).toBeLessThan(260);
  });
});

describe('suggestTpe: the model phase', () => {
  it('beats random search on a 1-D log-scale objective', () => {
    const tpeRuns = SEEDS.map((seed) => search([LR], lrObjective, 40, { seed }));
    const randomRuns = SEEDS.map((seed) => search([LR], lrObjective, 40, { seed, startup: 1000 }));
    const best = (runs: Observation[][]) => meanOf(runs.map((obs) => Math.max(...obs.map((o) => o.value))));
    const lastDistance = (runs: Observation[][]) =>
      meanOf(runs.flatMap((obs) => obs.slice(-10).map((o) => Math.abs(Math.log10(o.params.lr as number) + 2))));
    expect(best(tpeRuns)).toBeGreaterThan(best(randomRuns));
    expect(lastDistance(tpeRuns)).toBeLessThan(lastDistance(randomRuns));
    for (const obs of tpeRuns) {
      for (const o of obs) {
        expect(o.params.lr as number).toBeGreaterThanOrEqual(1e-4);
        expect(o.params.lr as number).toBeLessThanOrEqual(1e-1);
      }
    }
  });

  it('settles on the clearly better category, with an int dimension alongside', () => {
    const space: SearchDimension[] = [
      { kind: 'int', key: 'n', min: 1, max: 8, scale: 'linear' },
      { kind: 'categorical', key: 'c', values: ['a', 'b', 'c', 'd'] },
    ];
    const objective = (p: Params) => (p.c === 'b' ? 1 : 0) - 0.01 * Math.abs((p.n as number) - 5);
    for (const seed of [1, 2, 3]) {
      const after = search(space, objective, 40, { seed }).slice(TPE_DEFAULTS.startup);
      expect(after).toHaveLength(30);
      expect(after.filter((o) => o.params.c === 'b').length / after.length).toBeGreaterThanOrEqual(0.7);
      for (const o of after) {
        expect(Number.isInteger(o.params.n)).toBe(true);
        expect(o.params.n as number).toBeGreaterThanOrEqual(1);
        expect(o.params.n as number).toBeLessThanOrEqual(8);
      }
    }
  });

  it('runs a mixed float × int space (log int included) and returns valid types', () => {
    const space: SearchDimension[] = [
      { kind: 'float', key: 'x', min: -3, max: 3, scale: 'linear' },
      { kind: 'int', key: 'k', min: 1, max: 64, scale: 'log' },
    ];
    const objective = (p: Params) => -(((p.x as number) - 1) ** 2) - (Math.log2(p.k as number) - 3) ** 2;
    const obs = search(space, objective, 35, { seed: 9, startup: 5, candidates: 12 });
    for (const o of obs) {
      expect(typeof o.params.x).toBe('number');
      expect(o.params.x as number).toBeGreaterThanOrEqual(-3);
      expect(o.params.x as number).toBeLessThanOrEqual(3);
      expect(Number.isInteger(o.params.k)).toBe(true);
      expect(o.params.k as number).toBeGreaterThanOrEqual(1);
      expect(o.params.k as number).toBeLessThanOrEqual(64);
    }
    expect(Math.max(...obs.map((o) => o.value))).toBeGreaterThan(-0.5);
  });

  it('handles startup 0 (prior only) and a group of 25 or more (weighted ramp)', () => {
    const first = suggestTpe([LR], [], 0, { seed: 1, startup: 0 });
    expect(first.lr as number).toBeGreaterThanOrEqual(1e-4);
    const obs = search([LR], lrObjective, 60, { seed: 2 });
    expect(Math.max(...obs.slice(-10).map((o) => o.value))).toBeGreaterThan(-0.05);
  });
});

describe('suggestTpe: validation', () => {
  const ok: SearchDimension = { kind: 'float', key: 'x', min: 0, max: 1, scale: 'linear' };
  it('rejects bad spaces', () => {
    expect(() => suggestTpe([], [], 0, { seed: 1 })).toThrow(/empty/);
    expect(() => suggestTpe([{ ...ok, min: 1, max: 1 }], [], 0, { seed: 1 })).toThrow(/min < max/);
    expect(() => suggestTpe([{ ...ok, min: 2, max: 1 }], [], 0, { seed: 1 })).toThrow(/min < max/);
    expect(() => suggestTpe([{ ...ok, scale: 'log' }], [], 0, { seed: 1 })).toThrow(/log scale.*> 0/);
    expect(() => suggestTpe([{ kind: 'int', key: 'n', min: 0, max: 4, scale: 'log' }], [], 0, { seed: 1 })).toThrow(
      /log scale/,
    );
    expect(() =>
      suggestTpe([{ kind: 'int', key: 'n', min: 0.5, max: 4, scale: 'linear' }], [], 0, { seed: 1 }),
    ).toThrow(/integer bounds/);
    expect(() => suggestTpe([{ ...ok, max: Number.POSITIVE_INFINITY }], [], 0, { seed: 1 })).toThrow(/finite/);
    expect(() => suggestTpe([ok, ok], [], 0, { seed: 1 })).toThrow(/twice/);
    expect(() => suggestTpe([{ kind: 'categorical', key: 'c', values: [] }], [], 0, { seed: 1 })).toThrow(/no values/);
  });

  it('rejects bad observations and options', () => {
    const cat: SearchDimension = { kind: 'categorical', key: 'c', values: ['a', 'b'] };
    expect(() => suggestTpe([cat], [{ params: { c: 'z' }, value: 1 }], 1, { seed: 1 })).toThrow(
      /not one of its categorical values/,
    );
    expect(() => suggestTpe([ok], [{ params: {}, value: 1 }], 1, { seed: 1 })).toThrow(/no parameter x/);
    expect(() => suggestTpe([ok], [{ params: { x: 2 }, value: 1 }], 1, { seed: 1 })).toThrow(/outside/);
    expect(() => suggestTpe([ok], [{ params: { x: 'a' }, value: 1 }], 1, { seed: 1 })).toThrow(/finite number/);
    expect(() =>
      suggestTpe([{ kind: 'int', key: 'n', min: 1, max: 4, scale: 'linear' }], [{ params: { n: 1.5 }, value: 1 }], 1, {
        seed: 1,
      }),
    ).toThrow(/not an integer/);
    expect(() => suggestTpe([ok], [], -1, { seed: 1 })).toThrow(/index/);
    expect(() => suggestTpe([ok], [], 0, { seed: 0.5 })).toThrow(/seed/);
    expect(() => suggestTpe([ok], [], 0, { seed: 1, startup: -1 })).toThrow(/startup/);
    expect(() => suggestTpe([ok], [], 0, { seed: 1, candidates: 0 })).toThrow(/candidates/);
  });
});
