import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleScene } from '../../../data/synthetic/scene.ts';
import { activateBackend } from '../../../dpt/backend.ts';
import { configFromHf } from '../../../dpt/clip/config.ts';
import { ClipModel } from '../../../dpt/clip/model.ts';
import { useUntransposedWasmMatMul } from '../../../dpt/wasm-matmul.ts';
import { AdamW, warmupCosine } from '../../../tools/synth-clip/adamw.ts';
import { captionIsTrueOf, captionVariant, captionWithMeaning } from '../../../tools/synth-clip/captions.ts';
import { pretrainRng, sampleBatch } from '../../../tools/synth-clip/data.ts';
import { initialWeights } from '../../../tools/synth-clip/init.ts';
import { captionTargets, meaningTargets, TrainableClip } from '../../../tools/synth-clip/trainable-clip.ts';

const config = configFromHf({
  projection_dim: 16,
  text_config: {
    hidden_size: 16,
    intermediate_size: 32,
    num_attention_heads: 2,
    num_hidden_layers: 1,
    max_position_embeddings: 8,
    vocab_size: 30,
  },
  vision_config: {
    hidden_size: 16,
    intermediate_size: 32,
    num_attention_heads: 2,
    num_hidden_layers: 1,
    image_size: 16,
    patch_size: 8,
  },
});

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] ?? Number.NaN);
}

describe('synth-clip trainable CLIP (wasm)', () => {
  let clip: TrainableClip;
  beforeAll(async () => {
    await activateBackend('wasm');
    clip = new TrainableClip(config, initialWeights(config, 0));
  });
  afterAll(() => clip.dispose());

  it('gives back the canonical weights it was built from', () => {
    const initial = initialWeights(config, 0);
    const back = clip.canonical();
    expect([...back.keys()].sort()).toEqual([...initial.keys()].sort());
    for (const [name, w] of initial) expect(Array.from(back.get(name)?.data ?? []), name).toEqual(Array.from(w.data));
  });

  it('embeds images and tokens exactly like the frozen towers', () => {
    const frozen = new ClipModel(config, clip.canonical());
    const pixels = tf.randomNormal([3, 16, 16, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const ids = [Int32Array.from([28, 3, 5, 29, 0, 0, 0, 0]), Int32Array.from([28, 7, 29, 0, 0, 0, 0, 0])];
    tf.tidy(() => {
      expect(maxDiff(clip.embedImages(pixels), frozen.vision.embed(pixels))).toBeLessThan(1e-5);
      expect(maxDiff(clip.encodeImages(pixels), frozen.vision.encode(pixels))).toBeLessThan(1e-5);
      expect(maxDiff(clip.encodeTexts(ids, [3, 2]), frozen.text.encode(ids, [3, 2]))).toBeLessThan(1e-5);
    });
    pixels.dispose();
    frozen.dispose();
  });

  it('scatters the token-embedding gradient into the rows that were looked up', () => {
    const ids = [Int32Array.from([28, 3, 3, 29, 0, 0, 0, 0])];
    const table = clip.store.variable('token_embedding.weight');
    const weights = tf.randomNormal([1, 8, 16], 0, 1, 'float32', 3);
    const grad = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(clip.embedTokens(ids), weights)), [table]);
      return grads[table.name] as tf.Tensor;
    });
    const g = grad.arraySync() as number[][];
    const w = weights.arraySync() as number[][][];
    const row = (i: number) => w[0]?.[i] ?? [];
    for (let c = 0; c < 16; c++) {
      expect(g[3]?.[c]).toBeCloseTo((row(1)[c] ?? 0) + (row(2)[c] ?? 0), 5);
      expect(g[0]?.[c]).toBeCloseTo(
        row(4)
          .map((_, k) => row(4 + k)[c] ?? 0)
          .reduce((x, y) => x + y, 0),
        5,
      );
      expect(g[5]?.[c]).toBe(0);
    }
    tf.dispose([grad, weights]);
  });

  it('multiplies transposed operands the same with the untransposed wasm kernel', () => {
    const a = tf.randomNormal([40, 24], 0, 1, 'float32', 1);
    const b = tf.randomNormal([40, 12], 0, 1, 'float32', 2);
    const c = tf.randomNormal([3, 2, 5, 7], 0, 1, 'float32', 3);
    const before = [tf.matMul(a, b, true, false), tf.matMul(b, a, true, false), tf.matMul(c, c, false, true)];
    expect(useUntransposedWasmMatMul()).toBe(true);
    const after = [tf.matMul(a, b, true, false), tf.matMul(b, a, true, false), tf.matMul(c, c, false, true)];
    for (const [i, x] of before.entries()) expect(maxDiff(x, after[i] as tf.Tensor)).toBeLessThan(1e-5);
    // The kernel's transposed temporaries live only in the backend, so count the backend's buffers.
    const buffers = tf.engine().backend.numDataIds();
    tf.tidy(() => {
      tf.matMul(a, b, true, false);
      tf.matMul(c, tf.transpose(c, [0, 1, 3, 2]), true, true);
    });
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    tf.dispose([a, b, c, ...before, ...after]);
  });

  it('lowers the contrastive loss on a tiny batch within a few AdamW steps, without leaking tensors', () => {
    const rng = pretrainRng(0);
    const batch = sampleBatch(rng, 6, { size: 16, scene: { maxObjects: 1, maxClutter: 0 } });
    const ids = batch.captions.map((_, i) => Int32Array.from([28, 1 + i, 10 + (i % 3), 29, 0, 0, 0, 0]));
    const eot = ids.map(() => 3);
    const pixels = tf.tensor4d(batch.pixels, [6, 16, 16, 3]);
    const targets = captionTargets(batch.captions.map((_, i) => String(i)));
    const params = clip.variables();
    const opt = new AdamW(
      params,
      params.map((p) => p.shape.length === 2),
      { beta1: 0.9, beta2: 0.98, eps: 1e-6, weightDecay: 0.1 },
    );
    const lossNow = () => tf.tidy(() => clip.loss(pixels, ids, eot, targets).loss.dataSync()[0] ?? Number.NaN);
    const first = lossNow();
    const tensors = tf.memory().numTensors;
    for (let step = 0; step < 8; step++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => clip.loss(pixels, ids, eot, targets).loss, params);
        opt.apply(
          params.map((p) => grads[p.name] as tf.Tensor),
          warmupCosine(step, 8, 2, 3e-3),
        );
      });
      clip.clampScale();
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(lossNow()).toBeLessThan(first - 0.1);
    opt.dispose();
    tf.dispose([pixels, targets]);
  });
});

describe('captionTargets', () => {
  it('shares the weight among identical captions', () => {
    const t = captionTargets(['a', 'b', 'a']);
    expect(t.arraySync()).toEqual([
      [0.5, 0, 0.5],
      [0, 1, 0],
      [0.5, 0, 0.5],
    ]);
    t.dispose();
  });
});

describe('caption meaning', () => {
  const red = { shape: 'circle', colour: 'red', texture: 'solid', size: 'large' } as const;
  const blue = { shape: 'square', colour: 'blue', texture: 'striped', size: 'small' } as const;

  it('a partial caption is true of every scene holding matching objects, a complete one only of its own', () => {
    expect(captionIsTrueOf({ described: [{ shape: 'circle' }], complete: false }, [blue, red])).toBe(true);
    expect(captionIsTrueOf({ described: [{ shape: 'circle', colour: 'blue' }], complete: false }, [blue, red])).toBe(
      false,
    );
    // Two described circles need two circles in the scene.
    expect(captionIsTrueOf({ described: [{ shape: 'circle' }, { colour: 'red' }], complete: false }, [red])).toBe(
      false,
    );
    expect(captionIsTrueOf({ described: [red], complete: true }, [red, blue])).toBe(false);
    expect(captionIsTrueOf({ described: [blue, red], complete: true }, [red, blue])).toBe(true);
  });

  it('draws the same captions as captionVariant, and each is true of its own scene', () => {
    const a = pretrainRng(3);
    const b = pretrainRng(3);
    for (let i = 0; i < 300; i++) {
      const sceneA = sampleScene(a);
      const sceneB = sampleScene(b);
      const meaning = captionWithMeaning(a, sceneA);
      expect(meaning.text).toBe(captionVariant(b, sceneB));
      expect(captionIsTrueOf(meaning, sceneA.objects)).toBe(true);
    }
  });

  it('targets spread each row over the true pairs in both directions', () => {
    const { images, texts } = meaningTargets(
      [
        { described: [{ shape: 'circle' }], complete: false },
        { described: [blue], complete: true },
      ],
      [[red], [blue]],
    );
    expect(images.arraySync()).toEqual([
      [1, 0],
      [0, 1],
    ]);
    // "a small shape" is true only of the second image; "a red shape" of both.
    const both = meaningTargets(
      [
        { described: [{ size: 'small' }], complete: false },
        { described: [{ colour: 'red' }], complete: false },
      ],
      [[red], [red, blue]],
    );
    expect(both.images.arraySync()).toEqual([
      [0, 1],
      [0.5, 0.5],
    ]);
    expect(both.texts.arraySync()).toEqual([
      [0, 1],
      [0.5, 0.5],
    ]);
    tf.dispose([images, texts, both.images, both.texts]);
  });
});
