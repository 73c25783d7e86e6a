import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { PythonRandom } from '../../../data/python-random.ts';
import { activateBackend, type BackendName } from '../../../dpt/backend.ts';
import { type LoadedClip, loadClip } from '../../../dpt/clip/index.ts';
import { type ClassContext, PromptedClip, VPT_CTX_KEY } from '../../../dpt/methods/model.ts';
import { Sgd } from '../../../dpt/optim/sgd.ts';
import { PARAM_GROUPS } from '../../../dpt/params.ts';
import { TEXT_CTX_KEY } from '../../../dpt/prompts/text-prompt.ts';
import { checkpointedChunks } from '../../../dpt/recompute.ts';
import { chunkRanges } from '../../../dpt/text-chunks.ts';
import { trainBatch } from '../../../dpt/trainer/step.ts';
import { describeWith } from '../../support/env.ts';
import { TINY_CLIP_DIR, tinyConfig } from '../../support/tiny-task.ts';

/**
 * Chunked text features (dpt/text-chunks.ts, dpt/recompute.ts) against the unchunked ones: 7 classes in chunks of 3
 * (3 + 3 + 1, an uneven last chunk), values and gradients w.r.t. the text ctx equal up to float rounding. The
 * checkpointed backward runs a gradient computation inside another one's, which TF.js only allows with the tape
 * restored (withOwnTape), so every backend we run on is checked.
 */
const CLASSES = ['red', 'green', 'blue', 'yellow', 'cat', 'dog', 'car'];
const CHUNK = 3;

function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let scale = 1e-6;
  for (const v of y) scale = Math.max(scale, Math.abs(v));
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
  return diff / scale;
}

function chunkSuite(backend: BackendName) {
  let clip: LoadedClip;
  let directions: tf.Tensor2D;
  /** Every text-tower pass; build() clears it, so it holds the passes since the last model was built. */
  let encodeEmbeddings: MockInstance<LoadedClip['model']['text']['encodeEmbeddings']>;
  beforeAll(async () => {
    await activateBackend(backend);
    expect(tf.getBackend()).toBe(backend);
    clip = await loadClip(TINY_CLIP_DIR);
    encodeEmbeddings = vi.spyOn(clip.model.text, 'encodeEmbeddings');
    directions = tf.randomNormal([5, clip.model.text.projDim], 0, 1, 'float32', 21) as tf.Tensor2D;
  });
  afterAll(() => {
    encodeEmbeddings.mockRestore();
    directions.dispose();
    clip.model.dispose();
  });

  /** The batch size of each text-tower pass recorded by the spy. */
  const passes = () => encodeEmbeddings.mock.calls.map(([x]) => x.shape[0]);

  function build(method: 'coop' | 'dpt', chunkSize: number) {
    const cfg = tinyConfig({ method });
    encodeEmbeddings.mockClear();
    const model = new PromptedClip(clip.model, clip.tokenizer, cfg, CLASSES.length, new PythonRandom(1), {
      textChunkSize: chunkSize,
    });
    const ctx = model.buildClassContext(CLASSES, 'a photo of a {}.');
    return { model, ctx };
  }

  /** A loss that is nonlinear in every row of the features, so each chunk gets a different dy. */
  function textLoss(model: PromptedClip, ctx: ClassContext): tf.Scalar {
    const t = model.textFeatures(ctx);
    const tn = tf.div(t, tf.norm(t, 'euclidean', -1, true));
    return tf.add(tf.sum(tf.logSumExp(tf.mul(tf.matMul(tn, directions, false, true), 5), -1)), tf.sum(tf.square(t)));
  }

  it('splits 7 classes into 3 + 3 + 1 and recomputes each chunk in the backward pass', () => {
    expect(chunkRanges(7, 3)).toEqual([
      { start: 0, size: 3 },
      { start: 3, size: 3 },
      { start: 6, size: 1 },
    ]);
    const chunked = build('coop', CHUNK);
    expect(passes()).toEqual([3, 3, 1]); // hand-crafted features
    encodeEmbeddings.mockClear();
    const { value, grads } = tf.variableGrads(() => textLoss(chunked.model, chunked.ctx));
    expect(passes()).toEqual([3, 3, 1, 3, 3, 1]); // forward without tape, then one taped pass per chunk
    tf.dispose([value, ...Object.values(grads)]);
    const plain = build('coop', Number.POSITIVE_INFINITY);
    expect(passes()).toEqual([7]);
    for (const m of [chunked, plain]) {
      m.ctx.dispose();
      m.model.dispose();
    }
  });

  it('keeps less on the tape than the unchunked path', async () => {
    const peak = async (chunkSize: number) => {
      const m = build('coop', chunkSize);
      const base = tf.memory().numBytes;
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => textLoss(m.model, m.ctx));
        tf.dispose([value, ...Object.values(grads)]);
      });
      m.ctx.dispose();
      m.model.dispose();
      return info.peakBytes - base;
    };
    const chunked = await peak(1);
    const plain = await peak(Number.POSITIVE_INFINITY);
    // One class's activations at a time against all seven: well under half, whatever the fixed costs.
    expect(chunked).toBeLessThan(plain / 2);
  });

  it('gives the unchunked features, hand-crafted features and ctx gradient', () => {
    const chunked = build('coop', CHUNK);
    const plain = build('coop', Number.POSITIVE_INFINITY);
    const ctxOf = (m: PromptedClip) => m.store.get(TEXT_CTX_KEY);
    expect(Array.from(ctxOf(chunked.model).dataSync())).toEqual(Array.from(ctxOf(plain.model).dataSync()));
    expect(maxRelDiff(chunked.ctx.handFeatures, plain.ctx.handFeatures)).toBeLessThan(1e-5);
    const fc = tf.tidy(() => chunked.model.textFeatures(chunked.ctx));
    const fp = tf.tidy(() => plain.model.textFeatures(plain.ctx));
    expect(fc.shape).toEqual([CLASSES.length, clip.model.text.projDim]);
    expect(maxRelDiff(fc, fp)).toBeLessThan(1e-5);
    const gc = tf.variableGrads(() => textLoss(chunked.model, chunked.ctx), [ctxOf(chunked.model)]);
    const gp = tf.variableGrads(() => textLoss(plain.model, plain.ctx), [ctxOf(plain.model)]);
    expect(maxRelDiff(gc.value, gp.value)).toBeLessThan(1e-5);
    const dc = gc.grads[ctxOf(chunked.model).name]!;
    const dp = gp.grads[ctxOf(plain.model).name]!;
    expect(dc.shape).toEqual(ctxOf(plain.model).shape);
    expect(tf.sum(tf.abs(dp)).dataSync()[0]).toBeGreaterThan(1e-3);
    expect(maxRelDiff(dc, dp)).toBeLessThan(1e-4);
    tf.dispose([fc, fp, gc.value, gp.value, dc, dp]);
    for (const m of [chunked, plain]) {
      m.ctx.dispose();
      m.model.dispose();
    }
  });

  it('takes the same DPT training step (loss, text ctx, VPT ctx) and leaks no tensors', () => {
    const steps = [build('dpt', CHUNK), build('dpt', Number.POSITIVE_INFINITY)].map(({ model, ctx }) => {
      const sgd = new Sgd(PARAM_GROUPS.map((name) => ({ name, params: model.store.inGroup(name) })));
      const pixels = tf.randomNormal([6, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
      const labels = Int32Array.from([0, 1, 2, 3, 4, 6]);
      const before = tf.memory().numTensors;
      const r = trainBatch(
        model,
        sgd,
        ctx,
        pixels,
        labels,
        5,
        0,
        { alpha: 0.3, beta: 0.1, warmupEpochs: 1 },
        {
          visual: 0.1,
          cavpt: 0.1,
          text: 0.1,
        },
      );
      const leaked = tf.memory().numTensors - before;
      const text = model.store.get(TEXT_CTX_KEY).clone();
      const vpt = model.store.get(VPT_CTX_KEY).clone();
      pixels.dispose();
      sgd.dispose();
      ctx.dispose();
      model.dispose();
      return { r, text, vpt, leaked };
    });
    const [c, p] = steps as [(typeof steps)[0], (typeof steps)[0]];
    expect(c.r.cavptActive).toBe(true);
    expect(Math.abs(c.r.loss - p.r.loss) / Math.abs(p.r.loss)).toBeLessThan(1e-5);
    expect(c.r.correct).toBe(p.r.correct);
    expect(maxRelDiff(c.text, p.text)).toBeLessThan(1e-5);
    expect(maxRelDiff(c.vpt, p.vpt)).toBeLessThan(1e-5);
    expect(c.leaked).toBe(p.leaked);
    tf.dispose([c.text, p.text, c.vpt, p.vpt]);
  });

  it('fails loudly when the checkpointed function reads another trainable variable', () => {
    const a = tf.variable(tf.tensor2d([[1, 2]]), true);
    const b = tf.variable(tf.tensor2d([[3, 4]]), true);
    const rows = tf.tensor2d([[1], [2], [3]]);
    const encode = ({ start, size }: { start: number; size: number }) =>
      tf.tidy(() => tf.mul(tf.mul(tf.slice(rows, [start, 0], [size, 1]), a), b) as tf.Tensor2D);
    expect(() => tf.variableGrads(() => tf.sum(checkpointedChunks(a, 3, 2, encode)) as tf.Scalar, [a, b])).toThrow(
      /besides/,
    );
    // Reading only `a`: the same gradient as without checkpointing.
    const only = ({ start, size }: { start: number; size: number }) =>
      tf.tidy(() => tf.square(tf.mul(tf.slice(rows, [start, 0], [size, 1]), a)) as tf.Tensor2D);
    const g = tf.variableGrads(() => tf.sum(checkpointedChunks(a, 3, 2, only)) as tf.Scalar, [a]);
    // d/da sum_r (r·a)² = 2·a·sum_r r² = 2·14·a
    expect(Array.from(g.grads[a.name]!.dataSync())).toEqual([28, 56]);
    tf.dispose([a, b, rows, g.value, ...Object.values(g.grads)]);
  });

  it('chunks TextTower.encode (zero-shot classifiers, embeddings) without changing it', () => {
    const { ids, eotIndex } = clip.tokenizer.encode(CLASSES.map((c) => `a photo of a ${c}.`));
    const chunked = clip.model.text.encode(ids, eotIndex, CHUNK);
    const whole = clip.model.text.encode(ids, eotIndex, Number.POSITIVE_INFINITY);
    expect(maxRelDiff(chunked, whole)).toBeLessThan(1e-5);
    tf.dispose([chunked, whole]);
  });
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`chunked text features on ${backend}`, () => chunkSuite(backend));
}

// The native backend is optional on a developer's machine (its install builds libtensorflow); CI must have it.
const native = await activateBackend('tensorflow').then(
  () => ({ ok: true, reason: '' }),
  (err: unknown) => ({ ok: false, reason: err instanceof Error ? err.message : String(err) }),
);
describeWith(
  'tfjs-node (tensorflow backend)',
  native.ok,
  native.reason,
)('chunked text features on tensorflow', () => chunkSuite('tensorflow'));
