import { describe, expect, it } from 'vitest';
import { PythonRandom } from '../../../data/python-random.ts';
import { PromptedClip } from '../../../dpt/methods/model.ts';
import { METHODS, methodDef, methodsReading, unreadSettings } from '../../../dpt/methods/registry.ts';
import { TRIAL_SETTINGS } from '../../../dpt/methods/settings.ts';
import { PARAM_GROUPS } from '../../../dpt/params.ts';
import { AXES, type AxisKey } from '../../../sweep/axes.ts';
import { TINY_CLASSES, tinyConfig, useTinyClip } from '../../support/tiny-task.ts';

describe('the method registry', () => {
  const tinyClip = useTinyClip();

  it('declares exactly the parameter groups each method builds', () => {
    for (const method of METHODS) {
      const model = new PromptedClip(
        tinyClip().model,
        tinyClip().tokenizer,
        tinyConfig({ method }),
        TINY_CLASSES.length,
        new PythonRandom(1),
      );
      const built = PARAM_GROUPS.filter((group) => model.store.inGroup(group).length > 0);
      expect([method, ...built]).toEqual([method, ...PARAM_GROUPS.filter((g) => methodDef(method).trains.includes(g))]);
      model.dispose();
    }
  });

  it('gives every method that trains a loss, and none to one that does not', () => {
    for (const method of METHODS) {
      const def = methodDef(method);
      expect([method, def.trainLoss !== undefined]).toEqual([method, def.trains.length > 0]);
    }
  });

  it('resets what a method does not read, as whole groups where it reads none of one', () => {
    expect(Object.fromEntries(METHODS.map((m) => [m, unreadSettings(m)]))).toEqual({
      zeroshot: ['text', 'vpt', 'cavpt', 'loss', 'optim'],
      coop: ['vpt', 'cavpt', 'loss', 'optim.lrVisual', 'optim.lrWarmupEpochs'],
      vpt: ['text', 'cavpt', 'loss', 'optim.lrText', 'optim.textLrWarmupEpochs'],
      vlp: ['cavpt', 'loss.alpha'],
      dpt: ['vpt.layers'],
    });
  });

  it('is where the sweep axes take the methods they change from', () => {
    for (const key of Object.keys(AXES) as AxisKey[]) {
      const { target, methods } = AXES[key];
      expect([key, methods]).toEqual([key, target === 'method' ? METHODS : methodsReading(target)]);
    }
    // Every setting a method reads is one TrialConfig leaf.
    for (const method of METHODS) for (const s of methodDef(method).reads) expect(TRIAL_SETTINGS).toContain(s);
  });
});
