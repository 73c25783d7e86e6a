import { beforeAll, describe, expect, it } from 'vitest';
import type { Item } from '../../../data/datasets/types.ts';
import { activateBackend } from '../../../dpt/backend.ts';
import { runTrial, TrialDataError } from '../../../dpt/trainer/run-trial.ts';
import type { TrialOutcome } from '../../../dpt/trainer/types.ts';
import { makeTinyTask, tinyConfig, tinyDeps } from '../../support/tiny-task.ts';

const task = makeTinyTask(4, 5);
const held = makeTinyTask(4, 3, 29);
// A validation split of its own images, under its own paths, so every image the trainer reads says which split it is.
const val: Item[] = held.test.map((item) => ({ ...item, impath: item.impath.replace('/test/', '/val/') }));
for (const item of val) task.images.set(item.impath, held.images.get(item.impath.replace('/val/', '/test/'))!);

const config = tinyConfig({
  method: 'dpt',
  optim: { epochs: 6, batchSize: 8, lrVisual: 0.05, lrText: 0.5, lrWarmupEpochs: 0, textLrWarmupEpochs: 0 },
});

/** The tiny task's deps with its validation split, recording the split of every evaluated image. */
function recordingDeps(withVal = true) {
  const base = tinyDeps(task);
  const read: string[] = [];
  return {
    read,
    deps: {
      ...base,
      loadSource: async (cfg: Parameters<typeof base.loadSource>[0]) => ({
        ...(await base.loadSource(cfg)),
        ...(withVal ? { val } : {}),
      }),
      testImage: async (item: Item, size: number) => {
        read.push(item.impath.split('/')[2]!);
        return base.testImage(item, size);
      },
    },
  };
}

const comparable = (o: TrialOutcome) => ({
  results: o.results,
  validation: o.validation,
  epochs: o.epochs.map(({ seconds: _, ...rest }) => rest),
});

describe('a search run: stop at a rung, validate, resume', () => {
  beforeAll(async () => {
    await activateBackend('cpu');
  });

  it('stopped at epoch 2 of 6: validated, checkpointed there, and not one test image read', async () => {
    const { read, deps } = recordingDeps();
    const saved: number[] = [];
    const out = await runTrial(config, {
      deps,
      validate: true,
      stopAfter: 2,
      checkpointEvery: 0,
      onCheckpoint: (epochs) => {
        saved.push(epochs);
      },
    });
    expect(out.stoppedAt).toBe(2);
    expect(out.results).toEqual([]);
    expect(out.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    expect(out.validation).toMatchObject({ epochs: 2, total: val.length });
    expect(saved).toEqual([2]);
    expect(new Set(read)).toEqual(new Set(['val']));
    expect(read).toHaveLength(val.length);
  });

  it('resumed from the rung to the end, it equals the straight run: losses, validation and test accuracy', async () => {
    let checkpoint: Uint8Array | undefined;
    await runTrial(config, {
      deps: recordingDeps().deps,
      validate: true,
      stopAfter: 2,
      onCheckpoint: (_epochs, bytes) => {
        checkpoint = bytes;
      },
    });
    const resumed = await runTrial(config, { deps: recordingDeps().deps, validate: true, resumeFrom: checkpoint! });
    const straight = await runTrial(config, { deps: recordingDeps().deps, validate: true });
    expect(comparable(resumed)).toEqual(comparable(straight));
    expect(straight.validation?.epochs).toBe(6);
    expect(straight.stoppedAt).toBeUndefined();
    // Validating does not touch the training generator: the run without it trains the same.
    const plain = await runTrial(config, { deps: recordingDeps().deps });
    expect(comparable(plain).epochs).toEqual(comparable(straight).epochs);
    expect(plain.results).toEqual(straight.results);
  });

  it('a dataset without a validation split cannot be validated', async () => {
    await expect(runTrial(config, { deps: recordingDeps(false).deps, validate: true, stopAfter: 1 })).rejects.toThrow(
      TrialDataError,
    );
  });
});
