import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planSweepText } from '../../../sweep/plan.ts';

const examples = readdirSync('examples')
  .filter((f) => f.endsWith('.yaml') && !f.startsWith('trial-'))
  .sort();
const load = (name: string) => planSweepText(readFileSync(join('examples', name), 'utf8'), name);

describe('example sweep files', () => {
  it('include the quick start and the paper ablations', () => {
    expect(examples).toEqual([
      'alpha-beta.yaml',
      'base-to-novel.yaml',
      'cavpt-depth.yaml',
      'cavpt-length.yaml',
      'cross-dataset.yaml',
      'domain-generalization.yaml',
      'fewshot-curves.yaml',
      'kn.yaml',
      'lr.yaml',
      'quickstart.yaml',
      'search-halving.yaml',
      'search-tpe.yaml',
    ]);
  });

  it.each(examples)('%s validates and expands', (name) => {
    const p = load(name);
    // A TPE search plans its trials as it suggests them.
    if (p.file.search?.kind === 'tpe') expect(p.upperBound).toBeGreaterThan(0);
    else expect(p.trials.length).toBeGreaterThan(0);
    expect(`${p.file.name}.yaml`).toBe(name);
  });

  it('the search examples: halving configures every trial for maxEpochs, TPE plans nothing yet', () => {
    const halving = load('search-halving.yaml');
    expect(halving.trials).toHaveLength(27 * 2 * 3);
    expect(new Set(halving.trials.map((t) => t.config.optim.epochs))).toEqual(new Set([50]));
    expect(load('search-tpe.yaml').upperBound).toBe(32 * 3);
  });

  it('one example per protocol: base-to-novel, cross-dataset, domain-generalization and few-shot', () => {
    const b2n = load('base-to-novel.yaml');
    expect(b2n.trials).toHaveLength(5 * 11 * 3);
    expect(b2n.trials.every((t) => t.config.subsampleClasses === 'base' && t.config.evalDatasets.length === 0)).toBe(
      true,
    );
    const xd = load('cross-dataset.yaml');
    expect(xd.trials).toHaveLength(15);
    expect(xd.datasets).toEqual([
      { dataset: 'imagenet', evalDatasets: expect.arrayContaining(['caltech101', 'ucf101']) },
    ]);
    expect(xd.datasets[0]?.evalDatasets).toHaveLength(10);
    expect(load('fewshot-curves.yaml').file.protocol).toBe('few-shot');
    expect(load('domain-generalization.yaml').file.protocol).toBe('domain-generalization');
  });

  it('examples/synthetic: each protocol on the quick start tasks', () => {
    const synthetic = readdirSync(join('examples', 'synthetic')).sort();
    expect(synthetic).toEqual([
      'base-to-novel.yaml',
      'cross-dataset.yaml',
      'domain-generalization.yaml',
      'search-halving.yaml',
      'search-tpe.yaml',
    ]);
    for (const name of synthetic) {
      const p = load(join('synthetic', name));
      expect(p.file.name).toBe(`synthetic-${name.replace('.yaml', '')}`);
      expect(p.trials.every((t) => t.config.dataset.startsWith('synth_'))).toBe(true);
      expect(p.datasets.every((d) => d.dataset.startsWith('synth_'))).toBe(true);
    }
    expect(load(join('synthetic', 'search-halving.yaml')).trials).toHaveLength(27);
    expect(load(join('synthetic', 'base-to-novel.yaml')).trials).toHaveLength(30);
    expect(load(join('synthetic', 'cross-dataset.yaml')).datasets[0]?.evalDatasets).toEqual([
      'synth_colour',
      'synth_target_colour',
    ]);
  });

  it('fewshot-curves: 5 methods × 11 datasets × 5 shots × 3 seeds', () => {
    const p = load('fewshot-curves.yaml');
    expect(p.trials).toHaveLength(825);
    expect(new Set(p.trials.map((t) => t.config.method)).size).toBe(5);
  });

  it('cavpt-depth: the nine placements of the paper', () => {
    const p = load('cavpt-depth.yaml');
    const placements = p.variations.map((v) => `${v['cavpt.mode']}:${v['cavpt.layers']}`);
    expect(placements).toEqual([
      'top-down:12',
      'top-down:9',
      'top-down:5',
      'top-down:1',
      'bottom-up:1',
      'bottom-up:4',
      'bottom-up:8',
      'bottom-up:12',
      'shared:12',
    ]);
    expect(p.trials).toHaveLength(9 * 11 * 3);
  });

  it('cavpt-length: seven lengths with the base (10) trained once', () => {
    const p = load('cavpt-length.yaml');
    expect(p.trials).toHaveLength(7 * 11 * 3);
    expect([...new Set(p.trials.map((t) => t.config.cavpt.kN))].sort((a, b) => a - b)).toEqual([
      0, 1, 5, 10, 20, 50, 100,
    ]);
  });

  it('quickstart: every method on the two generated tasks, and DPT at CAVPT length 0 and 6 with the base trained once', () => {
    const p = load('quickstart.yaml');
    expect(new Set(p.trials.map((t) => t.config.dataset))).toEqual(new Set(['synth_shape', 'synth_target']));
    expect(p.duplicates).toBe(2 * 2 * 2 * 3);
    expect(p.trials).toHaveLength(6 * 2 * 2 * 3);
    const dpt = p.trials.filter((t) => t.config.method === 'dpt');
    expect([...new Set(dpt.map((t) => t.factors.cavptLength))].sort()).toEqual([0, 6]);
    for (const method of ['zeroshot', 'coop', 'vpt', 'vlp']) {
      expect(p.trials.filter((t) => t.config.method === method)).toHaveLength(2 * 2 * 3);
    }
  });

  it('domain-generalization: ImageNet prompts evaluated on the four shifted sets', () => {
    const p = load('domain-generalization.yaml');
    expect(p.trials).toHaveLength(15);
    expect(p.trials.every((t) => t.config.dataset === 'imagenet' && t.config.evalDatasets.length === 4)).toBe(true);
  });

  it('dpt-sweep validate prints the expansion and exits 0', () => {
    const run = spawnSync(
      process.execPath,
      ['bin/dpt-sweep.js', 'validate', 'examples/cavpt-length.yaml', '--rate', '250'],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /^trials {3}231 \(264 before removing 33 duplicates\) = 77 distinct cells × seeds 1, 2, 3$/m,
    );
    expect(run.stdout).toMatch(/^dpt\s+eurosat\s+16\s+7\s+21$/m);
    expect(run.stdout).toMatch(/^total\s+77\s+231$/m);
    expect(run.stdout).toMatch(/slot-hours at 250 images\/s\n/);
    const json = spawnSync(process.execPath, ['bin/dpt-sweep.js', 'validate', 'examples/kn.yaml', '--json'], {
      encoding: 'utf8',
    });
    expect(json.status).toBe(0);
    const out = JSON.parse(json.stdout) as {
      ok: boolean;
      summary: { trials: number };
      estimate: { placeholderRate: boolean };
    };
    expect(out.ok).toBe(true);
    expect(out.summary.trials).toBe(load('kn.yaml').trials.length);
    expect(out.estimate.placeholderRate).toBe(true);
  });
});
