import { describe, expect, it } from 'vitest';
import { compareSeries, differingFactors, seriesName } from '../../../dashboards/series.ts';
import { differingSettings, flattenSpec } from '../../../dashboards/tables.ts';
import { configLeaves } from '../../../dashboards/trial.ts';
import { METHOD_ORDER } from '../../../db/results/views.ts';

const series = (key: Record<string, string | number | null>) => ({ key });

describe('chart series names', () => {
  const keys = [
    series({ method: 'dpt', lr: 0.02, shots: 2, epochs: 30 }),
    series({ method: 'dpt', lr: 0.02, shots: 8, epochs: 30 }),
    series({ method: 'coop', lr: 0.02, shots: 2, epochs: 30 }),
  ];

  it('name a series by its method and only the factors that differ between the series', () => {
    const differing = differingFactors(keys, ['method', 'lr', 'shots', 'epochs']);
    expect(differing).toEqual(['shots']);
    expect(keys.map((entry) => seriesName(entry.key, differing))).toEqual([
      'dpt shots=2',
      'dpt shots=8',
      'coop shots=2',
    ]);
  });

  it('leave out a differing factor the series does not set, and say "all" when nothing is left', () => {
    const mixed = [series({ method: 'zeroshot', cavptLength: null }), series({ method: 'dpt', cavptLength: 3 })];
    const differing = differingFactors(mixed, ['method', 'cavptLength']);
    expect(mixed.map((entry) => seriesName(entry.key, differing))).toEqual(['zeroshot', 'dpt cavptLength=3']);
    expect(seriesName({}, [])).toBe('all');
    expect(seriesName({ method: 'dpt' }, [])).toBe('dpt');
  });

  it('sort by the paper method order, unknown methods last, then by the other factors', () => {
    const unsorted = [
      series({ method: 'dpt', shots: 8 }),
      series({ method: 'mystery', shots: 1 }),
      series({ method: 'dpt', shots: 2 }),
      series({ method: 'vlp', shots: 2 }),
      series({ method: 'zeroshot', shots: 2 }),
      series({ method: 'coop', shots: 2 }),
      series({ method: 'vpt', shots: 2 }),
    ];
    const sorted = [...unsorted].sort(compareSeries(METHOD_ORDER, ['method', 'shots']));
    expect(sorted.map((entry) => `${entry.key.method}/${entry.key.shots}`)).toEqual([
      'zeroshot/2',
      'coop/2',
      'vpt/2',
      'vlp/2',
      'dpt/2',
      'dpt/8',
      'mystery/1',
    ]);
    expect(METHOD_ORDER).toEqual(['zeroshot', 'coop', 'vpt', 'vlp', 'dpt']);
  });
});

describe('compare settings and config leaves', () => {
  it('flatten a sweep file to dotted leaves; non-scalars read as JSON', () => {
    expect([...flattenSpec({ name: 'a', base: { lr: 0.1, cavpt: { on: true } }, grid: { shots: [1, 2] } })]).toEqual([
      ['name', 'a'],
      ['base.lr', 0.1],
      ['base.cavpt.on', 'true'],
      ['grid.shots', '[1,2]'],
    ]);
  });

  it('keep only the settings that differ, one value per sweep, null where unset, without the name', () => {
    const specs = [
      { name: 'a', base: { lr: 0.1, epochs: 5 } },
      { name: 'b', base: { lr: 0.2, epochs: 5 }, seeds: [1, 2] },
    ];
    expect(differingSettings(specs)).toEqual([
      { key: 'base.lr', values: [0.1, 0.2] },
      { key: 'seeds', values: [null, '[1,2]'] },
    ]);
    expect(differingSettings([{}, {}])).toEqual([]);
  });

  it('list config leaves with arrays as leaves', () => {
    expect([...configLeaves({ a: { b: 1, c: [1, 2] }, d: null })]).toEqual([
      ['a.b', 1],
      ['a.c', [1, 2]],
      ['d', null],
    ]);
  });
});
