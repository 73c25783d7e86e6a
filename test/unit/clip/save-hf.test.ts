import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../../../dpt/backend.ts';
import { configFromHf } from '../../../dpt/clip/config.ts';
import { loadClip } from '../../../dpt/clip/model.ts';
import { readSafetensorsIndex } from '../../../dpt/clip/safetensors.ts';
import { saveHf } from '../../../dpt/clip/save-hf.ts';
import { type CanonicalWeights, detectLayout, loadCanonical } from '../../../dpt/clip/weights.ts';
import { zeroShotClassifier, zeroShotLogits } from '../../../dpt/clip/zero-shot.ts';
import { FIXTURES, readReference, referencePixels } from '../../support/clip-fixtures.ts';

async function canonicalOf(dir: string): Promise<CanonicalWeights> {
  const { model } = await loadClip(dir);
  model.dispose();
  const file = dir.includes('openai') ? 'open_clip_model.safetensors' : 'model.safetensors';
  const entries = await readSafetensorsIndex(join(dir, file));
  return loadCanonical(entries, detectLayout(entries.map((e) => e.name)), model.config);
}

let out: string;
beforeAll(async () => {
  await activateBackend('cpu');
  out = await mkdtemp(join(tmpdir(), 'save-hf-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('saveHf', () => {
  it.each(['tiny-a-hf', 'tiny-a-openai'])('round-trips %s: every tensor, the config and the logits', async (name) => {
    const source = join(FIXTURES, name);
    const original = await loadClip(source);
    const weights = await canonicalOf(source);
    const dir = join(out, name);
    const tokenizer = JSON.parse(await readFile(join(FIXTURES, 'tiny-a-hf', 'tokenizer.json'), 'utf8'));
    await saveHf(dir, original.model.config, weights, { tokenizer });

    const entries = await readSafetensorsIndex(join(dir, 'model.safetensors'));
    expect(detectLayout(entries.map((e) => e.name))).toBe('hf');
    const config = configFromHf(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')));
    expect({ ...config, source: '' }).toEqual({ ...original.model.config, source: '' });
    const reloaded = await loadCanonical(entries, 'hf', config);
    expect([...reloaded.keys()].sort()).toEqual([...weights.keys()].sort());
    for (const [tensor, w] of weights) {
      const r = reloaded.get(tensor);
      expect(r?.shape, tensor).toEqual(w.shape);
      expect(Buffer.from(r?.data.buffer ?? new ArrayBuffer(0)).equals(Buffer.from(w.data.buffer)), tensor).toBe(true);
    }

    const loaded = await loadClip(dir);
    expect(loaded.layout).toBe('hf');
    const ref = readReference('tiny-a');
    const pixels = await referencePixels(ref);
    const logits = (clip: typeof loaded) =>
      tf.tidy(() => {
        const classifier = zeroShotClassifier(clip.model, clip.tokenizer, ref.classnames, ref.template);
        return zeroShotLogits(clip.model, clip.model.vision.encode(pixels), classifier).arraySync();
      });
    expect(logits(loaded)).toEqual(logits(original));
    pixels.dispose();
    loaded.model.dispose();
    original.model.dispose();
  });

  it('refuses weights that do not match the config', async () => {
    const source = join(FIXTURES, 'tiny-a-hf');
    const { model } = await loadClip(source);
    const weights = await canonicalOf(source);
    weights.delete('visual.proj');
    await expect(saveHf(join(out, 'broken'), model.config, weights)).rejects.toThrow(/visual\.proj is missing/);
    model.dispose();
  });
});
