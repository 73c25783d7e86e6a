/**
 * Pretraining throughput of one model size: a few full steps (scene sampling + rendering, forward + backward through
 * both towers, AdamW), printed as one JSON line per step and a summary.
 *
 *   DPT_BACKEND=wasm npx tsx tools/synth-clip/throughput.ts --vision-width 64 --vision-layers 3 --text-width 64 \
 *     --text-layers 2 --context-length 24 --batch 128 [--plain-matmul]
 *
 * --plain-matmul keeps tfjs-backend-wasm's own BatchMatMul (slow with transposed operands) for comparison.
 * The first step is warm-up and is left out of the mean.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { initBackend } from '../../dpt/backend.ts';
import { configFromHf } from '../../dpt/clip/config.ts';
import { useUntransposedWasmMatMul } from '../../dpt/wasm-matmul.ts';
import { AdamW } from './adamw.ts';
import { pretrainRng, sampleBatch } from './data.ts';
import { initialWeights } from './init.ts';
import { captionTargets, TrainableClip } from './trainable-clip.ts';

const int = z.coerce.number().int().positive();
const schema = z.object({
  'vision-width': int.default(64),
  'vision-layers': int.default(3),
  'text-width': int.default(64),
  'text-layers': int.default(2),
  'head-width': int.default(32),
  'context-length': int.default(24),
  'patch-size': int.default(8),
  'image-size': int.default(48),
  batch: int.default(128),
  steps: int.default(4),
  'plain-matmul': z.boolean().default(false),
});
const names = Object.keys(schema.shape);
const { values } = parseArgs({
  options: Object.fromEntries(names.map((k) => [k, { type: k === 'plain-matmul' ? 'boolean' : 'string' }] as const)),
});
const a = schema.parse(values);

const backend = await initBackend();
const fast = backend.name === 'wasm' && !a['plain-matmul'] && useUntransposedWasmMatMul();
const tower = (width: number, layers: number) => ({
  hidden_size: width,
  intermediate_size: 4 * width,
  num_attention_heads: width / a['head-width'],
  num_hidden_layers: layers,
});
const config = configFromHf({
  projection_dim: 64,
  text_config: {
    ...tower(a['text-width'], a['text-layers']),
    max_position_embeddings: a['context-length'],
    vocab_size: 600,
  },
  vision_config: {
    ...tower(a['vision-width'], a['vision-layers']),
    image_size: a['image-size'],
    patch_size: a['patch-size'],
  },
});
const model = new TrainableClip(config, initialWeights(config, 0));
const params = model.variables();
const opt = new AdamW(
  params,
  params.map((p) => p.shape.length === 2),
  { beta1: 0.9, beta2: 0.98, eps: 1e-6, weightDecay: 0.1 },
);
const rng = pretrainRng(0);
const size = a['image-size'];
const len = a['context-length'];
const rates: number[] = [];
for (let step = 0; step < a.steps; step++) {
  const t0 = performance.now();
  const batch = sampleBatch(rng, a.batch, { size });
  const t1 = performance.now();
  // Random 10-token captions: the tokenizer is not part of the measured cost.
  const ids = batch.captions.map((_, i) => {
    const row = new Int32Array(len);
    row[0] = 598;
    for (let k = 1; k <= 10; k++) row[k] = (i * 31 + k * 7) % 500;
    row[11] = 599;
    return row;
  });
  tf.tidy(() => {
    const pixels = tf.tensor4d(batch.pixels, [a.batch, size, size, 3]);
    const { grads } = tf.variableGrads(
      () =>
        model.loss(
          pixels,
          ids,
          ids.map(() => 11),
          captionTargets(batch.captions),
        ).loss,
      params,
    );
    opt.apply(
      params.map((p) => grads[p.name] as tf.Tensor),
      1e-4,
    );
  });
  const t2 = performance.now();
  const pairsPerS = (a.batch * 1000) / (t2 - t0);
  if (step > 0) rates.push(pairsPerS);
  console.log(
    JSON.stringify({ step, data_ms: Math.round(t1 - t0), step_ms: Math.round(t2 - t1), pairs_per_s: pairsPerS }),
  );
}
console.log(
  JSON.stringify({
    backend: backend.name,
    untransposed_matmul: fast,
    config: { vision: config.vision, text: config.text },
    params: params.reduce((n, p) => n + p.size, 0),
    batch: a.batch,
    mean_pairs_per_s: rates.length > 0 ? rates.reduce((x, y) => x + y, 0) / rates.length : Number.NaN,
    tensors: tf.memory().numTensors,
  }),
);
