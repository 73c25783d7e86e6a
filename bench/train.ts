/**
 * DPT training throughput and memory, TF.js backends and a PyTorch twin side by side, printed as one JSON document:
 *   npx tsx bench/train.ts [--backends tensorflow,wasm] [--models tiny,vit] [--batch 32[,128…]] [--classes 10]
 *                          [--warmup 1] [--steps 3] [--cpu-steps 1] [--cpu-batch 2] [--fallback wasm]
 *                          [--torch auto|on|off] [--torch-threads 2] [--child-timeout-s 1800]
 * Two models: the tiny CLIP fixture (test/fixtures/clip/tiny-a-hf) and a ViT-B/32-shaped CLIP (vision 768×12, text
 * 512×12, 77-token context) with random frozen weights. Default DPT (text ctx 16, VPT 10 in blocks 1..11, CAVPT in
 * block 12 with K_N 10, α 0.3), one full optimisation step per batch: zero-shot forward for the top-K selector, text
 * encoder over all classes with gradient, prompted image encoder with gradient, SGD. Random pixels (no image
 * decoding), so this is the model's cost only.
 *
 * Method: each (backend, model, batch) runs in its own child process. `--warmup` whole steps at the timed batch come
 * first (forward and backward both warmed: first-call kernel set-up and allocator growth stay out of the timing); the
 * first of them runs under tf.profile for `tfPeakBytes`, TF.js's peak tensor bytes during a step (frozen CLIP weights
 * included). Then `--steps` timed steps, each ending when the updated parameters have been read back (on a GPU the
 * SGD updates are otherwise still queued); `imagesPerSecond` is from the best of them (the least disturbed on a shared
 * machine), every timing is listed beside it. `maxRssBytes` is the child's max resident set size.
 * Each `--batch` is timed; where a backend named in `--fallback` (default wasm: its 4 GB heap aborts) fails at one,
 * smaller batches are tried by halves down to 2 and the figure is marked with the batch that was measured. cpu is timed
 * at `--cpu-batch` only (about 100× slower than PyTorch).
 *
 * PyTorch: tools/reference/bench_train_torch.py times the same ViT-B/32-shaped DPT step (see its docstring) with the
 * same warm-up and best-of-N, `--torch-threads` threads, when tools/reference/.venv exists (tools/reference/setup.sh),
 * right after each TF.js ViT measurement and at its batch; each such row carries `vsPytorch`, tfjs img/s ÷ PyTorch's.
 * On a GPU this is CPU PyTorch, so pass `--torch off` there.
 *
 * Measured here (2 shared cores, tfjs 4.22): a ViT-B/32 DPT step does not fit the 4 GB wasm heap with 10 classes even
 * at batch 2 (the autograd tape costs roughly 0.35 GB per image and per class prompt); `--classes 2` fits at batch 4.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { PythonRandom } from '../data/python-random.ts';
import { activateBackend, BACKEND_NAMES, type BackendName } from '../dpt/backend.ts';
import { ClipModel, ClipTokenizer, loadClip, MODEL_CONFIGS } from '../dpt/clip/index.ts';
import { PromptedClip } from '../dpt/methods/model.ts';
import { Sgd } from '../dpt/optim/sgd.ts';
import { PARAM_GROUPS } from '../dpt/params.ts';
import { trainBatch } from '../dpt/trainer/step.ts';
import { parseTrialConfig, type TrialConfig } from '../dpt/trial-config.ts';
import {
  arg,
  hostConditions,
  intList,
  load1,
  nativeDeviceLines,
  positiveInt,
  ratio,
  referencePython,
  repoRoot,
  round,
  runJsonChild,
  torchEnv,
  torchEnvSummary,
  torchMode,
  tsxArgs,
} from './harness.ts';
import { randomClipWeights } from './random-clip.ts';

const root = repoRoot;

const VIT_B32 = MODEL_CONFIGS['ViT-B-32'];

interface Measurement {
  model: string;
  backend: string;
  batch: number;
  steps: number;
  status: 'ok' | 'failed';
  /** the TF.js backend that actually ran (both native packages register as 'tensorflow') */
  tfBackend?: string;
  imagesPerSecond?: number;
  secondsPerStep?: number;
  secondsPerStepAll?: number[];
  meanSecondsPerStep?: number;
  warmupSeconds?: number[];
  tfPeakBytes?: number;
  maxRssBytes: number;
  trainableParameters?: number;
  /** libtensorflow's own lines about its devices (GPU created, or no CUDA driver) */
  nativeDeviceLog?: string[];
  vsPytorch?: { batch: number; imagesPerSecond?: number };
  loadavg1minBefore?: number;
  childWallSeconds?: number;
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
  warmup: number,
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
  const lrs = { visual: 1e-3, cavpt: 1e-3, text: 1e-3 };
  let stepIndex = 0;
  const step = () => {
    trainBatch(dpt, sgd, ctx, pixels, labels, 0, stepIndex, config.loss, lrs);
    stepIndex += 1;
  };
  // Reading the parameters back waits for the last SGD assignment; the loss read inside trainBatch comes before it.
  const settle = () => Promise.all(dpt.store.list().map((p) => p.variable.data()));
  try {
    const warm: number[] = [];
    let peak = 0;
    for (let w = 0; w < warmup; w++) {
      const t0 = performance.now();
      if (w === 0) peak = (await tf.profile(step)).peakBytes;
      else step();
      await settle();
      warm.push((performance.now() - t0) / 1000);
    }
    const times: number[] = [];
    for (let s = 0; s < steps; s++) {
      const t0 = performance.now();
      step();
      await settle();
      times.push((performance.now() - t0) / 1000);
    }
    const best = Math.min(...times);
    return {
      model: modelName,
      backend,
      batch,
      steps,
      status: 'ok',
      tfBackend: tf.getBackend(),
      imagesPerSecond: round(batch / best),
      secondsPerStep: round(best),
      secondsPerStepAll: times.map(round),
      meanSecondsPerStep: round(times.reduce((a, b) => a + b, 0) / times.length),
      warmupSeconds: warm.map(round),
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

const steps = positiveInt('steps', 3);
const cpuSteps = positiveInt('cpu-steps', 1);
const warmup = positiveInt('warmup', 1);
const numClasses = positiveInt('classes', 10);
const torchThreads = positiveInt('torch-threads', 2);
const limitMs = positiveInt('child-timeout-s', 1800) * 1000;
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
  model: new ClipModel(VIT_B32, randomClipWeights(VIT_B32)),
  tokenizer: await ClipTokenizer.fromFile(
    path.join(root, 'test/fixtures/clip/tokenizer-full/tokenizer.json.gz'),
    VIT_B32.text.contextLength,
  ),
});
const tinyName = 'tiny-a (ViT 2×32, 32px, 4 classes)';
const vitName = `ViT-B/32-shaped, random weights, ${numClasses} classes`;

async function runChild(backend: string, which: 'tiny' | 'vit', batch: number, stepsHere: number) {
  const before = load1();
  const out = await runJsonChild<Measurement>(
    process.execPath,
    tsxArgs(import.meta.filename, [
      ...['--one', `${backend}:${which}:${batch}:${stepsHere}`],
      ...['--classes', String(numClasses), '--warmup', String(warmup)],
    ]),
    { timeoutMs: limitMs },
  );
  const deviceLog = backend.startsWith('tensorflow') ? nativeDeviceLines(out.stderr) : [];
  const common = {
    loadavg1minBefore: before,
    childWallSeconds: out.wallSeconds,
    ...(deviceLog.length > 0 ? { nativeDeviceLog: deviceLog } : {}),
  };
  const m: Measurement = out.ok
    ? { ...out.value, ...common }
    : {
        model: which === 'tiny' ? tinyName : vitName,
        backend,
        batch,
        steps: 0,
        status: 'failed',
        maxRssBytes: 0,
        error: out.error,
        ...common,
      };
  process.stderr.write(`${JSON.stringify(m)}\n`);
  return m;
}

interface TorchTrainJson {
  model: string;
  backend: string;
  batch: number;
  steps: number;
  imagesPerSecond: number;
  secondsPerStep: number;
  secondsPerStepAll: number[];
  warmupSeconds: number[];
  maxRssBytes: number;
  trainableParameters: number;
}

async function runTorch(python: string, batch: number): Promise<Measurement> {
  const before = load1();
  const out = await runJsonChild<TorchTrainJson>(
    python,
    [
      path.join(root, 'tools/reference/bench_train_torch.py'),
      ...['--batch', String(batch), '--classes', String(numClasses), '--threads', String(torchThreads)],
      ...['--warmup', String(warmup), '--reps', String(steps)],
    ],
    { timeoutMs: limitMs, env: torchEnv(torchThreads) },
  );
  const m: Measurement = out.ok
    ? { ...out.value, status: 'ok', loadavg1minBefore: before, childWallSeconds: out.wallSeconds }
    : {
        model: 'ViT-B/32-shaped DPT step (PyTorch twin)',
        backend: `pytorch, ${torchThreads} threads`,
        batch,
        steps: 0,
        status: 'failed',
        maxRssBytes: 0,
        error: out.error,
        loadavg1minBefore: before,
        childWallSeconds: out.wallSeconds,
      };
  process.stderr.write(`${JSON.stringify(m)}\n`);
  return m;
}

function halvesDownTo2(from: number): number[] {
  const out: number[] = [];
  for (let b = from; b >= 2; b = Math.floor(b / 2)) out.push(b);
  return out.length > 0 ? out : [from];
}

const one = arg('one', '');
if (one) {
  const [backend, which, batchText, stepsText] = one.split(':') as [BackendName, 'tiny' | 'vit', string, string];
  const m =
    which === 'tiny'
      ? await measure(
          tinyName,
          backend,
          loadTiny,
          tinyConfig,
          tinyClasses,
          Number(batchText),
          Number(stepsText),
          warmup,
        )
      : await measure(vitName, backend, loadVit, vitConfig, bigClasses, Number(batchText), Number(stepsText), warmup);
  process.stdout.write(`${JSON.stringify(m)}\n`);
} else {
  const backends = arg('backends', 'tensorflow,wasm').split(',') as BackendName[];
  for (const b of backends) {
    if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new Error(`unknown backend ${b}`);
  }
  const models = arg('models', 'tiny,vit').split(',');
  for (const m of models) if (m !== 'tiny' && m !== 'vit') throw new Error(`--models takes tiny and/or vit, got ${m}`);
  const batches = intList('batch', '32');
  const fallback = arg('fallback', 'wasm').split(',');
  const python = referencePython();
  const mode = torchMode();
  if (mode === 'on' && !python)
    throw new Error('--torch on: tools/reference/.venv is missing (tools/reference/setup.sh)');
  const conditions = hostConditions();
  const results: Measurement[] = [];
  const torchAt = new Map<number, Measurement>();
  const ratios: Record<string, number | undefined> = {};
  for (const backend of backends) {
    const stepsHere = backend === 'cpu' ? cpuSteps : steps;
    if (models.includes('tiny')) results.push(await runChild(backend, 'tiny', 32, stepsHere));
    if (!models.includes('vit')) continue;
    const wanted = backend === 'cpu' ? [positiveInt('cpu-batch', 2)] : batches;
    for (const batch of wanted) {
      const ladder = fallback.includes(backend) ? halvesDownTo2(batch) : [batch];
      for (const b of ladder) {
        const m = await runChild(backend, 'vit', b, stepsHere);
        if (m.status === 'ok' && b !== batch) {
          m.note = `batch ${batch} failed (see the entries before); measured at batch ${b}`;
        } else if (m.status === 'ok' && backend === 'cpu') {
          m.note = `cpu: batch 32 not attempted (about 100× slower than PyTorch); measured at batch ${b}, ${stepsHere} timed step(s)`;
        }
        results.push(m);
        if (m.status !== 'ok') continue;
        if (mode !== 'off' && python) {
          let t = torchAt.get(b);
          if (!t) {
            t = await runTorch(python, b);
            torchAt.set(b, t);
            results.push(t);
          }
          if (t.status === 'ok') {
            m.vsPytorch = { batch: b, imagesPerSecond: ratio(m.imagesPerSecond, t.imagesPerSecond) };
            ratios[`${backend}/pytorch@batch${b}`] = m.vsPytorch.imagesPerSecond;
          }
        }
        break;
      }
    }
  }
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'dpt-train-step',
        node: process.version,
        method:
          `per measurement one child process; ${warmup} warm-up step(s) at the timed batch (the first profiled for ` +
          `tfPeakBytes), then best of --steps timed steps; img/s = batch / best seconds`,
        pytorch:
          mode !== 'off' && python
            ? `tools/reference/bench_train_torch.py, ${torchThreads} threads (${torchEnvSummary(torchThreads)}), same warm-up and steps`
            : `skipped (${mode === 'off' ? '--torch off' : 'no tools/reference/.venv; run tools/reference/setup.sh'})`,
        conditions: { ...conditions, loadavg_1_5_15_end: hostConditions().loadavg_1_5_15 },
        results,
        ratios,
      },
      null,
      2,
    )}\n`,
  );
}
