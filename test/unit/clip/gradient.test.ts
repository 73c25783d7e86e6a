import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateBackend, type BackendName } from '../../../dpt/backend.ts';
import { type LoadedClip, loadClip } from '../../../dpt/clip/model.ts';
import { backendsUnderTest } from '../../support/backends.ts';
import { FIXTURES } from '../../support/clip-fixtures.ts';

/**
 * Central finite differences (in float64 on the host, from float32 forward passes) against tf.grad, for a random
 * scalar projection of each encoder's output w.r.t. inserted tokens. Checked on a few coordinates.
 */
function finiteDifferenceCheck(
  f: (x: tf.Tensor3D) => tf.Scalar,
  x0: tf.Tensor3D,
  coords: number[],
  eps = 1e-2,
): { analytic: number[]; numeric: number[] } {
  const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => f(x as tf.Tensor3D))(x0));
  const analyticAll = grad.dataSync();
  const base = x0.dataSync();
  const numeric = coords.map((i) => {
    const eval_ = (delta: number) =>
      tf.tidy(() => {
        const shifted = base.slice();
        shifted[i] = (shifted[i] ?? 0) + delta;
        return f(tf.tensor3d(shifted, x0.shape)).dataSync()[0] ?? Number.NaN;
      });
    return (eval_(eps) - eval_(-eps)) / (2 * eps);
  });
  grad.dispose();
  return { analytic: coords.map((i) => analyticAll[i] ?? Number.NaN), numeric };
}

function expectClose(analytic: number[], numeric: number[]) {
  const scale = Math.max(1e-3, ...numeric.map(Math.abs));
  analytic.forEach((a, i) => {
    expect(Number.isFinite(a)).toBe(true);
    expect(Math.abs(a - (numeric[i] ?? 0)) / scale).toBeLessThan(2e-2);
  });
  // A gradient check that sees only zeros proves nothing.
  expect(Math.max(...analytic.map(Math.abs))).toBeGreaterThan(1e-4);
}

describe.each(backendsUnderTest<BackendName>(['cpu', 'wasm']))(
  'gradients through the CLIP encoders on %s',
  (backend) => {
    let clip: LoadedClip;
    beforeAll(async () => {
      await activateBackend(backend);
      expect(tf.getBackend()).toBe(backend);
      clip = await loadClip(join(FIXTURES, 'tiny-a-openai'));
    });
    afterAll(() => clip.model.dispose());

    it('vision: w.r.t. tokens injected before layers 0 and 1', () => {
      const { vision } = clip.model;
      const batch = 2;
      const nPrompt = 3;
      const pixels = tf.randomNormal([batch, vision.imageSize, vision.imageSize, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const prompts = tf.randomNormal([batch, nPrompt, vision.width], 0, 1, 'float32', 2) as tf.Tensor3D;
      const direction = tf.randomNormal([batch, vision.projDim], 0, 1, 'float32', 3);
      const f = (p: tf.Tensor3D) =>
        tf.tidy(() => {
          const seen: number[] = [];
          const out = vision.encode(pixels, (layer, xIn) => {
            seen.push(xIn.shape[1]);
            // Deep prompts: the same learnable tokens before every layer, different scale per layer.
            return tf.mul(p, layer + 1) as tf.Tensor3D;
          });
          expect(seen).toEqual(Array(vision.numLayers).fill(vision.numTokens));
          return tf.sum(tf.mul(out, direction)) as tf.Scalar;
        });
      const coords = [0, 5, vision.width + 7, nPrompt * vision.width + 11, 2 * nPrompt * vision.width - 1];
      const { analytic, numeric } = finiteDifferenceCheck(f, prompts, coords);
      expectClose(analytic, numeric);
      tf.dispose([pixels, prompts, direction]);
    });

    it('text: w.r.t. input embeddings of encodeEmbeddings (EOT pooling by one-hot matmul)', () => {
      const { text } = clip.model;
      const { ids, eotIndex } = clip.tokenizer.encode(['a photo of a cat.', 'golden retriever']);
      const embeddings = text.tokenEmbedding(ids);
      const direction = tf.randomNormal([2, text.projDim], 0, 1, 'float32', 4);
      const f = (x: tf.Tensor3D) =>
        tf.tidy(() => tf.sum(tf.mul(text.encodeEmbeddings(x, eotIndex), direction)) as tf.Scalar);
      const w = text.width;
      // Coordinates before the EOT token (they influence it through causal attention) and in row 2.
      const coords = [1 * w + 3, 2 * w + 9, (eotIndex[0] ?? 1) * w + 1, text.contextLength * w + 4 * w + 2];
      const { analytic, numeric } = finiteDifferenceCheck(f, embeddings, coords);
      expectClose(analytic, numeric);
      // Causality: a token after EOT cannot change the pooled output.
      const after = finiteDifferenceCheck(f, embeddings, [((eotIndex[0] ?? 0) + 1) * w]);
      expect(Math.abs(after.analytic[0] ?? 1)).toBeLessThan(1e-7);
      tf.dispose([embeddings, direction]);
    });
  },
);
