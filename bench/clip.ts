/**
 * CLIP throughput on the TF.js backends available here, printed as JSON:
 *   npx tsx bench/clip.ts [--batch 32] [--wasm-batch N] [--cpu-batch 2] [--prompts 10] [--backends wasm,cpu]
 * ViT-B/32-shaped vision tower with random frozen weights; forward, and forward + backward to `--prompts` tokens
 * injected before every layer (VPT-deep, what the trainer optimises). Where a backend is too slow for the full batch
 * (cpu), or runs out of memory (wasm at batch 32: 'memory access out of bounds' in the wasm heap), a smaller batch is timed and images/s is reported for that batch, marked `extrapolated_to_batch`.
 * Compare with tools/reference/bench_clip_torch.py (PyTorch on the same CPU).
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { activateBackend, type BackendName } from '../dpt/backend.ts';
import type { VisionConfig } from '../dpt/clip/config.ts';
import { WeightStore } from '../dpt/clip/layers.ts';
import { VisionTower } from '../dpt/clip/vision.ts';
import type { CanonicalWeights } from '../dpt/clip/weights.ts';

const VIT_B32: VisionConfig = {
  width: 768,
  layers: 12,
  heads: 12,
  mlpDim: 3072,
  patchSize: 32,
  imageSize: 224,
  layerNormEps: 1e-5,
  activation: 'quick_gelu',
};
const PROJ_DIM = 512;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** Deterministic pseudo-random weights with CLIP-like scale; the values do not affect speed. */
function randomVisionWeights(c: VisionConfig): CanonicalWeights {
  let state = 12345;
  const rand = (n: number, scale: number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      state = (state * 1103515245 + 12345) >>> 0;
      out[i] = (state / 2 ** 32 - 0.5) * 2 * scale;
    }
    return out;
  };
  const w: CanonicalWeights = new Map();
  const put = (name: string, shape: number[], scale = 0.02) =>
    w.set(name, {
      shape,
      data: rand(
        shape.reduce((a, b) => a * b, 1),
        scale,
      ),
    });
  const ones = (name: string, n: number) => w.set(name, { shape: [n], data: new Float32Array(n).fill(1) });
  const grid = c.imageSize / c.patchSize;
  put('visual.conv1.weight', [c.width, 3, c.patchSize, c.patchSize]);
  put('visual.class_embedding', [c.width]);
  put('visual.positional_embedding', [grid * grid + 1, c.width]);
  ones('visual.ln_pre.weight', c.width);
  put('visual.ln_pre.bias', [c.width]);
  for (let i = 0; i < c.layers; i++) {
    const p = `visual.transformer.resblocks.${i}.`;
    ones(`${p}ln_1.weight`, c.width);
    put(`${p}ln_1.bias`, [c.width]);
    put(`${p}attn.in_proj_weight`, [3 * c.width, c.width]);
    put(`${p}attn.in_proj_bias`, [3 * c.width]);
    put(`${p}attn.out_proj.weight`, [c.width, c.width]);
    put(`${p}attn.out_proj.bias`, [c.width]);
    ones(`${p}ln_2.weight`, c.width);
    put(`${p}ln_2.bias`, [c.width]);
    put(`${p}mlp.c_fc.weight`, [c.mlpDim, c.width]);
    put(`${p}mlp.c_fc.bias`, [c.mlpDim]);
    put(`${p}mlp.c_proj.weight`, [c.width, c.mlpDim]);
    put(`${p}mlp.c_proj.bias`, [c.width]);
  }
  ones('visual.ln_post.weight', c.width);
  put('visual.ln_post.bias', [c.width]);
  put('visual.proj', [c.width, PROJ_DIM]);
  return w;
}

async function timeIt(fn: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const start = performance.now();
  const out = fn();
  const outs = Array.isArray(out) ? out : [out];
  for (const t of outs) await t.data();
  tf.dispose(outs);
  return (performance.now() - start) / 1000;
}

async function matmulGflops(): Promise<number> {
  const n = 512;
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  await timeIt(() => tf.matMul(a, b)); // warm-up
  const reps = 5;
  let seconds = 0;
  for (let i = 0; i < reps; i++) seconds += await timeIt(() => tf.matMul(a, b));
  tf.dispose([a, b]);
  return (2 * n ** 3 * reps) / seconds / 1e9;
}

async function benchBackend(name: BackendName, batch: number, prompts: number) {
  await activateBackend(name);
  const store = new WeightStore(randomVisionWeights(VIT_B32));
  const vision = new VisionTower(VIT_B32, store);
  const gflops = await matmulGflops();
  const pixels = tf.randomNormal([batch, 224, 224, 3]) as tf.Tensor4D;
  const promptTokens = tf.variable(tf.randomNormal([batch, prompts, VIT_B32.width], 0, 0.02));
  const inject = () => promptTokens as unknown as tf.Tensor3D;
  // Warm-up with a single image so kernel set-up is not timed.
  await timeIt(() => vision.encode(tf.slice(pixels, [0, 0, 0, 0], [1, -1, -1, -1])));
  const forwardSeconds = await timeIt(() => vision.encode(pixels, inject));
  const backwardSeconds = await timeIt(() => {
    const { value, grads } = tf.variableGrads(() => tf.sum(vision.encode(pixels, inject)) as tf.Scalar, [promptTokens]);
    return [value, ...Object.values(grads)];
  });
  tf.dispose([pixels, promptTokens]);
  store.dispose();
  return {
    backend: name,
    batch,
    prompt_tokens_per_layer: prompts,
    matmul_512_gflops: round(gflops),
    forward_seconds: round(forwardSeconds),
    forward_img_per_s: round(batch / forwardSeconds),
    forward_backward_seconds: round(backwardSeconds),
    forward_backward_img_per_s: round(batch / backwardSeconds),
  };
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}

const batch = Number(arg('batch', '32'));
const prompts = Number(arg('prompts', '10'));
const backends = arg('backends', 'wasm,cpu').split(',') as BackendName[];
const results = [];
for (const name of backends) {
  const b = Number(arg(`${name}-batch`, name === 'cpu' ? '2' : String(batch)));
  const r = await benchBackend(name, b, prompts);
  results.push(
    b === batch ? r : { ...r, extrapolated_to_batch: batch, note: `timed at batch ${b}; img/s assumed flat in batch` },
  );
  process.stderr.write(`${JSON.stringify(results.at(-1))}\n`);
}
console.log(
  JSON.stringify(
    {
      model: 'ViT-B/32 vision tower, random frozen weights',
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model,
      results,
    },
    null,
    2,
  ),
);
