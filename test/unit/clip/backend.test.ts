import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { activateBackend, initBackend } from '../../../dpt/backend.ts';

describe('backend selection', () => {
  it('falls back past missing native packages and reports why, once', async () => {
    const saved = process.env.DPT_BACKEND;
    delete process.env.DPT_BACKEND;
    try {
      const info = await initBackend();
      expect(await initBackend()).toBe(info);
      expect(tf.getBackend()).toBe(info.name === 'tensorflow-gpu' ? 'tensorflow' : info.name);
      if (info.name === 'wasm') {
        expect(info.fallbackReasons.map((r) => r.split(':')[0])).toEqual(['tensorflow-gpu', 'tensorflow']);
      }
    } finally {
      if (saved !== undefined) process.env.DPT_BACKEND = saved;
    }
  });

  it('activates wasm and cpu explicitly', async () => {
    await activateBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    await activateBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
});
