import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../../../dpt/backend.ts';
import { loadClip } from '../../../dpt/clip/model.ts';
import { backendsUnderTest } from '../../support/backends.ts';
import { FIXTURES, MODEL_NAMES, maxAbsDiff, readReference, referencePixels } from '../../support/clip-fixtures.ts';

/** tools/reference/make_attention_fixture.py: transformers' class-token attention over patches, mean over heads. */
interface AttentionReference {
  images: string[];
  class_token_patch_attention: number[][][];
}

const BACKENDS = backendsUnderTest(['cpu', 'wasm']);

describe.each(MODEL_NAMES.flatMap((name) => BACKENDS.map((backend) => ({ name, backend }))))(
  'vision attention parity with transformers on $name ($backend backend)',
  ({ name, backend }) => {
    beforeAll(async () => {
      await activateBackend(backend);
    });

    it('every block: the class token attention over the patches, mean over heads', async () => {
      const ref = readReference(name);
      const expected = JSON.parse(readFileSync(join(FIXTURES, `${name}-attention.json`), 'utf8')) as AttentionReference;
      expect(expected.images).toEqual(ref.images);
      const { model } = await loadClip(join(FIXTURES, `${name}-hf`));
      try {
        const pixels = await referencePixels(ref);
        const patches = model.vision.numTokens - 1;
        const perLayer: number[][][] = [];
        tf.tidy(() => {
          model.vision.encode(pixels, undefined, (layer, tokens) => {
            const weights = tf.mean(model.vision.attention(layer, tokens), 1) as tf.Tensor3D;
            const row = tf.slice(weights, [0, 0, 1], [weights.shape[0], 1, patches]);
            perLayer[layer] = tf.reshape(row, [weights.shape[0], patches]).arraySync() as number[][];
          });
        });
        pixels.dispose();
        expect(perLayer).toHaveLength(model.vision.numLayers);
        const error = Math.max(
          ...expected.class_token_patch_attention.map((rows, layer) => maxAbsDiff(perLayer[layer] ?? [], rows)),
        );
        console.log(`attention parity ${backend} ${name}: ${error}`);
        expect(error).toBeLessThan(1e-5);
      } finally {
        model.dispose();
      }
    });
  },
);
