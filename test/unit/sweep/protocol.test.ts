import { describe, expect, it } from 'vitest';
import { SweepFileError } from '../../../sweep/issues.ts';
import { planSweepText } from '../../../sweep/plan.ts';

const file = (protocol: string, datasets = 'datasets: [eurosat, dtd]', method = 'coop') =>
  [
    'name: protocols',
    'base:',
    `  method: ${method}`,
    '  model: ./models/clip',
    '  dataRoot: ./data',
    datasets,
    'shots: [16]',
    'seeds: [1, 2]',
    protocol,
  ].join('\n');

const problems = (text: string) => {
  try {
    planSweepText(text, 'test');
  } catch (err) {
    if (err instanceof SweepFileError) return err.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw err;
  }
  return [];
};

describe('protocol: in the sweep file (sweep/protocol.ts)', () => {
  it('few-shot is the default and leaves trials as they were', () => {
    const plain = planSweepText(file(''), 'test');
    const named = planSweepText(file('protocol: few-shot'), 'test');
    expect(named.trials.map((t) => t.config)).toEqual(plain.trials.map((t) => t.config));
    expect(plain.trials.every((t) => t.config.subsampleClasses === 'all' && t.config.evalDatasets.length === 0)).toBe(
      true,
    );
  });

  it('base-to-novel trains every dataset on its base classes, a factor of its own', () => {
    const plan = planSweepText(file('protocol: base-to-novel'), 'test');
    expect(plan.trials).toHaveLength(4);
    for (const trial of plan.trials) {
      expect(trial.config.subsampleClasses).toBe('base');
      expect(trial.config.evalDatasets).toEqual([]);
      expect(trial.factors.subsampleClasses).toBe('base');
    }
    expect(problems(file('protocol: base-to-novel', 'datasets: [domain-shift]'))).toEqual([
      expect.stringMatching(/^datasets\[0\]: .*domain-generalization/),
    ]);
    expect(problems(file('protocol: { name: base-to-novel, targets: [dtd] }'))).toEqual([
      expect.stringMatching(/^protocol\.targets: expected no targets/),
    ]);
  });

  it('base-to-novel counts CAVPT length against the base classes: min(K_N, ceil(n/2))', () => {
    const plan = planSweepText(file('protocol: base-to-novel', 'datasets: [eurosat]', 'dpt\n  kN: 10'), 'test');
    // EuroSAT has 10 classes, so 5 base classes.
    expect(plan.trials[0]?.factors.cavptLength).toBe(5);
    expect(plan.warnings.map((w) => w.message).join(' ')).toContain('eurosat (5 classes) at 10');
  });

  it('cross-dataset trains on ImageNet by default and is evaluated on the other ten benchmarks', () => {
    const plan = planSweepText(file('protocol: cross-dataset', ''), 'test');
    expect(plan.datasets).toEqual([
      {
        dataset: 'imagenet',
        evalDatasets: [
          'caltech101',
          'oxford_pets',
          'stanford_cars',
          'oxford_flowers',
          'food101',
          'fgvc_aircraft',
          'sun397',
          'dtd',
          'eurosat',
          'ucf101',
        ],
      },
    ]);
    expect(plan.trials.every((t) => t.config.dataset === 'imagenet' && t.config.subsampleClasses === 'all')).toBe(true);
  });

  it('domain-generalization defaults to ImageNet and its domain-shift sets', () => {
    const plan = planSweepText(file('protocol: domain-generalization', ''), 'test');
    expect(plan.datasets).toEqual([
      { dataset: 'imagenet', evalDatasets: ['imagenet_v2', 'imagenet_sketch', 'imagenet_a', 'imagenet_r'] },
    ]);
  });

  it('transfer targets: named, groups without the source, and the rules', () => {
    const plan = planSweepText(
      file('protocol: { name: cross-dataset, targets: [paper-11, synth_shape] }', 'datasets: [eurosat]'),
      'test',
    );
    expect(plan.datasets[0]?.evalDatasets).toHaveLength(11);
    expect(plan.datasets[0]?.evalDatasets).not.toContain('eurosat');
    expect(plan.datasets[0]?.evalDatasets.at(-1)).toBe('synth_shape');
    expect(problems(file('protocol: cross-dataset', 'datasets: [eurosat, dtd]'))).toEqual([
      expect.stringMatching(/^datasets: expected one source dataset for protocol cross-dataset/),
    ]);
    expect(problems(file('protocol: { name: cross-dataset, targets: [eurosat] }', 'datasets: [eurosat]'))).toEqual([
      expect.stringMatching(/^protocol\.targets\[0\]: expected a target other than the source/),
    ]);
    expect(problems(file('protocol: domain-generalization', 'datasets: [synth_shape]'))).toEqual([
      expect.stringMatching(/^protocol\.targets: expected targets for protocol domain-generalization/),
    ]);
    expect(problems(file('protocol: { name: cross-dataset, targets: [mnist] }', 'datasets: [eurosat]'))).toEqual([
      expect.stringMatching(/^protocol\.targets\[0\]: expected a dataset of the data registry/),
    ]);
    expect(problems(file('protocol: zero-shot'))).toEqual([
      expect.stringMatching(/^protocol: expected one of few-shot/),
    ]);
  });

  it('base.trial may not set what the protocol owns', () => {
    const text = file('protocol: base-to-novel').replace(
      '  dataRoot: ./data',
      '  dataRoot: ./data\n  trial: { subsampleClasses: all }',
    );
    expect(problems(text)).toEqual([
      expect.stringMatching(/^base\.trial\.subsampleClasses: .*protocol: base-to-novel/),
    ]);
  });
});
