/**
 * Peak memory of one DPT training step against the class count, chunked (checkpointed) text features against the
 * old unchunked path, printed as JSON:
 *   npx tsx bench/text-memory.ts [--classes 100,397,1000] [--modes chunked,unchunked] [--batch 32] [--chunk 16]
 *     [--max-rss-gb N]
 * ViT-B/16-shaped CLIP with random frozen weights (vision 768×12, 12 heads, patch 16, 224 px; text 512×12, 8 heads,
 * 77 tokens; projection 512), default DPT (text ctx 16, VPT 10, CAVPT in the last block with K_N 10), random pixels,
 * one full step (zero-shot forward, text tower over all classes with gradient, prompted image encoder with gradient,
 * SGD) on the native backend (tfjs-node).
 *
 * Each case runs in its own child process so `maxRssBytes` (process.resourceUsage().maxRSS) is that case's peak: the
 * figure to compare. `tfPeakBytes` is TF.js's peak of live tensor bytes (frozen weights included); it counts every
 * tensor it hands out, while on tfjs-node several of them (reshapes, for one) can share one native buffer, so it runs
 * above the RSS, and the backend's scratch memory shows in the RSS only.
 *
 * A case that would not fit is stopped before the machine runs dry: the parent kills a child whose RSS passes
 * --max-rss-gb (default: what was available at start, less 1.5 GiB) or when the machine's available memory falls
 * under 1 GiB, and each child asks the kernel's OOM killer to pick it first; such a case is recorded with an `error`
 * and the largest RSS seen.
 *
 * On a 24 GiB machine a ViT-B/16 step at batch 32 does not fit even with 10 classes (the vision tower's tape alone:
 * stopped near 20 GiB RSS), so there the text cost is measured at --batch 8; the text tower's share does not depend
 * on the batch. Measured so (2 shared cores, tfjs 4.22, chunk 16): peak RSS 12.0 / 11.9 / 11.9 / 12.2 / 12.4 GB
 * chunked for 32 / 50 / 100 / 397 / 1000 classes; unchunked 14.8 GB for 32 classes (the same loss), and stopped
 * out of memory from 50 classes on. The 1000-class chunked step took about 5 minutes.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { PythonRandom } from '../data/python-random.ts';
import { activateBackend } from '../dpt/backend.ts';
import { ClipModel, ClipTokenizer, MODEL_CONFIGS } from '../dpt/clip/index.ts';
import { PromptedClip } from '../dpt/methods/model.ts';
import { Sgd } from '../dpt/optim/sgd.ts';
import { PARAM_GROUPS } from '../dpt/params.ts';
import { TEXT_CHUNK_SIZE } from '../dpt/text-chunks.ts';
import { trainBatch } from '../dpt/trainer/step.ts';
import { parseTrialConfig } from '../dpt/trial-config.ts';
import { arg } from './harness.ts';
import { randomClipWeights } from './random-clip.ts';

const root = path.resolve(import.meta.dirname, '..');
const GIB = 1024 ** 3;

const VIT_B16 = MODEL_CONFIGS['ViT-B-16'];

type Mode = 'chunked' | 'unchunked';

interface Case {
  classes: number;
  mode: Mode;
  /** classes per text-tower pass; null for the unchunked path */
  chunkSize: number | null;
  batch: number;
  secondsForStep?: number;
  /** the step's loss: chunked and unchunked agree up to float rounding */
  loss?: number;
  /** TF.js live tensor bytes once the model, class context and optimizer exist, before the step */
  tfBytesBeforeStep?: number;
  tfPeakBytes?: number;
  /** resident set size before the step (frozen weights, class context) */
  rssBeforeStepBytes?: number;
  maxRssBytes: number;
  error?: string;
}

/**
 * TF.js's peak of live tensor bytes without tf.profile: profiling reads every kernel's output back to JavaScript
 * (its NaN check), which would inflate the very RSS measured here. The engine only ever adds to and subtracts from
 * `state.numBytes`, so an accessor on that field sees every change.
 */
function trackTensorBytes(): { peak: () => number; reset: () => void } {
  const state = tf.engine().state;
  let bytes = state.numBytes;
  let peak = bytes;
  Object.defineProperty(state, 'numBytes', {
    configurable: true,
    enumerable: true,
    get: () => bytes,
    set: (value: number) => {
      bytes = value;
      if (value > peak) peak = value;
    },
  });
  return {
    peak: () => peak,
    reset: () => {
      peak = bytes;
    },
  };
}

async function measure(classes: number, mode: Mode, batch: number, chunk: number): Promise<Case> {
  // If the kernel's OOM killer has to act, it should take this child, not someone else's process.
  try {
    writeFileSync('/proc/self/oom_score_adj', '1000');
  } catch {
    // not Linux, or not allowed: the parent's RSS watchdog still applies
  }
  await activateBackend('tensorflow');
  const chunkSize = mode === 'chunked' ? chunk : Number.POSITIVE_INFINITY;
  const clip = new ClipModel(VIT_B16, randomClipWeights(VIT_B16));
  const tokenizer = await ClipTokenizer.fromFile(
    path.join(root, 'test/fixtures/clip/tokenizer-full/tokenizer.json.gz'),
    VIT_B16.text.contextLength,
  );
  const config = parseTrialConfig({
    dataset: 'imagenet',
    root: '/unused',
    shots: 16,
    seed: 1,
    model: '/unused',
    preset: 'none',
    method: 'dpt',
    loss: { warmupEpochs: 30 },
    optim: { epochs: 100, lrWarmupEpochs: 10 },
  });
  const names = Array.from({ length: classes }, (_, i) => `class ${i}`);
  const model = new PromptedClip(clip, tokenizer, config, classes, new PythonRandom(1), { textChunkSize: chunkSize });
  const ctx = model.buildClassContext(names, 'a photo of a {}.');
  const sgd = new Sgd(PARAM_GROUPS.map((name) => ({ name, params: model.store.inGroup(name) })));
  const size = VIT_B16.vision.imageSize;
  const pixels = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const labels = Int32Array.from({ length: batch }, (_, i) => (i * 31) % classes);
  const tensorBytes = trackTensorBytes();
  const tfBytesBeforeStep = tf.memory().numBytes;
  const rssBeforeStepBytes = process.memoryUsage().rss;
  tensorBytes.reset();
  const t0 = performance.now();
  const { loss } = trainBatch(model, sgd, ctx, pixels, labels, 0, 0, config.loss, {
    visual: 1e-3,
    cavpt: 1e-3,
    text: 1e-3,
  });
  const secondsForStep = (performance.now() - t0) / 1000;
  return {
    classes,
    mode,
    chunkSize: mode === 'chunked' ? chunk : null,
    batch,
    secondsForStep: Number(secondsForStep.toFixed(1)),
    loss,
    tfBytesBeforeStep,
    tfPeakBytes: tensorBytes.peak(),
    rssBeforeStepBytes,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

function meminfoBytes(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.POSITIVE_INFINITY;
}

function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

function rssOf(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0; // already gone
  }
}

/** One case in a child process, watched: killed (and recorded as failed) before it can exhaust the machine. */
function runChild(classes: number, mode: Mode, batch: number, chunk: number, maxRss: number): Promise<Case> {
  const args = [
    '--import',
    'tsx',
    import.meta.filename,
    '--one',
    `${classes}:${mode}`,
    '--batch',
    String(batch),
    '--chunk',
    String(chunk),
  ];
  const failed = (error: string, rss: number): Case => ({
    classes,
    mode,
    chunkSize: mode === 'chunked' ? chunk : null,
    batch,
    maxRssBytes: rss,
    error,
  });
  return new Promise((resolve) => {
    let seen = 0;
    let stopped: string | undefined;
    const child = execFile(process.execPath, args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      clearInterval(watch);
      const line = stdout.trim().split('\n').at(-1);
      if (!err && line) {
        resolve(JSON.parse(line) as Case);
        return;
      }
      const signal = err?.signal;
      const reason =
        stopped ??
        (signal === 'SIGKILL'
          ? 'killed (SIGKILL: out of memory)'
          : (/(RangeError|Error|std::bad_alloc)[^\n]*/.exec(stderr)?.[0] ?? err?.message ?? 'no output'));
      resolve(failed(reason.slice(0, 300), seen));
    });
    const watch = setInterval(() => {
      if (child.pid === undefined || stopped) return;
      const rss = rssOf(child.pid);
      seen = Math.max(seen, rss);
      const available = meminfoBytes('MemAvailable');
      if (rss > maxRss || available < 1 * GIB) {
        stopped =
          rss > maxRss
            ? `out of memory: stopped at ${gib(rss)} RSS, over the ${gib(maxRss)} budget`
            : `out of memory: stopped at ${gib(rss)} RSS with ${gib(available)} left on the machine`;
        child.kill('SIGKILL');
      }
    }, 200);
  });
}

const batch = Number(arg('batch', '32'));
const chunk = Number(arg('chunk', String(TEXT_CHUNK_SIZE)));
const one = arg('one', '');
if (one) {
  const [classesText, mode] = one.split(':') as [string, Mode];
  process.stdout.write(`${JSON.stringify(await measure(Number(classesText), mode, batch, chunk))}\n`);
} else {
  const classCounts = arg('classes', '100,397,1000').split(',').map(Number);
  const modes = arg('modes', 'chunked,unchunked').split(',') as Mode[];
  const budgetGb = arg('max-rss-gb', '');
  const maxRss = budgetGb ? Number(budgetGb) * GIB : meminfoBytes('MemAvailable') - 1.5 * GIB;
  const results: Case[] = [];
  for (const classes of classCounts) {
    for (const mode of modes) {
      const r = await runChild(classes, mode, batch, chunk, maxRss);
      process.stderr.write(`${JSON.stringify(r)}\n`);
      results.push(r);
    }
  }
  const summary = {
    bench: 'dpt-text-memory',
    model: 'ViT-B/16-shaped CLIP, random weights',
    backend: 'tensorflow',
    node: process.version,
    memTotalBytes: meminfoBytes('MemTotal'),
    rssBudgetBytes: Math.round(maxRss),
    results,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}
