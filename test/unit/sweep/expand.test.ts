import { describe, expect, it } from 'vitest';
import { paperPreset } from '../../../dpt/presets.ts';
import { METHODS, type Method, parseTrialConfig, SOURCE_DATASETS } from '../../../dpt/trial-config.ts';
import { AXES, AXIS_KEYS, type AxisDef } from '../../../sweep/axes.ts';
import { canonicalJson, identityView } from '../../../sweep/canonical.ts';
import { TARGET_DATASETS } from '../../../sweep/datasets.ts';
import { SweepFileError } from '../../../sweep/issues.ts';
import { parseSweepText } from '../../../sweep/schema.ts';
import { countUpperBound } from '../../../sweep/validate.ts';
import { plan, sweepYaml } from './helpers.ts';

describe('grid', () => {
  it('crosses methods × datasets × shots × seeds × axes, seeds innermost', () => {
    const p = plan({
      base: '  preset: paper',
      datasets: '[eurosat, dtd]',
      shots: '[1, 2]',
      seeds: '[1, 2, 3]',
      vary: 'vary:\n  mode: grid\n  method: [coop, dpt]\n  alpha: [0.1, 0.3, 0.5]',
    });
    // coop ignores alpha, so its three alpha variations are one trial per (dataset, shots, seed).
    const dpt = p.trials.filter((t) => t.config.method === 'dpt');
    const coop = p.trials.filter((t) => t.config.method === 'coop');
    expect(p.upperBound).toBe(6 * 2 * 2 * 3);
    expect(dpt).toHaveLength(3 * 2 * 2 * 3);
    expect(coop).toHaveLength(2 * 2 * 3);
    expect(p.trials.length + p.duplicates).toBe(p.upperBound);
    expect(p.distinctCells).toBe(p.trials.length / 3);
    expect(p.trials.slice(0, 3).map((t) => t.config.seed)).toEqual([1, 2, 3]);
    expect(new Set(dpt.map((t) => t.config.loss.alpha))).toEqual(new Set([0.1, 0.3, 0.5]));
    expect(p.trials.map((t) => t.index)).toEqual(p.trials.map((_, i) => i));
  });

  it('a grid without axes is the base cell alone', () => {
    const p = plan({ vary: 'vary:\n  mode: grid', seeds: '[1, 2]' });
    expect(p.variations).toEqual([{}]);
    expect(p.trials).toHaveLength(2);
  });

  it('no vary block means the base cell', () => {
    expect(plan({}).trials).toHaveLength(1);
  });
});

describe('ablation', () => {
  it('varies each axis alone from the base and keeps the shared base cell once', () => {
    const p = plan({
      seeds: '[1, 2]',
      vary: 'vary:\n  mode: ablation\n  alpha: [0.3, 0.5]\n  beta: [0.1, 0.2]\n  cavpt.length: [0, 10, 20]',
    });
    // arms: base, α 0.3 (= base), α 0.5, β 0.1 (= base), β 0.2, length 0, 10 (= base), 20 → 5 distinct
    expect(p.variations).toHaveLength(8);
    expect(p.distinctCells).toBe(5);
    expect(p.trials).toHaveLength(10);
    expect(p.duplicates).toBe(6);
    expect(p.trials[0]!.variation).toBe(0);
  });

  it('counts 1 + Σ|axis| variations before deduplication', () => {
    const file = parseSweepText(
      sweepYaml({ shots: '[1, 2]', vary: 'vary:\n  mode: ablation\n  lr: [0.001, 0.01]\n  kN: [1, 5, 10]' }),
    );
    expect(countUpperBound(file)).toBe((1 + 2 + 3) * 1 * 2 * 1);
  });
});

describe('explicit', () => {
  it('uses each override object as one variation (the CAVPT depth ablation)', () => {
    const p = plan({
      vary: [
        'vary:',
        '  mode: explicit',
        '  variations:',
        '    - { cavpt.mode: top-down, cavpt.layers: 12 }',
        '    - cavpt: { mode: bottom-up, layers: 4 }',
        '    - { cavpt.mode: shared, cavpt.layers: 12, lr: 0.002 }',
        '    - {}',
      ].join('\n'),
    });
    expect(p.trials.map((t) => [t.config.cavpt.mode, t.config.cavpt.layers, t.config.optim.lrVisual])).toEqual([
      ['top-down', 12, 0.01],
      ['bottom-up', 4, 0.01],
      ['shared', 12, 0.002],
      ['top-down', 1, 0.01],
    ]);
  });

  it('lets each variation pick its method when the base has none', () => {
    const p = plan({
      base: '  preset: paper',
      vary: 'vary:\n  mode: explicit\n  variations:\n    - { method: zeroshot }\n    - { method: vpt, vpt.length: 4 }',
    });
    expect(p.trials.map((t) => t.config.method)).toEqual(['zeroshot', 'vpt']);
    expect(p.trials[1]!.config.vpt.length).toBe(4);
  });
});

describe('random', () => {
  const random = (seed: number) =>
    plan({
      vary: `vary:\n  mode: random\n  n: 12\n  seed: ${seed}\n  lr: { min: 0.0001, max: 0.1, scale: log }\n  alpha: { min: 0, max: 1 }\n  kN: { min: 1, max: 20 }\n  cavpt.mode: [top-down, bottom-up, shared]`,
    });

  it('is reproducible with its seed and changes with it', () => {
    const a = random(7);
    expect(random(7).variations).toEqual(a.variations);
    expect(random(8).variations).not.toEqual(a.variations);
    expect(a.variations).toHaveLength(12);
  });

  it('draws inside the ranges, integers for integer axes, list values for lists', () => {
    for (const v of random(3).variations) {
      expect(v.lr).toBeGreaterThanOrEqual(0.0001);
      expect(v.lr).toBeLessThanOrEqual(0.1);
      expect(v.alpha).toBeGreaterThanOrEqual(0);
      expect(v.alpha).toBeLessThanOrEqual(1);
      expect(Number.isInteger(v.kN)).toBe(true);
      expect(['top-down', 'bottom-up', 'shared']).toContain(v['cavpt.mode']);
    }
  });

  it('spreads a log range over its decades', () => {
    const p = plan({ vary: 'vary:\n  mode: random\n  n: 200\n  seed: 1\n  lr: { min: 0.0001, max: 1, scale: log }' });
    const below = p.variations.filter((v) => (v.lr as number) < 0.01).length;
    // Half of a log-uniform draw over 1e-4..1 lies below 1e-2; a linear draw would put ~1% there.
    expect(below).toBeGreaterThan(60);
    expect(below).toBeLessThan(140);
  });
});

describe('presets and resolution', () => {
  it("applies the paper's per-(dataset, shots) schedule through the trainer's presets", () => {
    const p = plan({ datasets: '[paper-11]', shots: '[1, 2, 4, 8, 16]' });
    expect(p.trials).toHaveLength(55);
    for (const t of p.trials) {
      const preset = paperPreset(t.config.dataset, t.config.shots);
      expect(t.config.optim.epochs).toBe(preset.epochs);
      expect(t.config.loss.warmupEpochs).toBe(preset.warmupEpochs);
      expect(t.config.optim.lrWarmupEpochs).toBe(preset.lrWarmupEpochs);
    }
    const at = (dataset: string, shots: number) =>
      p.trials.find((t) => t.config.dataset === dataset && t.config.shots === shots)!.config;
    expect(at('eurosat', 1).optim.epochs).toBe(60);
    expect(at('eurosat', 2).optim.epochs).toBe(100);
    expect(at('eurosat', 16).optim.epochs).toBe(100);
    expect(at('caltech101', 16).optim.epochs).toBe(60);
    expect(at('oxford_pets', 16).optim.epochs).toBe(60);
    expect(at('caltech101', 8).optim.epochs).toBe(100);
    expect([
      at('imagenet', 4).optim.epochs,
      at('imagenet', 4).loss.warmupEpochs,
      at('imagenet', 4).optim.lrWarmupEpochs,
    ]).toEqual([20, 10, 1]);
    const c = at('dtd', 4);
    expect([c.loss.alpha, c.loss.beta, c.cavpt.kN, c.cavpt.layers, c.cavpt.mode]).toEqual([
      0.3,
      0.1,
      10,
      1,
      'top-down',
    ]);
    expect([c.vpt.length, c.text.nCtx, c.optim.lrVisual, c.optim.lrText]).toEqual([10, 16, 0.01, 0.002]);
  });

  it('base settings override the preset, variations override the base', () => {
    const p = plan({
      base: '  method: dpt\n  epochs: 5\n  lr: 0.003\n  cavpt: { length: 4 }\n  trial: { optim: { momentum: 0.8 } }',
      vary: 'vary:\n  mode: explicit\n  variations: [{}, { epochs: 7 }]',
    });
    expect(p.trials.map((t) => t.config.optim.epochs)).toEqual([5, 7]);
    expect(p.trials.every((t) => t.config.optim.lrVisual === 0.003 && t.config.cavpt.kN === 4)).toBe(true);
    expect(p.trials[0]!.config.optim.momentum).toBe(0.8);
  });

  it("every resolved config is exactly the trainer's TrialConfig (re-parsing changes nothing)", () => {
    const p = plan({
      base: '  preset: paper',
      datasets: '[eurosat, domain-shift]',
      shots: '[1, 16]',
      vary: 'vary:\n  mode: grid\n  method: [zeroshot, coop, vpt, vlp, dpt]',
    });
    for (const t of p.trials) expect(parseTrialConfig(t.config)).toEqual(t.config);
    expect(p.trials[0]!.config).toMatchObject({ root: './data', model: './models/clip', preset: 'paper' });
  });

  it('groups expand: paper-11, and domain-shift trains on imagenet evaluated on the four shifted sets', () => {
    const p = plan({ datasets: '[domain-shift, paper-11]' });
    expect(p.datasets.map((d) => d.dataset).sort()).toEqual([...SOURCE_DATASETS].sort());
    const imagenet = p.trials.find((t) => t.config.dataset === 'imagenet')!;
    expect(imagenet.config.evalDatasets).toEqual([...TARGET_DATASETS]);
    expect(TARGET_DATASETS).toEqual(['imagenet_v2', 'imagenet_sketch', 'imagenet_a', 'imagenet_r']);
    expect(
      p.trials.filter((t) => t.config.dataset !== 'imagenet').every((t) => t.config.evalDatasets.length === 0),
    ).toBe(true);
  });

  it('settings a method never reads cannot split its trials (every axis, every method)', () => {
    for (const key of AXIS_KEYS) {
      if (key === 'method') continue;
      const def: AxisDef = AXES[key];
      const values =
        def.kind === 'enum' ? def.options!.slice(0, 2) : def.kind === 'int' ? [def.min!, def.min! + 1] : [0.001, 0.5];
      for (const method of METHODS.filter((m: Method) => !def.methods.includes(m))) {
        const p = plan({
          base: '  preset: paper',
          vary: `vary:\n  mode: grid\n  method: [${method}, dpt]\n  ${key}: [${values.join(', ')}]`,
        });
        const own = p.trials.filter((t) => t.config.method === method);
        expect(own, `${key} split ${method} trials`).toHaveLength(1);
        expect(p.trials.filter((t) => t.config.method === 'dpt')).toHaveLength(2);
      }
    }
  });
});

describe('size limit', () => {
  const big = {
    datasets: '[paper-11]',
    shots: '[1, 2, 4, 8, 16]',
    seeds: '[1, 2, 3]',
    vary: 'vary:\n  mode: grid\n  lr: [0.001, 0.002, 0.005, 0.01]',
  };

  it('refuses above the limit unless forced', () => {
    expect(() => plan(big, { limit: 100 })).toThrow(SweepFileError);
    expect(plan(big, { limit: 100, force: true }).trials).toHaveLength(660);
    expect(plan(big).trials).toHaveLength(660);
  });

  it('names the count and its factors', () => {
    try {
      plan(big, { limit: 100 });
      expect.unreachable();
    } catch (err) {
      const issue = (err as SweepFileError).issues[0]!;
      expect(issue.path).toBe('(expansion)');
      expect(issue.message).toBe(
        'expected at most 100 trials without --force, got 660 (4 variations × 11 datasets × 5 shots × 3 seeds)',
      );
    }
  });
});

describe('deduplication', () => {
  it('never keeps two trials with the same identity', () => {
    const p = plan({
      datasets: '[eurosat, paper-11]',
      shots: '[1, 2]',
      seeds: '[1, 2]',
      vary: 'vary:\n  mode: ablation\n  kN: [10, 20, 50]\n  alpha: [0.3]',
    });
    const keys = p.trials.map((t) => canonicalJson(identityView(t.config)));
    expect(new Set(keys).size).toBe(keys.length);
  });
});
