import { describe, expect, it } from 'vitest';
import type { Cell, CellReport } from '../../../db/ablation.ts';
import { buildPivot } from '../../../db/results/pivot.ts';

const cell = (key: Cell['key'], mean: number): Cell => ({
  key,
  n: 2,
  expectedN: 2,
  mean,
  stdPop: 0,
  stdSample: 0,
  seeds: [1, 2],
  plannedSeeds: [1, 2],
  endedSeeds: [],
  stoppedSeeds: [],
});

describe('results pivot', () => {
  it("lists methods in the paper's order, unknown ones after by name, then the other factors by value", () => {
    const methods = ['dpt', 'coop', 'zeroshot', 'kgcoop', 'vlp', 'vpt', 'cocoop'];
    const cells = methods.flatMap((method) =>
      [8, 2].map((shots) => cell({ method, shots, dataset: 'eurosat' }, shots)),
    );
    const report: CellReport = { factors: ['method', 'shots', 'dataset'], added: [], cells, missing: [] };
    const pivot = buildPivot(report, { rowFactors: ['method', 'shots'], column: 'dataset', average: 'all' });
    expect(pivot.rows.map((row) => row.key.join(' '))).toEqual([
      'zeroshot 2',
      'zeroshot 8',
      'coop 2',
      'coop 8',
      'vpt 2',
      'vpt 8',
      'vlp 2',
      'vlp 8',
      'dpt 2',
      'dpt 8',
      'cocoop 2',
      'cocoop 8',
      'kgcoop 2',
      'kgcoop 8',
    ]);
  });

  it('orders method columns the same way', () => {
    const cells = ['vpt', 'zeroshot', 'dpt'].map((method) => cell({ dataset: 'eurosat', method }, 50));
    const report: CellReport = { factors: ['dataset', 'method'], added: [], cells, missing: [] };
    const pivot = buildPivot(report, { rowFactors: ['dataset'], column: 'method', average: 'none' });
    expect(pivot.columns).toEqual(['zeroshot', 'vpt', 'dpt']);
  });

  it('lists sweeps in the order given, whatever their names', () => {
    const cells = ['b-sweep', 'a-sweep', 'c-sweep'].map((sweep) => cell({ sweep, dataset: 'eurosat' }, 50));
    const report: CellReport = { factors: ['sweep', 'dataset'], added: [], cells, missing: [] };
    const pivot = buildPivot(report, {
      rowFactors: ['sweep'],
      column: 'dataset',
      average: 'none',
      orders: { sweep: ['c-sweep', 'b-sweep', 'a-sweep'] },
    });
    expect(pivot.rows.map((row) => row.key[0])).toEqual(['c-sweep', 'b-sweep', 'a-sweep']);
  });
});
