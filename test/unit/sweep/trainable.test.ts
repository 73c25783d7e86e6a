import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelSizes } from '../../../dpt/trainable.ts';
import { SweepFileError, type SweepIssue } from '../../../sweep/issues.ts';
import { loadSweepFile } from '../../../sweep/load.ts';
import { type PlanOptions, planSweepText } from '../../../sweep/plan.ts';
import { TINY_CLIP_DIR } from '../../support/tiny-task.ts';
import { plan, sweepYaml } from './helpers.ts';

/** The committed tiny CLIP: 2 vision blocks, a 16-token text context. */
const TINY: ModelSizes = { visionLayers: 2, textContextLength: 16 };

function issuesOf(parts: Parameters<typeof sweepYaml>[0], options?: PlanOptions): SweepIssue[] {
  try {
    planSweepText(sweepYaml(parts), 'test', options);
  } catch (err) {
    if (err instanceof SweepFileError) return err.issues;
    throw err;
  }
  throw new Error('the sweep was accepted');
}

const paths = (issues: SweepIssue[]) => issues.map((i) => i.path);

describe('configs with nothing to train are refused before launch', () => {
  it('vpt with no prompt tokens, at the key that set the 0', () => {
    const varied = issuesOf({ base: '  method: vpt', vary: 'vary:\n  mode: grid\n  vpt.length: [0, 4]' });
    expect(varied).toEqual([
      {
        path: 'vary.vpt.length',
        message:
          'expected an integer >= 1 for method vpt, got 0: its prompt tokens are all it trains (in 1 cell, e.g. vpt on eurosat, 1 shots, variation 0)',
      },
    ]);
    expect(paths(issuesOf({ base: '  method: vpt\n  vpt.length: 0' }))).toEqual(['base.vpt.length']);
    expect(paths(issuesOf({ base: '  method: vpt\n  trial: { vpt: { length: 0 } }' }))).toEqual([
      'base.trial.vpt.length',
    ]);
    const explicit = issuesOf({
      base: '  method: dpt',
      vary: 'vary:\n  mode: explicit\n  variations: [{}, { method: vpt, vpt.length: 0 }]',
    });
    expect(paths(explicit)).toEqual(['vary.variations[1].vpt.length']);
  });

  it('merges one problem across cells, like the schema rejections', () => {
    const [issue, ...rest] = issuesOf({
      base: '  method: coop\n  trial: { optim: { epochs: 0 } }',
      datasets: '[eurosat, dtd]',
      shots: '[1, 2]',
    });
    expect(rest).toEqual([]);
    expect(issue).toEqual({
      path: 'base.trial.optim.epochs',
      message:
        'expected an integer >= 1 for method coop, got 0: a trial of 0 epochs trains nothing (in 4 cells, e.g. coop on eurosat, 1 shots)',
    });
  });

  it('a learning rate of 0 for every trained group', () => {
    expect(issuesOf({ base: '  method: coop\n  trial: { optim: { lrText: 0 } }' })).toEqual([
      expect.objectContaining({
        path: 'base.trial.optim.lrText',
        message: expect.stringMatching(/^expected a number > 0, got 0: nothing else of a coop trial trains \(in 1/),
      }),
    ]);
    expect(paths(issuesOf({ base: '  method: vpt\n  trial: { optim: { lrVisual: 0 } }' }))).toEqual([
      'base.trial.optim.lrVisual',
    ]);
    const both = issuesOf({ base: '  method: vlp\n  trial: { optim: { lrText: 0, lrVisual: 0 } }' });
    expect(paths(both)).toEqual(['base.trial.optim.lrText', 'base.trial.optim.lrVisual']);
    expect(both[0]!.message).toContain('nothing else of a vlp trial trains, since optim.lrVisual is 0');
    // DPT without VPT tokens and without class-aware tokens trains its text context alone.
    const textOnly = issuesOf({
      base: '  method: dpt\n  vpt.length: 0\n  cavpt.length: 0\n  trial: { optim: { lrText: 0 } }',
    });
    expect(textOnly).toEqual([
      expect.objectContaining({
        path: 'base.trial.optim.lrText',
        message: expect.stringContaining('since vpt.length is 0 and cavpt.kN is 0'),
      }),
    ]);
  });

  it('a warm-up over every epoch at warm-up learning rate 0', () => {
    const issues = issuesOf({
      base: '  method: vpt\n  epochs: 5\n  lrWarmupEpochs: 5\n  trial: { optim: { warmupLr: 0 } }',
    });
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'base.trial.optim.warmupLr',
        message: expect.stringMatching(/^expected a number > 0, got 0: optim\.lrWarmupEpochs \(5\) covers all 5/),
      }),
    ]);
    // The same warm-up at its usual rate trains (at that rate, every epoch).
    expect(plan({ base: '  method: vpt\n  epochs: 5\n  lrWarmupEpochs: 5' }).trials).toHaveLength(1);
  });

  it('a text ctxInit that gives no token', () => {
    expect(issuesOf({ base: '  method: coop\n  trial: { text: { ctxInit: "_" } }' })).toEqual([
      expect.objectContaining({
        path: 'base.trial.text.ctxInit',
        message: expect.stringMatching(/^expected words that give at least one token .*, got "_"/),
      }),
    ]);
    // Blank is the documented spelling of a random context.
    expect(plan({ base: '  method: coop\n  trial: { text: { ctxInit: "  " } }' }).trials).toHaveLength(1);
  });

  it('keeps the legal ablations legal', () => {
    // No class-aware tokens (the CAVPT length-0 ablation), no VPT tokens for VLP and DPT, zero-shot with 0 epochs.
    const p = plan({
      base: '  method: dpt',
      vary: 'vary:\n  mode: explicit\n  variations: [{ cavpt.length: 0 }, { vpt.length: 0, cavpt.length: 0 }, { method: vlp, vpt.length: 0 }]',
    });
    expect(p.trials.map((t) => [t.config.method, t.config.vpt.length, t.config.cavpt.kN])).toEqual([
      ['dpt', 10, 0],
      ['dpt', 0, 0],
      ['vlp', 0, 10],
    ]);
    expect(plan({ base: '  method: zeroshot\n  trial: { optim: { epochs: 0 } }' }).trials).toHaveLength(1);
    expect(plan({ base: '  method: dpt\n  trial: { cavpt: { kN: 0 }, optim: { lrVisual: 0 } }' }).trials).toHaveLength(
      1,
    );
  });

  it('values reset for methods that do not read them cannot fail a cell', () => {
    const p = plan({
      base: '  method: dpt\n  trial: { text: { ctxInit: "_" }, optim: { lrText: 0 } }',
      vary: 'vary:\n  mode: grid\n  method: [zeroshot, vpt]\n  vpt.length: [1, 4]',
    });
    expect(p.trials.map((t) => t.config.method)).toEqual(['zeroshot', 'vpt', 'vpt']);
    const coop = plan({
      base: '  method: coop',
      vary: 'vary:\n  mode: grid\n  method: [coop, vlp]\n  vpt.length: [0, 4]',
    });
    expect(coop.trials.map((t) => t.config.method)).toEqual(['coop', 'vlp', 'vlp']);
  });
});

describe("configs that do not fit the model's sizes", () => {
  it('CAVPT deeper than the vision tower, at the key that set it', () => {
    const issues = issuesOf(
      { base: '  method: dpt\n  text.nCtx: 4', vary: 'vary:\n  mode: grid\n  cavpt.layers: [1, 2, 3]' },
      { model: TINY },
    );
    expect(issues).toEqual([
      {
        path: 'vary.cavpt.layers',
        message:
          "expected an integer <= 2, the model's vision blocks, got 3 (in 1 cell, e.g. dpt on eurosat, 1 shots, variation 2)",
      },
    ]);
    // Without the model's sizes the planner cannot know (examples/cavpt-depth.yaml goes to 12).
    expect(plan({ vary: 'vary:\n  mode: grid\n  cavpt.layers: [3]' }).trials).toHaveLength(1);
  });

  it('VPT in more blocks than there are, for vpt and vlp', () => {
    const issues = issuesOf(
      {
        base: '  method: vpt\n  text.nCtx: 4\n  trial: { vpt: { layers: 3 } }',
        vary: 'vary:\n  mode: grid\n  method: [vpt, vlp]',
      },
      { model: TINY },
    );
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'base.trial.vpt.layers',
        message: expect.stringMatching(/^expected an integer <= 2, .* got 3 \(in 2 cells/),
      }),
    ]);
  });

  it("a text context that leaves no room for a class name in the model's text context", () => {
    const issues = issuesOf(
      { base: '  method: coop', vary: 'vary:\n  mode: grid\n  text.nCtx: [13, 14]' },
      { model: TINY },
    );
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'vary.text.nCtx',
        message: expect.stringMatching(
          /^expected at most 13 context tokens, got 14: the model's 16-token text context/,
        ),
      }),
    ]);
    // The default context (16 tokens) is too long for this model: reported where the sweep would set it.
    expect(paths(issuesOf({ base: '  method: coop' }, { model: TINY }))).toEqual(['base.text.nCtx']);
  });

  it("a ctxInit counted with the model's tokenizer when one is given", () => {
    const model: ModelSizes = { ...TINY, countTokens: (text) => text.split(' ').length };
    const long = Array.from({ length: 14 }, () => 'x').join(' ');
    const issues = issuesOf({ base: `  method: vlp\n  trial: { text: { ctxInit: "${long}" } }` }, { model });
    expect(issues).toEqual([
      expect.objectContaining({ path: 'base.trial.text.ctxInit', message: expect.stringContaining('got 14') }),
    ]);
    const empty = { ...TINY, countTokens: () => 0 };
    expect(paths(issuesOf({ base: '  method: coop\n  trial: { text: { ctxInit: "¶" } }' }, { model: empty }))).toEqual([
      'base.trial.text.ctxInit',
    ]);
  });
});

describe('loadSweepFile reads the model the sweep names', () => {
  let dir: string;
  const write = async (name: string, model: string, extra: string, dataRoot = dir) => {
    const file = path.join(dir, `${name}.yaml`);
    const text = sweepYaml({ base: `  method: dpt\n  text.nCtx: 4${extra}` })
      .replace('./models/clip', model)
      .replace('dataRoot: ./data', `dataRoot: ${dataRoot}`);
    await writeFile(file, text);
    return file;
  };
  const rejected = async (file: string): Promise<SweepIssue[]> => {
    const err = await loadSweepFile(file).catch((e: unknown) => e);
    if (!(err instanceof SweepFileError)) throw new Error(`expected a SweepFileError, got ${String(err)}`);
    return err.issues;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dpt-sweep-trainable-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('checks against the sizes of a model it can read', async () => {
    const ok = await loadSweepFile(await write('ok', TINY_CLIP_DIR, '\n  cavpt.layers: 2'));
    expect(ok.plan.trials).toHaveLength(1);
    expect(ok.plan.warnings).toEqual([]);
    const deep = await rejected(await write('deep', TINY_CLIP_DIR, '\n  cavpt.layers: 3'));
    expect(deep).toEqual([expect.objectContaining({ path: 'base.cavpt.layers' })]);
    // The tokenizer of the model counts ctxInit: 14 words of one token each do not fit a 16-token context.
    const words = Array.from({ length: 14 }, () => 'red').join(' ');
    const long = await rejected(await write('long', TINY_CLIP_DIR, `\n  trial: { text: { ctxInit: "${words}" } }`));
    expect(long).toEqual([expect.objectContaining({ path: 'base.trial.text.ctxInit' })]);
  });

  it('warns, and leaves the model checks to the trainers, when the model is not on this machine', async () => {
    const { plan: p } = await loadSweepFile(await write('absent', path.join(dir, 'no-such-model'), ''));
    expect(p.trials).toHaveLength(1);
    expect(p.warnings).toEqual([
      expect.objectContaining({
        path: 'base.model',
        message: expect.stringMatching(/^expected a CLIP model .*, got no such path/),
      }),
    ]);
  });

  it('warns when the dataset root is not on this machine: the workers must hold it, the launcher need not', async () => {
    const absent = path.join(dir, 'no-such-data');
    const { plan: p } = await loadSweepFile(await write('nodata', TINY_CLIP_DIR, '', absent));
    expect(p.trials).toHaveLength(1);
    expect(p.warnings).toEqual([
      {
        path: 'base.dataRoot',
        message: `expected a dataset root directory readable here, got no such path ${absent}; the workers must hold it, or their trials fail`,
      },
    ]);
    const notDir = path.join(dir, 'nodata.yaml');
    const { plan: f } = await loadSweepFile(await write('filedata', TINY_CLIP_DIR, '', notDir));
    expect(f.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/nodata\.yaml, which is not a directory/)]);
  });

  it('refuses a model directory no trainer could load, with the other problems', async () => {
    const issues = await rejected(await write('broken', dir, '\n  trial: { optim: { epochs: 0 } }'));
    expect(issues.map((i) => i.path)).toEqual(['base.model', 'base.trial.optim.epochs']);
    expect(issues.find((i) => i.path === 'base.model')!.message).toMatch(
      /^expected a CLIP model the trainer can load, got: .* has no model\.safetensors/,
    );
  });
});
