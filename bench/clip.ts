/**
 * ViT-B/32 vision-tower throughput, TF.js backends and PyTorch side by side, printed as one JSON document:
 *   npx tsx bench/clip.ts [--batch 32] [--backends tensorflow,wasm] [--wasm-batch N] [--cpu-batch 2] [--prompts 10]
 *                         [--warmup 1] [--reps 3] [--torch auto|on|off] [--torch-threads 2]
 * Random frozen weights; forward, and forward + backward to `--prompts` tokens appended before every block (VPT-deep,
 * what the trainer optimises; the same variable in every block). Gradients reach only the prompts, as in training.
 *
 * Method: each backend runs in its own child process; it first runs `--warmup` forward passes AND `--warmup`
 * forward+backward passes at the timed batch (a warm-up at batch 1, or of the forward pass only, leaves the backward
 * kernels' first-call set-up and the allocator's growth inside the timing: it understated forward+backward by about
 * 2.5× on tfjs-node), then times `--reps` of each and reports the best (the least disturbed by other work on a shared
 * machine) beside all of them. Timings end when the outputs (features; loss and gradients) have been read back.
 *
 * wasm cannot hold batch 32 or 16 (its 4 GB heap aborts: 'Aborted()', 'memory access out of bounds'; 8 fits, with 10
 * prompts); it is tried from `--wasm-batch` (default: the batch) down by halves, each failure reported with its
 * reason, and the largest batch that works is timed and marked. cpu is timed at `--cpu-batch` (about 100× slower than PyTorch), also marked.
 *
 * PyTorch (tools/reference/bench_clip_torch.py, same shapes through transformers' CLIP modules, `--torch-threads`
 * threads) runs when tools/reference/.venv exists (tools/reference/setup.sh), at every batch a TF.js backend was timed
 * at, right after that backend, so that each ratio compares equal batches measured close together in time.
 */
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { activateBackend, BACKEND_NAMES, type BackendName } from '../dpt/backend.ts';
import type { VisionConfig } from '../dpt/clip/config.ts';
import { WeightStore } from '../dpt/clip/layers.ts';
import { MODEL_CONFIGS } from '../dpt/clip/model-configs.ts';
import { VisionTower } from '../dpt/clip/vision.ts';
import type { CanonicalWeights } from '../dpt/clip/weights.ts';
import {
  arg,
  hostConditions,
  load1,
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

const VIT_B32 = MODEL_CONFIGS['ViT-B-32'].vision;
const PROJ_DIM = MODEL_CONFIGS['ViT-B-32'].projDim;

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

/** Seconds until every output has been read back (reading forces the backend to finish the work). */
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

/** One row of the report; `status` says whether the backend could run the batch at all. */
interface Row {
  backend: string;
  batch: number;
  status: 'ok' | 'failed';
  error?: string;
  note?: string;
  prompt_tokens_per_layer?: number;
  matmul_512_gflops?: number;
  forward_seconds?: number;
  forward_img_per_s?: number;
  forward_backward_seconds?: number;
  forward_backward_img_per_s?: number;
  forward_seconds_all?: number[];
  forward_backward_seconds_all?: number[];
  warmup_seconds?: number;
  max_rss_bytes?: number;
  loadavg_1min_before?: number;
  child_wall_seconds?: number;
}

async function benchBackend(name: BackendName, batch: number, prompts: number, warmup: number, reps: number) {
  await activateBackend(name);
  const store = new WeightStore(randomVisionWeights(VIT_B32));
  const vision = new VisionTower(VIT_B32, store);
  const gflops = await matmulGflops();
  const pixels = tf.randomNormal([batch, VIT_B32.imageSize, VIT_B32.imageSize, 3]) as tf.Tensor4D;
  const promptTokens = tf.variable(tf.randomNormal([batch, prompts, VIT_B32.width], 0, 0.02));
  const inject = () => promptTokens as unknown as tf.Tensor3D;
  const forward = () => tf.tidy(() => vision.encode(pixels, inject));
  const forwardBackward = () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(vision.encode(pixels, inject)) as tf.Scalar, [promptTokens]);
    return [value, ...Object.values(grads)];
  };
  const w0 = performance.now();
  for (let i = 0; i < warmup; i++) {
    await timeIt(forward);
    await timeIt(forwardBackward);
  }
  const warmupSeconds = (performance.now() - w0) / 1000;
  const fwd: number[] = [];
  const fb: number[] = [];
  for (let i = 0; i < reps; i++) fwd.push(await timeIt(forward));
  for (let i = 0; i < reps; i++) fb.push(await timeIt(forwardBackward));
  tf.dispose([pixels, promptTokens]);
  store.dispose();
  const bestF = Math.min(...fwd);
  const bestFb = Math.min(...fb);
  const row: Row = {
    backend: name,
    batch,
    status: 'ok',
    prompt_tokens_per_layer: prompts,
    matmul_512_gflops: round(gflops),
    forward_seconds: round(bestF),
    forward_img_per_s: round(batch / bestF),
    forward_backward_seconds: round(bestFb),
    forward_backward_img_per_s: round(batch / bestFb),
    forward_seconds_all: fwd.map(round),
    forward_backward_seconds_all: fb.map(round),
    warmup_seconds: round(warmupSeconds),
    max_rss_bytes: process.resourceUsage().maxRSS * 1024,
  };
  return row;
}

interface TorchJson {
  backend: string;
  batch: number;
  matmul_512_gflops: number;
  forward_seconds: number;
  forward_img_per_s: number;
  forward_backward_seconds: number;
  forward_backward_img_per_s: number;
  forward_seconds_all: number[];
  forward_backward_seconds_all: number[];
  warmup_seconds: number;
  max_rss_bytes: number;
}

const batch = positiveInt('batch', 32);
const prompts = positiveInt('prompts', 10);
const warmup = positiveInt('warmup', 1);
const reps = positiveInt('reps', 3);
const torchThreads = positiveInt('torch-threads', 2);
const limitMs = positiveInt('child-timeout-s', 1800) * 1000;

const one = arg('one', '');
if (one) {
  // Child mode: one backend at one batch, one JSON line on stdout.
  const [backend, batchText] = one.split(':') as [BackendName, string];
  const row = await benchBackend(backend, Number(batchText), prompts, warmup, reps);
  process.stdout.write(`${JSON.stringify(row)}\n`);
} else {
  const backends = arg('backends', 'tensorflow,wasm').split(',') as BackendName[];
  for (const b of backends) {
    if (!(BACKEND_NAMES as readonly string[]).includes(b)) throw new Error(`unknown backend ${b}`);
  }
  const python = referencePython();
  const mode = torchMode();
  if (mode === 'on' && !python)
    throw new Error('--torch on: tools/reference/.venv is missing (tools/reference/setup.sh)');
  const runTorch = mode !== 'off' && python !== undefined;
  const conditions = hostConditions();
  const results: Row[] = [];
  const torchAt = new Map<number, Row>();

  const torchRow = async (b: number): Promise<Row> => {
    const before = load1();
    const out = await runJsonChild<TorchJson>(
      python!,
      [
        `${repoRoot}/tools/reference/bench_clip_torch.py`,
        ...['--batch', String(b), '--prompts', String(prompts), '--threads', String(torchThreads)],
        ...['--warmup', String(warmup), '--reps', String(reps)],
      ],
      { timeoutMs: limitMs, env: torchEnv(torchThreads) },
    );
    const base = { backend: 'pytorch', batch: b, loadavg_1min_before: before, child_wall_seconds: out.wallSeconds };
    return out.ok
      ? { ...out.value, ...base, backend: out.value.backend, status: 'ok', prompt_tokens_per_layer: prompts }
      : { ...base, status: 'failed', error: out.error };
  };

  for (const name of backends) {
    // wasm: try smaller batches until one fits its heap; cpu: one small batch; native: the batch asked for.
    const first = positiveInt(`${name}-batch`, name === 'cpu' ? 2 : batch);
    const ladder = name === 'wasm' ? halves(first) : [first];
    let timed: Row | undefined;
    for (const b of ladder) {
      const before = load1();
      const out = await runJsonChild<Row>(process.execPath, tsxArgs(import.meta.filename, childFlags(name, b)), {
        timeoutMs: limitMs,
      });
      const row: Row = out.ok
        ? { ...out.value, loadavg_1min_before: before, child_wall_seconds: out.wallSeconds }
        : { backend: name, batch: b, status: 'failed', error: out.error, child_wall_seconds: out.wallSeconds };
      if (out.ok && b !== batch) {
        row.note =
          name === 'cpu'
            ? `timed at batch ${b} (--cpu-batch), not ${batch}: the cpu backend is far too slow for it`
            : `largest batch that ran (tried from ${first} down by halves; failures above); not batch ${batch}`;
      }
      results.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
      if (out.ok) {
        timed = row;
        break;
      }
    }
    if (runTorch && timed && !torchAt.has(timed.batch)) {
      const t = await torchRow(timed.batch);
      torchAt.set(timed.batch, t);
      results.push(t);
      process.stderr.write(`${JSON.stringify(t)}\n`);
    }
  }

  // tfjs / PyTorch at equal batches; tfjs backends against each other at the batch each could run.
  const ratios: Record<string, unknown> = {};
  const okRows = results.filter((r) => r.status === 'ok' && !r.backend.startsWith('pytorch'));
  for (const r of okRows) {
    const t = torchAt.get(r.batch);
    if (t?.status !== 'ok') continue;
    ratios[`${r.backend}/pytorch`] = {
      batch: r.batch,
      forward: ratio(r.forward_img_per_s, t.forward_img_per_s),
      forward_backward: ratio(r.forward_backward_img_per_s, t.forward_backward_img_per_s),
    };
  }
  for (let i = 0; i < okRows.length; i++) {
    for (let j = i + 1; j < okRows.length; j++) {
      const a = okRows[i]!;
      const b = okRows[j]!;
      ratios[`${a.backend}/${b.backend}`] = {
        batches: `${a.batch} vs ${b.batch}`,
        forward: ratio(a.forward_img_per_s, b.forward_img_per_s),
        forward_backward: ratio(a.forward_backward_img_per_s, b.forward_backward_img_per_s),
      };
    }
  }
  console.log(
    JSON.stringify(
      {
        bench: 'clip-vision-tower',
        model: 'ViT-B/32 vision tower (768 wide, 12 blocks, 50 tokens + prompts), random frozen weights',
        method:
          `per backend one child process; ${warmup} forward + ${warmup} forward+backward warm-up at the timed batch, ` +
          `then best of ${reps} of each; img/s = batch / best seconds`,
        pytorch: runTorch
          ? `tools/reference/bench_clip_torch.py, ${torchThreads} threads (${torchEnvSummary(torchThreads)}), same warm-up and reps`
          : `skipped (${mode === 'off' ? '--torch off' : 'no tools/reference/.venv; run tools/reference/setup.sh'})`,
        conditions: { ...conditions, loadavg_1_5_15_end: hostConditions().loadavg_1_5_15 },
        results,
        ratios,
      },
      null,
      2,
    ),
  );
}

function halves(from: number): number[] {
  const out: number[] = [];
  for (let b = from; b >= 1; b = Math.floor(b / 2)) out.push(b);
  return out;
}

function childFlags(name: string, b: number): string[] {
  return [
    ...['--one', `${name}:${b}`, '--prompts', String(prompts)],
    ...['--warmup', String(warmup), '--reps', String(reps)],
  ];
}
