/**
 * Contrastive pretraining of a small CLIP on procedural image-caption pairs, with the project's own TF.js towers.
 *
 *   npx tsx tools/synth-clip/pretrain.ts --out examples/models/synth-clip --seed 0
 *
 * Writes into --out: tokenizer.json (BPE learned from sampled captions), config.json + model.safetensors (HF
 * CLIPModel layout), pretrain-log.jsonl (every --log-every steps) and zero-shot.json (the saved model reloaded with
 * loadClip and scored on the downstream tasks). Checkpoints go to --work every --checkpoint-every steps; --resume
 * continues from the last one. Progress lines go to stderr.
 */
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { clipEvalTransform, normalizeClip } from '../../data/image.ts';
import { PythonRandom, type PythonRandomState } from '../../data/python-random.ts';
import { encodePng, renderScene, sampleScene } from '../../data/synthetic/scene.ts';
import { initBackend } from '../../dpt/backend.ts';
import { type ClipConfig, configFromHf } from '../../dpt/clip/config.ts';
import { readSafetensorsIndex } from '../../dpt/clip/safetensors.ts';
import { hfConfigJson, saveHf } from '../../dpt/clip/save-hf.ts';
import { ClipTokenizer } from '../../dpt/clip/tokenizer.ts';
import { loadCanonical } from '../../dpt/clip/weights.ts';
import { useUntransposedWasmMatMul } from '../../dpt/wasm-matmul.ts';
import { AdamW, warmupCosine } from './adamw.ts';
import { readSkeleton, tokenizerJson, trainBpe } from './bpe.ts';
import { captionVariant } from './captions.ts';
import { pretrainRng, rgbaToRgb, sampleBatch } from './data.ts';
import { zeroShotReport } from './evaluate.ts';
import { initialWeights } from './init.ts';
import { captionTargets, meaningTargets, TrainableClip } from './trainable-clip.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SKELETON = join(ROOT, 'test/fixtures/clip/tokenizer-full/tokenizer.json.gz');

const int = (min: number) => z.coerce.number().int().min(min);
const argsSchema = z.object({
  out: z.string().min(1),
  work: z.string().optional(),
  seed: int(0).default(0),
  steps: int(1).default(4000),
  batch: int(2).default(128),
  lr: z.coerce.number().positive().default(1e-3),
  warmup: int(0).default(100),
  'weight-decay': z.coerce.number().min(0).default(0.1),
  'log-every': int(1).default(10),
  'checkpoint-every': int(1).default(100),
  'tokenizer-captions': int(100).default(20000),
  'vision-width': int(8).default(64),
  'vision-layers': int(1).default(3),
  'text-width': int(8).default(64),
  'text-layers': int(1).default(2),
  'head-width': int(8).default(32),
  'context-length': int(4).default(24),
  'patch-size': int(1).default(8),
  'image-size': int(8).default(48),
  'proj-dim': int(1).default(64),
  /**
   * caption: CLIP's targets, a caption is a positive only for its own image (and identical captions); meaning: for
   * every image it is true of, which trains each short phrase's embedding onto its class centroid, leaving a linear
   * probe nothing to add over the zero-shot prompt (the model card).
   */
  positives: z.enum(['meaning', 'caption']).default('caption'),
  resume: z.boolean().default(false),
  'skip-eval': z.boolean().default(false),
});
type Args = z.infer<typeof argsSchema>;

function parseCli(): Args {
  const { values } = parseArgs({
    options: Object.fromEntries(
      Object.keys(argsSchema.shape).map((k) => [
        k,
        { type: k === 'resume' || k === 'skip-eval' ? ('boolean' as const) : ('string' as const) },
      ]),
    ),
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`--${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

function log(line: string): void {
  process.stderr.write(`[synth-clip] ${line}\n`);
}

function modelConfig(a: Args, vocabSize: number): ClipConfig {
  const tower = (width: number, layers: number) => ({
    hidden_size: width,
    intermediate_size: width * 4,
    num_attention_heads: width / a['head-width'],
    num_hidden_layers: layers,
    hidden_act: 'quick_gelu',
  });
  return configFromHf({
    projection_dim: a['proj-dim'],
    text_config: {
      ...tower(a['text-width'], a['text-layers']),
      max_position_embeddings: a['context-length'],
      vocab_size: vocabSize,
    },
    vision_config: {
      ...tower(a['vision-width'], a['vision-layers']),
      image_size: a['image-size'],
      patch_size: a['patch-size'],
    },
  });
}

/** The tokenizer's captions come from their own stream, so changing the corpus size does not move the training data. */
function tokenizerCorpus(seed: number, count: number, size: number): string[] {
  const rng = new PythonRandom(2n ** 50n + 2n ** 45n + BigInt(seed));
  return Array.from({ length: count }, () => captionVariant(rng, sampleScene(rng, { size })));
}

/** Writes one scene to PNG and reads it back through the eval transform: the in-memory pixels must match it. */
async function checkEvalPath(size: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'synth-clip-check-'));
  try {
    const rng = new PythonRandom(12345);
    const scene = sampleScene(rng, { size });
    const rgba = renderScene(scene, rng);
    const file = join(dir, 'scene.png');
    await writeFile(file, await encodePng(rgba, size, size));
    const fromPng = await clipEvalTransform(file, size);
    const inMemory = normalizeClip({ data: rgbaToRgb(rgba), width: size, height: size });
    let worst = 0;
    for (let i = 0; i < fromPng.length; i++) worst = Math.max(worst, Math.abs((fromPng[i] ?? 0) - (inMemory[i] ?? 0)));
    return worst;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface CheckpointState {
  step: number;
  rng: PythonRandomState;
  optimizerStep: number;
  trainSeconds: number;
}

async function saveCheckpoint(
  dir: string,
  model: TrainableClip,
  opt: AdamW,
  state: CheckpointState,
  tokenizer: unknown,
): Promise<void> {
  await saveHf(dir, model.config, model.canonical(), { tokenizer });
  const { m, v } = opt.state();
  const parts = [...m, ...v];
  const bytes = Buffer.alloc(parts.reduce((n, p) => n + p.length * 4, 0));
  let at = 0;
  for (const p of parts) {
    Buffer.from(p.buffer, p.byteOffset, p.byteLength).copy(bytes, at);
    at += p.byteLength;
  }
  await writeFile(join(dir, 'optimizer.bin'), bytes);
  await writeFile(join(dir, 'state.json'), JSON.stringify(state));
}

async function main(): Promise<void> {
  const a = parseCli();
  const out = resolve(a.out);
  const work = resolve(a.work ?? join(tmpdir(), `synth-clip-work-seed${a.seed}`));
  const ckptDir = join(work, 'checkpoint');
  await mkdir(out, { recursive: true });
  const backend = await initBackend();
  if (backend.name === 'wasm') log(`wasm BatchMatMul without transpose flags: ${useUntransposedWasmMatMul()}`);

  const t0 = performance.now();
  const bpe = trainBpe(tokenizerCorpus(a.seed, a['tokenizer-captions'], a['image-size']), { maxMerges: 2000 });
  const tokJson = tokenizerJson(await readSkeleton(SKELETON), bpe);
  await writeFile(join(out, 'tokenizer.json'), JSON.stringify(tokJson));
  const tokenizer = await ClipTokenizer.fromFile(join(out, 'tokenizer.json'), a['context-length']);
  const config = modelConfig(a, tokenizer.vocabSize);
  log(
    `BPE: ${bpe.merges.length} merges, vocabulary ${tokenizer.vocabSize} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  const pngDiff = await checkEvalPath(a['image-size']);
  log(`in-memory pixels vs PNG through clipEvalTransform: max |diff| ${pngDiff}`);

  let initial = initialWeights(config, a.seed);
  let state: CheckpointState = { step: 0, rng: pretrainRng(a.seed).getState(), optimizerStep: 0, trainSeconds: 0 };
  let optimizerBytes: Buffer | undefined;
  if (a.resume) {
    state = JSON.parse(await readFile(join(ckptDir, 'state.json'), 'utf8')) as CheckpointState;
    initial = await loadCanonical(await readSafetensorsIndex(join(ckptDir, 'model.safetensors')), 'hf', config);
    optimizerBytes = await readFile(join(ckptDir, 'optimizer.bin'));
    log(`resuming from step ${state.step}`);
  }
  const model = new TrainableClip(config, initial);
  const params = model.variables();
  const paramCount = params.reduce((n, p) => n + p.size, 0);
  // Decay only matrices inside the towers and the projections (not gains, biases, embeddings, logit scale).
  const decays = params.map(
    (p) => p.shape.length === 2 && !/embedding/.test(p.name) && p.name !== 'synthclip/logit_scale',
  );
  const opt = new AdamW(params, decays, { beta1: 0.9, beta2: 0.98, eps: 1e-6, weightDecay: a['weight-decay'] });
  if (optimizerBytes) {
    const floats = new Float32Array(optimizerBytes.buffer, optimizerBytes.byteOffset, optimizerBytes.byteLength / 4);
    let at = 0;
    const take = (n: number) => {
      const part = floats.slice(at, at + n);
      at += n;
      return part;
    };
    const m = params.map((p) => take(p.size));
    const v = params.map((p) => take(p.size));
    opt.restore({ t: state.optimizerStep, m, v });
  }
  const rng = new PythonRandom(0);
  rng.setState(state.rng);
  log(
    `model: ${paramCount} parameters; config ${JSON.stringify(hfConfigJson(config).vision_config)} / ${JSON.stringify(hfConfigJson(config).text_config)}`,
  );

  const logFile = join(out, 'pretrain-log.jsonl');
  if (!a.resume) await writeFile(logFile, '');
  else {
    const kept = (await readFile(logFile, 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '' && (JSON.parse(l) as { step: number }).step <= state.step);
    await writeFile(logFile, kept.map((l) => `${l}\n`).join(''));
  }
  const size = a['image-size'];
  let windowStart = performance.now();
  let windowPairs = 0;
  let trainSeconds = state.trainSeconds;
  for (let step = state.step; step < a.steps; step++) {
    const stepStart = performance.now();
    const lr = warmupCosine(step, a.steps, a.warmup, a.lr);
    const batch = sampleBatch(rng, a.batch, { size });
    const { ids, eotIndex } = tokenizer.encode(batch.captions);
    const logging = (step + 1) % a['log-every'] === 0 || step + 1 === a.steps;
    const result = tf.tidy(() => {
      const pixels = tf.tensor4d(batch.pixels, [a.batch, size, size, 3]);
      const byMeaning = a.positives === 'meaning' ? meaningTargets(batch.meanings, batch.objects) : undefined;
      const targets = byMeaning?.images ?? captionTargets(batch.captions);
      let logits: tf.Tensor2D | undefined;
      const { value, grads } = tf.variableGrads(() => {
        const o = model.loss(pixels, ids, eotIndex, targets, byMeaning?.texts);
        logits = tf.keep(o.logits);
        return o.loss;
      }, params);
      opt.apply(
        params.map((p) => grads[p.name] as tf.Tensor),
        lr,
      );
      return { loss: value, logits: logits as tf.Tensor2D, targets: tf.keep(targets) };
    });
    model.clampScale();
    const loss = result.loss.dataSync()[0] ?? Number.NaN;
    let accuracy = { i2t: Number.NaN, t2i: Number.NaN };
    if (logging) accuracy = inBatchAccuracy(result.logits, result.targets);
    tf.dispose([result.loss, result.logits, result.targets]);
    if (!Number.isFinite(loss)) throw new Error(`loss is ${loss} at step ${step + 1}; lower --lr`);
    windowPairs += a.batch;
    trainSeconds += (performance.now() - stepStart) / 1000;
    if (logging) {
      const now = performance.now();
      const record = {
        step: step + 1,
        loss: round(loss),
        lr: round(lr),
        logit_scale: round(Math.exp(model.logScale.dataSync()[0] ?? 0)),
        i2t_acc: round(accuracy.i2t),
        t2i_acc: round(accuracy.t2i),
        pairs_per_s: round((windowPairs * 1000) / (now - windowStart)),
        train_s: Math.round(trainSeconds),
        tensors: tf.memory().numTensors,
      };
      await appendFile(logFile, `${JSON.stringify(record)}\n`);
      log(
        `step ${record.step}/${a.steps} loss ${record.loss} i2t ${record.i2t_acc} t2i ${record.t2i_acc} scale ${record.logit_scale} ${record.pairs_per_s} pairs/s tensors ${record.tensors}`,
      );
      windowStart = now;
      windowPairs = 0;
    }
    if ((step + 1) % a['checkpoint-every'] === 0 && step + 1 < a.steps) {
      await saveCheckpoint(
        ckptDir,
        model,
        opt,
        { step: step + 1, rng: rng.getState(), optimizerStep: opt.step, trainSeconds },
        tokJson,
      );
    }
  }
  const sot = tokenizer.sot;
  const eot = tokenizer.eot;
  await saveHf(out, config, model.canonical(), {
    tokenizer: tokJson,
    bosTokenId: sot,
    eosTokenId: eot,
    metadata: { producer: 'tools/synth-clip/pretrain.ts', seed: String(a.seed), steps: String(a.steps) },
  });
  log(`saved ${out} after ${Math.round(trainSeconds)} s of training`);
  model.dispose();
  opt.dispose();
  if (a['skip-eval']) return;
  const root = await mkdtemp(join(tmpdir(), 'synth-clip-eval-'));
  try {
    const report = await zeroShotReport(out, root);
    const summary = {
      model: 'examples/models/synth-clip',
      tasks_seed: 0,
      train_seconds: Math.round(trainSeconds),
      steps: a.steps,
      tasks: report,
    };
    await writeFile(join(out, 'zero-shot.json'), `${JSON.stringify(summary, null, 2)}\n`);
    for (const t of report) {
      log(
        `zero-shot ${t.task} ("${t.template}"): test ${t.test.accuracy.toFixed(3)} all ${t.all.accuracy.toFixed(3)} chance ${t.chance.toFixed(3)}`,
      );
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Top-1 in-batch retrieval accuracy; a pick counts as right when it is one of the pair's positives. */
function inBatchAccuracy(logits: tf.Tensor2D, targets: tf.Tensor2D): { i2t: number; t2i: number } {
  const n = logits.shape[0];
  const target = targets.dataSync();
  const rowPick = tf.tidy(() => tf.argMax(logits, 1).dataSync());
  const colPick = tf.tidy(() => tf.argMax(logits, 0).dataSync());
  let i2t = 0;
  let t2i = 0;
  for (let i = 0; i < n; i++) {
    if ((target[i * n + (rowPick[i] ?? 0)] ?? 0) > 0) i2t++;
    if ((target[(colPick[i] ?? 0) * n + i] ?? 0) > 0) t2i++;
  }
  return { i2t: i2t / n, t2i: t2i / n };
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(5)) : x;
}

main().catch((err: unknown) => {
  process.stderr.write(`[synth-clip] error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
