import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../../../dpt/backend.ts';
import { NonFiniteLossError } from '../../../dpt/losses.ts';
import { decodeCheckpoint } from '../../../dpt/trainer/checkpoint.ts';
import { runTrial, TrialDataError } from '../../../dpt/trainer/run-trial.ts';
import type { TrialOutcome } from '../../../dpt/trainer/types.ts';
import type { Method } from '../../../dpt/trial-config.ts';
import { backendsUnderTest } from '../../support/backends.ts';
import { makeTinyTask, tinyConfig, tinyDeps } from '../../support/tiny-task.ts';

const task = makeTinyTask(8, 10);
const schedule = { epochs: 12, batchSize: 16, lrVisual: 0.03, lrText: 0.5, lrWarmupEpochs: 0, textLrWarmupEpochs: 0 };
const config = (method: Method, extra: Parameters<typeof tinyConfig>[0] extends infer T ? Partial<T> : never = {}) =>
  tinyConfig({ method, vpt: { length: 8 }, optim: schedule, ...extra });

/** Everything a run produced except wall-clock seconds. */
function comparable(o: TrialOutcome) {
  return { results: o.results, epochs: o.epochs.map(({ seconds: _, ...rest }) => rest) };
}

describe.each(backendsUnderTest(['wasm']))('trials on a learnable tiny task (%s)', (backend) => {
  // Tensors alive before this backend's trials (an earlier backend's describe may leave its own behind).
  let tensorsBefore = 0;
  beforeAll(async () => {
    await activateBackend(backend);
    tensorsBefore = tf.memory().numTensors;
  });

  it('every trainable method beats zero-shot CLIP and its loss falls', async () => {
    const zs = await runTrial(config('zeroshot'), { deps: tinyDeps(task) });
    expect(zs.epochs).toEqual([]);
    expect(zs.results[0]!.total).toBe(40);
    const zsTop1 = zs.results[0]!.top1;
    for (const method of ['coop', 'vpt', 'vlp', 'dpt'] as const) {
      const out = await runTrial(config(method), { deps: tinyDeps(task) });
      const top1 = out.results[0]!.top1;
      const losses = out.epochs.map((e) => e.loss);
      expect(top1, `${method} ${top1}% vs zero-shot ${zsTop1}%`).toBeGreaterThanOrEqual(zsTop1 + 15);
      // vlp/dpt switch from the warm-up loss to CE(logits) at epoch C = 3: compare within each regime.
      const after = method === 'vlp' || method === 'dpt' ? 3 : 0;
      expect(losses.at(-1)!).toBeLessThan(losses[after]! * 0.8);
      expect(losses[2]!).toBeLessThan(losses[0]!);
      if (method === 'dpt') expect(out.epochs.some((e) => e.lossCavpt > 0)).toBe(true);
    }
    expect(tf.memory().numTensors - tensorsBefore).toBeLessThan(50);
  });

  it('gives the same result twice for the same seed, and a different one for another seed', async () => {
    const a = await runTrial(config('dpt', { optim: { ...schedule, epochs: 4 } }), { deps: tinyDeps(task) });
    const b = await runTrial(config('dpt', { optim: { ...schedule, epochs: 4 } }), { deps: tinyDeps(task) });
    const c = await runTrial(config('dpt', { seed: 2, optim: { ...schedule, epochs: 4 } }), { deps: tinyDeps(task) });
    expect(comparable(b)).toEqual(comparable(a));
    expect(comparable(c).epochs).not.toEqual(comparable(a).epochs);
  });

  it('ends bit-identical when stopped after any epoch and resumed from its checkpoint', async () => {
    const cfg = config('dpt', { optim: { ...schedule, epochs: 5 }, loss: { warmupEpochs: 2 } });
    const checkpoints = new Map<number, Buffer>();
    const full = await runTrial(cfg, {
      deps: tinyDeps(task),
      checkpointEvery: 1,
      onCheckpoint: (epoch, bytes) => {
        checkpoints.set(epoch, bytes);
      },
    });
    expect([...checkpoints.keys()]).toEqual([1, 2, 3, 4, 5]);
    const finalParams = decodeCheckpoint(checkpoints.get(5)!).params;
    for (const stopAfter of [1, 3]) {
      let last: Buffer | undefined;
      const resumed = await runTrial(cfg, {
        deps: tinyDeps(task),
        resumeFrom: checkpoints.get(stopAfter)!,
        onCheckpoint: (_, bytes) => {
          last = bytes;
        },
      });
      expect(comparable(resumed)).toEqual(comparable(full));
      const params = decodeCheckpoint(last!).params;
      expect(params.map((p) => [p.key, Buffer.from(p.values.buffer).toString('base64')])).toEqual(
        finalParams.map((p) => [p.key, Buffer.from(p.values.buffer).toString('base64')]),
      );
    }
    await expect(
      runTrial(config('dpt', { seed: 9 }), { deps: tinyDeps(task), resumeFrom: checkpoints.get(2)! }),
    ).rejects.toThrow(/different trial configuration/);
  });

  it('evaluates extra targets with the class-dependent parts rebuilt', async () => {
    const deps = tinyDeps(task);
    const targetClasses = ['blue', 'red'];
    const out = await runTrial(
      config('dpt', { dataset: 'imagenet', evalDatasets: ['imagenet_a'], optim: { ...schedule, epochs: 2 } }),
      {
        deps: {
          ...deps,
          loadTarget: async () => ({
            classnames: targetClasses,
            template: 'a photo of a {}.',
            test: task.test
              .filter((i) => i.label === 2 || i.label === 0)
              .map((i) => ({ ...i, label: i.label === 2 ? 0 : 1 })),
          }),
        },
      },
    );
    expect(out.results.map((r) => [r.evalDataset, r.total])).toEqual([
      ['imagenet', 40],
      ['imagenet_a', 20],
    ]);
  });

  it('fails clearly on labels outside the class list and on a diverging loss', async () => {
    const bad = { ...task, test: [...task.test, { ...task.test[0]!, label: 7 }] };
    await expect(runTrial(config('coop'), { deps: tinyDeps(bad) })).rejects.toThrow(TrialDataError);
    await expect(runTrial(config('coop'), { deps: tinyDeps(bad) })).rejects.toThrow(
      /label 7, outside the 4-class list/,
    );
    const diverge = config('vpt', { optim: { ...schedule, lrVisual: 1e38 } });
    await expect(runTrial(diverge, { deps: tinyDeps(task) })).rejects.toThrow(NonFiniteLossError);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const run = runTrial(config('coop'), {
      deps: tinyDeps(task),
      signal: controller.signal,
      onEpoch: (m) => {
        if (m.epoch === 1) controller.abort(new Error('stop requested'));
      },
    });
    await expect(run).rejects.toThrow(/stop requested/);
  });
});
