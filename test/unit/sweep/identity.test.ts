import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { TrialConfig } from '../../../dpt/trial-config.ts';
import { trialFactors } from '../../../sweep/factors.ts';
import { canonicalJson, configKey, NON_IDENTITY_FIELDS, specHash } from '../../../sweep/identity.ts';
import { plan } from './helpers.ts';

const config = (): TrialConfig => plan({ shots: '[16]' }).trials[0]!.config;

/** Every leaf of a config as [path, value], for "change any one field" tests. */
function leaves(value: unknown, path: string[] = []): Array<[string[], unknown]> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return [[path, value]];
}

function withLeaf(cfg: TrialConfig, path: string[], value: unknown): TrialConfig {
  const copy = JSON.parse(JSON.stringify(cfg)) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path.at(-1)!] = value;
  return copy as unknown as TrialConfig;
}

function changed(value: unknown): unknown {
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'string') return `${value}x`;
  if (typeof value === 'boolean') return !value;
  if (Array.isArray(value)) return [...value, 'imagenet_a'];
  return 1;
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('writes a number one way however the file spelled it', () => {
    const spellings = parse('a: 0.010\nb: 1e-2\nc: 1.0e-2\nd: 0.01\ne: 10.0\nf: 1e1\ng: -0.0') as Record<
      string,
      number
    >;
    expect(new Set([spellings.a, spellings.b, spellings.c, spellings.d].map((n) => canonicalJson(n)))).toEqual(
      new Set(['0.01']),
    );
    expect(canonicalJson(spellings.e)).toBe(canonicalJson(spellings.f));
    expect(canonicalJson(spellings.g)).toBe('0');
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson({ lr: Number.NaN })).toThrow(/\$\.lr is NaN/);
    expect(() => canonicalJson({ x: Number.POSITIVE_INFINITY })).toThrow();
    expect(() => canonicalJson({ when: new Date(0) })).toThrow(/Date/);
    expect(() => canonicalJson(10n)).toThrow();
  });
});

describe('configKey', () => {
  it('is 64 hex digits and independent of key order', () => {
    const cfg = config();
    const reversed = JSON.parse(JSON.stringify(cfg, Object.keys(cfg).reverse())) as TrialConfig;
    const shuffled = Object.fromEntries(Object.entries(cfg).reverse()) as unknown as TrialConfig;
    const key = configKey(cfg, 'v1', 'split-a');
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(configKey(shuffled, 'v1', 'split-a')).toBe(key);
    expect(Object.keys(reversed).length).toBeGreaterThan(0);
  });

  it('changes with every field that decides the result, and with code version and split id', () => {
    const cfg = config();
    const key = configKey(cfg, 'v1', 'split-a');
    const fields = leaves(cfg).filter(([path]) => !(NON_IDENTITY_FIELDS as readonly string[]).includes(path[0]!));
    expect(fields.length).toBeGreaterThan(25);
    for (const [path, value] of fields) {
      expect(configKey(withLeaf(cfg, path, changed(value)), 'v1', 'split-a'), path.join('.')).not.toBe(key);
    }
    expect(configKey(cfg, 'v2', 'split-a')).not.toBe(key);
    expect(configKey(cfg, 'v1', 'split-b')).not.toBe(key);
  });

  it('ignores where data lives, checkpoint frequency and the preset name', () => {
    const cfg = config();
    const key = configKey(cfg, 'v1', 's');
    const moved = { ...cfg, root: '/elsewhere', checkpointEvery: 5, splitCacheDir: '/tmp/x', preset: 'none' as const };
    expect(configKey(moved, 'v1', 's')).toBe(key);
  });

  it('treats 0.01 written as 1e-2 as the same trial', () => {
    const a = plan({ base: '  method: dpt\n  lr: 0.010' }).trials[0]!.config;
    const b = plan({ base: '  method: dpt\n  lr: 1e-2' }).trials[0]!.config;
    expect(configKey(a, 'v1', 's')).toBe(configKey(b, 'v1', 's'));
  });

  it('refuses an empty code version or split id', () => {
    expect(() => configKey(config(), '', 's')).toThrow(/codeVersion/);
    expect(() => configKey(config(), 'v', '')).toThrow(/splitId/);
  });
});

describe('trialFactors', () => {
  it('fills every factor for DPT, with the effective CAVPT length min(K_N, classes)', () => {
    const t = plan({
      shots: '[4]',
      seeds: '[2]',
      base: '  method: dpt\n  kN: 20\n  cavpt.mode: bottom-up\n  cavpt.layers: 4',
    }).trials[0]!;
    expect(t.factors).toEqual({
      method: 'dpt',
      dataset: 'eurosat',
      backbone: 'clip',
      shots: 4,
      subsampleClasses: 'all',
      seed: 2,
      lr: 0.01,
      lrText: 0.002,
      cavptMode: 'bottom-up',
      cavptLayers: 4,
      cavptLength: 10,
      kN: 20,
      cavptCtxTokens: 10,
      alpha: 0.3,
      beta: 0.1,
      epochs: 100,
      warmupEpochs: 30,
      lrWarmupEpochs: 10,
      vptLength: 10,
      textNCtx: 16,
      batchSize: 32,
    });
  });

  it('leaves factors a method does not use null', () => {
    const p = plan({ base: '  preset: paper', vary: 'vary:\n  mode: grid\n  method: [zeroshot, coop, vlp]' });
    const [zs, coop, vlp] = p.trials.map((t) => t.factors);
    expect(zs).toMatchObject({
      lr: null,
      lrText: null,
      epochs: null,
      batchSize: null,
      textNCtx: null,
      vptLength: null,
    });
    expect(zs).toMatchObject({ cavptMode: null, kN: null, alpha: null, beta: null, warmupEpochs: null });
    expect(coop).toMatchObject({ lr: 0.002, lrText: 0.002, epochs: 60, cavptLength: null, alpha: null, beta: null });
    expect(coop).toMatchObject({ vptLength: null, lrWarmupEpochs: null, warmupEpochs: null, textNCtx: 16 });
    expect(vlp).toMatchObject({ lr: 0.01, beta: 0.1, alpha: null, cavptLayers: null, cavptCtxTokens: null });
    expect(vlp).toMatchObject({ vptLength: 10, textNCtx: 16, warmupEpochs: 30, batchSize: 32 });
    for (const t of p.trials) expect(trialFactors(t.config)).toEqual(t.factors);
  });
});

describe('specHash', () => {
  it('is the same for nested and dotted spellings and changes with a setting', () => {
    const a = plan({ base: '  method: dpt\n  cavpt: { length: 5 }\n  lr: 0.010' }).file;
    const b = plan({ base: '  method: dpt\n  lr: 1e-2\n  cavpt.length: 5' }).file;
    const c = plan({ base: '  method: dpt\n  lr: 1e-2\n  cavpt.length: 6' }).file;
    expect(specHash(a)).toBe(specHash(b));
    expect(specHash(a)).not.toBe(specHash(c));
  });
});
