import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { activateBackend, gpuVisibility, initBackend } from '../../../dpt/backend.ts';
import { installedBinding } from '../../../dpt/native-tf.ts';
import { backendsUnderTest, nativeBuilt } from '../../support/backends.ts';

describe('backend selection', () => {
  it('takes the fastest backend that loads and reports why better ones were skipped, once', async () => {
    const saved = process.env.DPT_BACKEND;
    delete process.env.DPT_BACKEND;
    try {
      const info = await initBackend();
      expect(await initBackend()).toBe(info);
      expect(tf.getBackend()).toBe(info.name === 'tensorflow-gpu' ? 'tensorflow' : info.name);
      const gpuUsable =
        installedBinding('@tensorflow/tfjs-node-gpu').binding !== undefined && gpuVisibility().visible > 0;
      const expected = gpuUsable ? 'tensorflow-gpu' : nativeBuilt ? 'tensorflow' : 'wasm';
      expect(info.name).toBe(expected);
      if (expected === 'wasm') {
        expect(info.fallbackReasons.map((r) => r.split(':')[0]).sort()).toEqual(['tensorflow', 'tensorflow-gpu']);
      }
    } finally {
      if (saved !== undefined) process.env.DPT_BACKEND = saved;
    }
  });

  it.each(backendsUnderTest(['wasm', 'cpu']))('activates %s explicitly', async (name) => {
    await activateBackend(name);
    expect(tf.getBackend()).toBe(name);
    expect(Array.from(tf.matMul(tf.eye(2), tf.tensor2d([1, 2, 3, 4], [2, 2])).dataSync())).toEqual([1, 2, 3, 4]);
  });

  it('counts no GPU where CUDA_VISIBLE_DEVICES hides them all', () => {
    expect(gpuVisibility({ CUDA_VISIBLE_DEVICES: '' })).toMatchObject({
      visible: 0,
      reason: expect.stringMatching(/hides every GPU/),
    });
    expect(gpuVisibility({ CUDA_VISIBLE_DEVICES: '-1' }).visible).toBe(0);
  });
});
