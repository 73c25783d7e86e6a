/**
 * DPT training throughput and memory on the TF.js backends available here, printed as JSON:
 *   npx tsx bench/train.ts [--backends wasm,cpu] [--steps 3] [--cpu-steps 1] [--classes 10]
 * Two models: the tiny CLIP fixture (test/fixtures/clip/tiny-a-hf) and a ViT-B/32-shaped CLIP (vision 768×12, text
 * 512×12, 77-token context) with random frozen weights. Default DPT (text ctx 16, VPT 10 in blocks 1..11, CAVPT in
 * block 12 with K_N 10, α 0.3), one full optimisation step per batch: zero-shot forward for the top-K selector, text
 * encoder over all classes with gradient, prompted image encoder with gradient, SGD. Random pixels (no image
 * decoding), so this is the model's cost only. Batch 32 is tried first; where a backend fails on it (wasm heap) or is
 * far too slow (cpu), smaller batches are timed and the figure is marked with the batch that was measured.
 * images/s excludes the first (warm-up) step. Memory: `tfPeakBytes` is TF.js's peak tensor bytes during a step
 * (tf.profile, frozen CLIP weights included) and `maxRssBytes` the measuring process' max resident set size.
 * Measured here (2 shared cores, tfjs 4.22): a ViT-B/32 DPT step does not fit the 4 GB wasm heap with 10 classes even
 * at batch 2 (the autograd tape costs roughly 0.35 GB per image and per class prompt); `--classes 2` fits at batch 4.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { PythonRandom } from '../data/python-random.ts';
import { activateBackend, type BackendName } from '../dpt/backend.ts';
import type { ClipConfig } from '../dpt/clip/config.ts';
import { ClipModel, ClipTokenizer, loadClip } from '../dpt/clip/index.ts';
import { type CanonicalWeights, expectedOpenAi } from '../dpt/clip/weights.ts';
import { PromptedClip } from '../dpt/methods/model.ts';
import { Sgd } from '../dpt/optim/sgd.ts';
import { PARAM_GROUPS } from '../dpt/params.ts';
import { trainBatch } from '../dpt/trainer/step.ts';
import { parseTrialConfig, type TrialConfig } from '../dpt/trial-config.ts';

const root = path.resolve(import.meta.dirname, '..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const VIT_B32: ClipConfig = {
  vision: {
    width: 768,
    layers: 12,
    heads: 12,
    mlpDim: 3072,
    patchSize: 32,
    imageSize: 224,
    layerNormEps: 1e-5,
    activation: 'quick_gelu',
  },
  text: {
    width: 512,
    layers: 12,
    heads: 8,
    mlpDim: 2048,
    contextLength: 77,
    vocabSize: 49408,
    layerNormEps: 1e-5,
    activation: 'quick_gelu',
  },
  projDim: 512,
  source: 'bench',
};

/** Deterministic pseudo-random weights at CLIP-like scale (LayerNorm gains 1); values do not affect speed. */
function randomWeights(config: ClipConfig): CanonicalWeights {
  let state = 12345;
  const weights: CanonicalWeights = new Map();
  for (const [name, shape] of expectedOpenAi(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (/ln_.*weight|ln_(pre|post|final)\.weight/.test(name)) data.fill(1);
    else if (name === 'logit_scale') data.fill(Math.log(100));
    else {
      for (let i = 0; i < n; i++) {
        state = (state * 1103515245 + 12345) >>> 0;
        data[i] = (state / 2 ** 32 - 0.5) * 0.04;
      }
    }
    weights.set(name, { shape, data });
  }
  return weights;
}

interface Measurement {
  model: string;
  backend: string;
  batch: number;
  steps: number;
  imagesPerSecond?: number;
  secondsPerStep?: number;
  tfPeakBytes?: number;
  maxRssBytes: number;
  trainableParameters?: number;
  note?: string;
  error?: string;
}

async function measure(
  modelName: string,
  backend: BackendName,
  load: () => Promise<{ model: ClipModel; tokenizer: ClipTokenizer }>,
  config: TrialConfig,
  classes: string[],
  batch: number,
  steps: number,
): Promise<Measurement> {
  await activateBackend(backend);
  const { model: clip, tokenizer } = await load();
  const rng = new PythonRandom(1);
  const dpt = new PromptedClip(clip, tokenizer, config, classes.length, rng);
  const ctx = dpt.buildClassContext(classes, 'a photo of a {}.');
  const sgd = new Sgd(PARAM_GROUPS.map((name) => ({ name, params: dpt.store.inGroup(name) })));
  const size = clip.vision.imageSize;
  const pixels = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const labels = Int32Array.from({ length: batch }, (_, i) => i % classes.length);
  const times: number[] = [];
  let peak = 0;
  try {
    for (let s = 0; s < steps + 1; s++) {
      const t0 = performance.now();
      const info = await tf.profile(() => {
        trainBatch(dpt, sgd, ctx, pixels, labels, 0, s, config.loss, { visual: 1e-3, cavpt: 1e-3, text: 1e-3 });
      });
      peak = Math.max(peak, info.peakBytes);
      if (s > 0) times.push((performance.now() - t0) / 1000);
    }
    const perStep = times.reduce((a, b) => a + b, 0) / times.length;
    return {
      model: modelName,
      backend,
      batch,
      steps,
      imagesPerSecond: batch / perStep,
      secondsPerStep: perStep,
      tfPeakBytes: peak,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      trainableParameters: dpt.store.count(),
    };
  } finally {
    pixels.dispose();
    sgd.dispose();
    ctx.dispose();
    dpt.dispose();
    clip.dispose();
  }
}

const backends = arg('backends', 'wasm,cpu').split(',') as BackendName[];
const steps = Number(arg('steps', '3'));
const cpuSteps = Number(arg('cpu-steps', '1'));
const numClasses = Number(arg('classes', '10'));
const tinyClasses = ['red', 'green', 'blue', 'yellow'];
const bigClasses = Array.from({ length: numClasses }, (_, i) => `class ${i}`);
const base = { dataset: 'eurosat', root: '/unused', shots: 16, seed: 1, model: '/unused', preset: 'none' as const };
const tinyConfig = parseTrialConfig({
  ...base,
  method: 'dpt',
  text: { nCtx: 4 },
  loss: { warmupEpochs: 30 },
  optim: { epochs: 100, lrWarmupEpochs: 10 },
});
const vitConfig = parseTrialConfig({
  ...base,
  method: 'dpt',
  loss: { warmupEpochs: 30 },
  optim: { epochs: 100, lrWarmupEpochs: 10 },
});
const loadTiny = async () => {
  const { model, tokenizer } = await loadClip(path.join(root, 'test/fixtures/clip/tiny-a-hf'));
  return { model, tokenizer };
};
const loadVit = async () => ({
  model: new ClipModel(VIT_B32, randomWeights(VIT_B32)),
  tokenizer: await ClipTokenizer.fromFile(path.join(root, 'test/fixtures/clip/tokenizer-full/tokenizer.json.gz'), 77),
});

/**
 * The wasm heap aborts the whole process when it runs out (emscripten abort, not a catchable error), so every
 * measurement runs in its own child process and the parent collects one JSON line from each.
 */
async function runChild(
  backend: string,
  which: 'tiny' | 'vit',
  batch: number,
  stepsHere: number,
): Promise<Measurement> {
  const args = [
    '--import',
    'tsx',
    import.meta.filename,
    '--one',
    `${backend}:${which}:${batch}:${stepsHere}`,
    '--classes',
    String(numClasses),
  ];
  return new Promise((resolve) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 20, timeout: 30 * 60_000 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').at(-1);
      if (!err && line) {
        resolve(JSON.parse(line) as Measurement);
        return;
      }
      const reason =
        /RuntimeError: [^\n]*/.exec(stderr)?.[0] ?? /Error: [^\n]*/.exec(stderr)?.[0] ?? err?.message ?? 'no output';
      resolve({ model: which, backend, batch, steps: 0, maxRssBytes: 0, error: reason.slice(0, 300) });
    });
  });
}

const one = arg('one', '');
if (one) {
  const [backend, which, batchText, stepsText] = one.split(':') as [BackendName, 'tiny' | 'vit', string, string];
  const m =
    which === 'tiny'
      ? await measure(
          'tiny-a (ViT 2×32, 32px, 4 classes)',
          backend,
          loadTiny,
          tinyConfig,
          tinyClasses,
          Number(batchText),
          Number(stepsText),
        )
      : await measure(
          `ViT-B/32-shaped, random weights, ${numClasses} classes`,
          backend,
          loadVit,
          vitConfig,
          bigClasses,
          Number(batchText),
          Number(stepsText),
        );
  process.stdout.write(`${JSON.stringify(m)}\n`);
} else {
  const results: Measurement[] = [];
  for (const backend of backends) {
    const stepsHere = backend === 'cpu' ? cpuSteps : steps;
    results.push(await runChild(backend, 'tiny', 32, stepsHere));
    const candidates = backend === 'cpu' ? [Number(arg('cpu-batch', '2'))] : [32, 16, 8, 4, 2];
    for (const batch of candidates) {
      const m = await runChild(backend, 'vit', batch, stepsHere);
      if (!m.error && batch !== 32) {
        m.note =
          backend === 'cpu'
            ? `cpu: batch 32 not attempted (about 100× slower than PyTorch); measured at batch ${batch}, ${stepsHere} timed step(s)`
            : `batch 32 failed (see the entries before); measured at batch ${batch}`;
      }
      results.push(m);
      if (!m.error) break;
    }
  }
  process.stdout.write(`${JSON.stringify({ bench: 'dpt-train-step', node: process.version, results }, null, 2)}\n`);
}
