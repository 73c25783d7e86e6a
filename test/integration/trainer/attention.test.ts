import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../../../dpt/backend.ts';
import { attentionImages, trialAttention } from '../../../dpt/trainer/attention.ts';
import { CheckpointError } from '../../../dpt/trainer/checkpoint.ts';
import { runTrial } from '../../../dpt/trainer/run-trial.ts';
import type { Method } from '../../../dpt/trial-config.ts';
import { makeTinyTask, tinyConfig, tinyDeps } from '../../support/tiny-task.ts';

const task = makeTinyTask(8, 3);
const schedule = { epochs: 6, batchSize: 16, lrVisual: 0.03, lrText: 0.5, lrWarmupEpochs: 0, textLrWarmupEpochs: 0 };
const config = (method: Method) => tinyConfig({ method, vpt: { length: 4 }, optim: schedule });
const PNG = Buffer.from('89504e470d0a1a0a', 'hex');
const options = { images: 4, deps: tinyDeps(task), readImage: async () => PNG };

/** A trained trial's final checkpoint (none for zero-shot, which trains nothing) and its test images right. */
async function trained(method: Method): Promise<{ checkpoint: Buffer | null; correct: number }> {
  let checkpoint: Buffer | null = null;
  const outcome = await runTrial(config(method), {
    deps: tinyDeps(task),
    onCheckpoint: (_, bytes) => {
      checkpoint = bytes;
    },
  });
  return { checkpoint, correct: outcome.results[0]?.correct ?? Number.NaN };
}

describe('attention maps of trained trials (tiny CLIP, cpu)', () => {
  beforeAll(async () => {
    await activateBackend('cpu');
  });

  it('picks one test image per class in turn', () => {
    const picked = attentionImages(task.test, 6);
    expect(picked.map((item) => item.label)).toEqual([0, 1, 2, 3, 0, 1]);
    expect(attentionImages(task.test, 99)).toHaveLength(task.test.length);
  });

  it("zero-shot and CoOp attend alike; DPT's trained prompts move the class token and add the prompts' maps", async () => {
    const runs = { coop: await trained('coop'), dpt: await trained('dpt') };
    const tensors = tf.memory().numTensors;
    const zeroShot = await trialAttention(config('zeroshot'), null, options);
    const coop = await trialAttention(config('coop'), runs.coop.checkpoint, options);
    const dpt = await trialAttention(config('dpt'), runs.dpt.checkpoint, options);
    expect(tf.memory().numTensors).toBe(tensors);

    for (const maps of [zeroShot, coop, dpt]) {
      expect(maps).toMatchObject({ dataset: 'eurosat', layer: 1, grid: 4 });
      expect(maps.images.map((image) => image.label)).toEqual(['red', 'green', 'blue', 'yellow']);
      for (const image of maps.images) {
        expect(image.png).toBe(PNG.toString('base64'));
        expect(image.classToken).toHaveLength(16);
        // Shares of one softmax row over the patches: the rest goes to the class token and any prompts.
        const total = image.classToken.reduce((sum, v) => sum + v, 0);
        expect(Math.min(...image.classToken)).toBeGreaterThanOrEqual(0);
        expect(total).toBeLessThan(1);
      }
    }
    // CoOp learns text prompts only: its image tower is CLIP's, bit for bit.
    expect(coop.images.map((image) => image.classToken)).toEqual(zeroShot.images.map((image) => image.classToken));
    expect(zeroShot.images.every((image) => image.classAwarePrompts === undefined)).toBe(true);
    // DPT's VPT-deep prompts in block 0 change what block 1 sees; block 1 holds its class-aware prompts.
    expect(dpt.images[0]?.classToken).not.toEqual(zeroShot.images[0]?.classToken);
    for (const image of dpt.images) {
      expect(image.classAwarePrompts).toHaveLength(16);
      expect(image.classAwarePrompts?.reduce((sum, v) => sum + v, 0)).toBeLessThan(1);
    }
  });

  it("predicts every test image as the trial's own evaluation did", async () => {
    for (const method of ['coop', 'dpt'] as const) {
      const run = await trained(method);
      const all = await trialAttention(config(method), run.checkpoint, { ...options, images: task.test.length });
      expect(all.images).toHaveLength(task.test.length);
      expect(all.images.filter((image) => image.predicted === image.label).length, method).toBe(run.correct);
    }
  });

  it('refuses a checkpoint of another trial, and a trained method without one', async () => {
    const coopCheckpoint = (await trained('coop')).checkpoint;
    await expect(trialAttention(config('vpt'), coopCheckpoint, options)).rejects.toThrow(CheckpointError);
    await expect(trialAttention(config('coop'), null, options)).rejects.toThrow(/no checkpoint is stored/);
  });
});
