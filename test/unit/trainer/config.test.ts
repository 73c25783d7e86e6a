import { describe, expect, it } from 'vitest';
import { parseTrialConfig, setPath, TrialConfigError } from '../../../dpt/trial-config.ts';

const base = { method: 'dpt', dataset: 'eurosat', root: '/data', shots: 16, seed: 1, model: '/m' };

function issuesOf(raw: unknown): string[] {
  try {
    parseTrialConfig(raw);
  } catch (err) {
    if (err instanceof TrialConfigError) return err.issues;
    throw err;
  }
  return [];
}

describe('trial config', () => {
  it('fills the official defaults and the paper schedule', () => {
    const cfg = parseTrialConfig(base);
    expect(cfg.text).toEqual({ nCtx: 16, ctxInit: '' });
    expect(cfg.vpt).toEqual({ length: 10, layers: null });
    expect(cfg.cavpt).toEqual({ mode: 'top-down', layers: 1, kN: 10, ctxTokens: 10 });
    expect(cfg.loss).toEqual({ alpha: 0.3, beta: 0.1, warmupEpochs: 30 });
    expect(cfg.optim).toMatchObject({
      epochs: 100,
      batchSize: 32,
      lrVisual: 0.01,
      lrText: 0.002,
      lrWarmupEpochs: 10,
      textLrWarmupEpochs: 1,
      warmupLr: 1e-5,
      momentum: 0.9,
      weightDecay: 5e-4,
    });
    expect(cfg.evalBatchSize).toBe(50);
    const imagenet = parseTrialConfig({ ...base, dataset: 'imagenet', evalDatasets: ['imagenet_a'] });
    expect([imagenet.optim.epochs, imagenet.loss.warmupEpochs, imagenet.optim.lrWarmupEpochs]).toEqual([20, 10, 1]);
    expect(parseTrialConfig({ ...base, optim: { epochs: 7 } }).optim.epochs).toBe(7);
  });

  it('names the path and the expectation of every bad key', () => {
    expect(issuesOf({ ...base, method: 'cocoop' })[0]).toMatch(/^method: .*"zeroshot"/);
    expect(issuesOf({ ...base, dataset: 'mnist' })[0]).toMatch(/^dataset: /);
    expect(issuesOf({ ...base, cavpt: { kN: -1 } })[0]).toMatch(/^cavpt\.kN: .*>=0/);
    expect(issuesOf({ ...base, cavpt: { kN: 2.5 } })[0]).toMatch(/^cavpt\.kN: .*expected int/);
    expect(issuesOf({ ...base, optim: { lrVisual: 'fast' } })[0]).toMatch(/^optim\.lrVisual: .*number/);
    expect(issuesOf({ ...base, vpt: { lenght: 3 } })[0]).toMatch(/^vpt: Unrecognized key: "lenght"/);
    expect(issuesOf({ ...base, evalDatasets: ['imagenet_z'] })[0]).toMatch(/^evalDatasets\.0: /);
    expect(issuesOf({ ...base, preset: 'none' })).toEqual(["loss.warmupEpochs: required when preset is 'none'"]);
    const { shots: _, ...noShots } = base;
    expect(issuesOf(noShots)[0]).toMatch(/^shots: /);
  });

  it('applies --set style overrides by dotted path', () => {
    const raw: Record<string, unknown> = { ...base };
    setPath(raw, 'cavpt.kN', 5);
    setPath(raw, 'seed', 3);
    const cfg = parseTrialConfig(raw);
    expect(cfg.cavpt.kN).toBe(5);
    expect(cfg.seed).toBe(3);
    expect(() => setPath(raw, 'seed.x', 1)).toThrow(/seed is not an object/);
    expect(() => setPath(raw, '__proto__.x', 1)).toThrow(/not a valid key path/);
  });
});
