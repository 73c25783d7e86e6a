import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { PythonRandom } from '../../../data/python-random.ts';
import { PromptedClip } from '../../../dpt/methods/model.ts';
import { ParamStore } from '../../../dpt/params.ts';
import { TextPromptLearner } from '../../../dpt/prompts/text-prompt.ts';
import type { TrialDeps } from '../../../dpt/trainer/deps.ts';
import { runTrial } from '../../../dpt/trainer/run-trial.ts';
import { TrialConfigError } from '../../../dpt/trial-config.ts';
import { makeTinyTask, TINY_CLASSES, tinyConfig, tinyDeps, useTinyClip } from '../../support/tiny-task.ts';

/** The deps of the tiny task, recording which were called. */
function spiedDeps(): { deps: TrialDeps; calls: string[] } {
  const calls: string[] = [];
  const inner = tinyDeps(makeTinyTask(2, 1));
  const deps = Object.fromEntries(
    Object.entries(inner).map(([name, fn]) => [
      name,
      (...args: unknown[]) => {
        calls.push(name);
        return (fn as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as TrialDeps;
  return { deps, calls };
}

async function refusal(run: Promise<unknown>): Promise<TrialConfigError> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof TrialConfigError)) throw new Error(`expected a TrialConfigError, got ${String(err)}`);
  return err;
}

describe('the trainer refuses configs that cannot run or train nothing', () => {
  const tinyClip = useTinyClip();

  it('before any I/O when the config alone says so', async () => {
    const cases = [
      [tinyConfig({ method: 'vpt', vpt: { length: 0 } }), 'vpt.length: expected an integer >= 1 for method vpt, got 0'],
      [
        tinyConfig({ method: 'coop', optim: { epochs: 0, lrWarmupEpochs: 0 } }),
        'optim.epochs: expected an integer >= 1 for method coop, got 0',
      ],
      [
        tinyConfig({ method: 'coop', optim: { epochs: 2, lrText: 0, lrWarmupEpochs: 0 } }),
        'optim.lrText: expected a number > 0, got 0',
      ],
      [tinyConfig({ method: 'vlp', text: { ctxInit: '_' } }), 'text.ctxInit: expected words that give at least one'],
    ] as const;
    for (const [config, message] of cases) {
      const { deps, calls } = spiedDeps();
      const epochs: number[] = [];
      const err = await refusal(runTrial(config, { deps, onEpoch: (m) => void epochs.push(m.epoch) }));
      expect(err.issues[0]).toMatch(new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      expect(calls).toEqual([]);
      expect(epochs).toEqual([]);
    }
  });

  it("once the CLIP is loaded, before any step, when the config does not fit the model's sizes", async () => {
    const before = tf.memory().numTensors;
    const { deps, calls } = spiedDeps();
    const epochs: number[] = [];
    const config = tinyConfig({ method: 'dpt', cavpt: { kN: 2, layers: 3 }, text: { nCtx: 14 } });
    const err = await refusal(runTrial(config, { deps, onEpoch: (m) => void epochs.push(m.epoch) }));
    expect(err.issues).toEqual([
      "text.nCtx: expected at most 13 context tokens, got 14: the model's 16-token text context must also hold SOS, a class name and EOS",
      "cavpt.layers: expected an integer <= 2, the model's vision blocks, got 3",
    ]);
    expect(calls).not.toContain('trainImage');
    expect(epochs).toEqual([]);
    // The refused trial's CLIP is disposed.
    expect(tf.memory().numTensors).toBe(before);
  });

  it('PromptedClip refuses them too, with the same messages, before creating a tensor', () => {
    const before = tf.memory().numTensors;
    const build = (config: ReturnType<typeof tinyConfig>) =>
      new PromptedClip(tinyClip().model, tinyClip().tokenizer, config, TINY_CLASSES.length, new PythonRandom(1));
    expect(() => build(tinyConfig({ method: 'vpt', vpt: { length: 0 } }))).toThrow(TrialConfigError);
    expect(() => build(tinyConfig({ method: 'vpt', vpt: { length: 2, layers: 3 } }))).toThrow(
      /vpt\.layers: expected an integer <= 2, the model's vision blocks, got 3/,
    );
    // ctxInit is counted with the model's tokenizer: 14 one-token words leave no room in the 16-token context.
    const words = Array.from({ length: 14 }, () => 'red').join(' ');
    expect(() => build(tinyConfig({ method: 'coop', text: { ctxInit: words } }))).toThrow(
      /text\.ctxInit: expected at most 13 context tokens, got 14/,
    );
    expect(tf.memory().numTensors).toBe(before);
    // The legal edges still build: CAVPT in every block, no class-aware tokens, a context of exactly 13 tokens.
    const edge = build(tinyConfig({ method: 'dpt', cavpt: { kN: 0, layers: 2 }, text: { nCtx: 13 } }));
    edge.dispose();
  });

  it('TextPromptLearner, used alone, counts ctxInit with its tokenizer', () => {
    const store = new ParamStore();
    const learner = (ctxInit: string) =>
      new TextPromptLearner(
        store,
        tinyClip().model.text,
        tinyClip().tokenizer,
        { nCtx: 4, ctxInit },
        new PythonRandom(1),
      );
    expect(() => learner('&nbsp;')).toThrow(/^invalid trial config: text\.ctxInit: expected words that give/);
    expect(() => learner(Array.from({ length: 14 }, () => 'red').join(' '))).toThrow(TrialConfigError);
    expect(learner('a red').nCtx).toBe(2);
    store.dispose();
  });
});
