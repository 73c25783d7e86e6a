import * as tf from '@tensorflow/tfjs';
import type { Item } from '../../data/datasets/types.ts';
import { PythonRandom } from '../../data/python-random.ts';
import { type ClassContext, PromptedClip } from '../methods/model.ts';
import { trainsAnything } from '../methods/registry.ts';
import { learningRateAt } from '../optim/schedule.ts';
import { Sgd } from '../optim/sgd.ts';
import { PARAM_GROUPS } from '../params.ts';
import { assertTrainable } from '../trainable.ts';
import type { TrialConfig } from '../trial-config.ts';
import { epochBatchesFor } from './batching.ts';
import {
  blobsToSgdState,
  CheckpointError,
  configFingerprint,
  decodeCheckpoint,
  encodeCheckpoint,
  sgdStateToBlobs,
} from './checkpoint.ts';
import type { TargetData, TrialDeps } from './deps.ts';
import { evaluate, stackImages } from './evaluate.ts';
import { checkLabels, loadTrialSource, TrialDataError } from './source.ts';
import { trainBatch } from './step.ts';
import type { ClassSubsetOfResult, EpochMetrics, EvalResult, TrialOutcome, ValidationResult } from './types.ts';

export interface RunTrialOptions {
  /**
   * Called as work gets done: once the trial's data and CLIP are loaded, after every train batch and after every
   * evaluation batch (not awaited; keep it cheap). Lets a supervisor tell a slow trial from a hung one.
   */
  onProgress?: (step: TrialStep) => void;
  /** called after every completed epoch (awaited) */
  onEpoch?: (metrics: EpochMetrics) => void | Promise<void>;
  /** save a checkpoint every N completed epochs (default: config.checkpointEvery; 0 = only after the last epoch) */
  checkpointEvery?: number;
  /** receives checkpoint bytes (awaited before training continues) */
  onCheckpoint?: (epochsDone: number, bytes: Buffer) => void | Promise<void>;
  /** bytes of a checkpoint of the SAME trial config to continue from */
  resumeFrom?: Uint8Array;
  /**
   * Stop after this many epochs (a successive-halving rung, sweep/search/halving.ts), checkpointing there so that a
   * promotion resumes it; the schedule stays the full run's, so the stopped run is a prefix of the straight one. A
   * stopped trial evaluates no test split. Absent or >= the configured epochs: train to the end.
   */
  stopAfter?: number;
  /** Evaluate the few-shot validation split where training ends (at `stopAfter` or the last epoch): a search's metric. */
  validate?: boolean;
  /** aborts between batches; the promise rejects with the signal's reason */
  signal?: AbortSignal;
  /** replace I/O pieces (tests, benchmarks); defaults read datasets and CLIP weights from disk */
  deps?: Partial<TrialDeps>;
}

export interface TrialStep {
  phase: 'load' | 'train' | 'eval';
  epoch?: number;
  batch?: number;
}

export { TrialDataError };

/**
 * One trial: load data and CLIP, build the method, train (with checkpoints), evaluate the last-epoch model on the
 * source test split (its base classes under base-to-novel, then its novel ones: source.ts) and on each extra
 * evaluation dataset (cross-dataset and domain generalisation, docs/method.md §14).
 * Deterministic: given the same config, backend and (optional) checkpoint, the result is bit-identical.
 */
export async function runTrial(config: TrialConfig, options: RunTrialOptions = {}): Promise<TrialOutcome> {
  // Refused before any I/O: such a trial would crash at its first step or train nothing (dpt/trainable.ts).
  assertTrainable(config);
  const deps = await resolveDeps(options.deps);
  const { signal } = options;
  const progress = options.onProgress ?? (() => {});
  const backend = await deps.initBackend();
  progress({ phase: 'load' });
  const { source, novel } = await loadTrialSource(config, deps);
  progress({ phase: 'load' });
  signal?.throwIfAborted();

  const { model: clip, tokenizer } = await deps.loadClip(config.model);
  progress({ phase: 'load' });
  try {
    assertTrainable(config, {
      visionLayers: clip.vision.numLayers,
      textContextLength: clip.text.contextLength,
      countTokens: (words) => tokenizer.tokenize(words).length,
    });
  } catch (err) {
    clip.dispose();
    throw err;
  }
  const rng = new PythonRandom(config.seed);
  const model = new PromptedClip(clip, tokenizer, config, source.classnames.length, rng);
  const ctx = model.buildClassContext(source.classnames, source.template);
  const sgd = new Sgd(
    PARAM_GROUPS.map((name) => ({ name, params: model.store.inGroup(name) })),
    { momentum: config.optim.momentum, weightDecay: config.optim.weightDecay },
  );
  const fingerprint = configFingerprint(config);
  const history: EpochMetrics[] = [];
  let startEpoch = 0;
  try {
    if (options.resumeFrom) {
      const ckpt = decodeCheckpoint(options.resumeFrom);
      if (ckpt.configFingerprint !== fingerprint) {
        throw new CheckpointError('checkpoint belongs to a different trial configuration; refusing to resume from it');
      }
      restoreParams(model, ckpt.params);
      sgd.setState(blobsToSgdState(ckpt.optimizerSteps, ckpt.momentum));
      rng.setState(ckpt.rngState);
      history.push(...ckpt.history);
      startEpoch = ckpt.epochsDone;
    }

    const trainable = trainsAnything(config.method);
    const epochs = trainable ? config.optim.epochs : 0;
    const until = Math.min(epochs, options.stopAfter ?? epochs);
    const every = options.checkpointEvery ?? config.checkpointEvery;
    const size = clip.vision.imageSize;
    for (let epoch = startEpoch; epoch < until; epoch++) {
      signal?.throwIfAborted();
      const metrics = await trainEpoch(model, sgd, ctx, config, source.train, epoch, rng, deps, size, signal, (batch) =>
        progress({ phase: 'train', epoch, batch }),
      );
      history.push(metrics);
      await options.onEpoch?.(metrics);
      const done = epoch + 1;
      if (options.onCheckpoint && ((every > 0 && done % every === 0) || done === until)) {
        const bytes = encodeCheckpoint({
          configFingerprint: fingerprint,
          epochsDone: done,
          rngState: rng.getState(),
          optimizerSteps: sgd.getState().steps,
          params: model.store.list().map((p) => ({
            key: p.key,
            shape: p.variable.shape.slice(),
            values: Float32Array.from(p.variable.dataSync() as Float32Array),
          })),
          momentum: sgdStateToBlobs(sgd.getState()),
          history,
        });
        await options.onCheckpoint(done, bytes);
      }
    }

    const testImage = (item: Item) => deps.testImage(item, size);
    const evalProgress = (batch: number) => progress({ phase: 'eval', batch });
    const trained = Math.max(startEpoch, until);
    const validation = options.validate
      ? toValidation(
          trained,
          await evaluate(
            model,
            ctx,
            validationSplit(config, source.val),
            testImage,
            config.evalBatchSize,
            size,
            signal,
            evalProgress,
          ),
        )
      : undefined;
    const outcome = {
      epochs: history,
      backend: backend.name,
      parameters: model.store.count(),
      ...(source.splitId ? { splitId: source.splitId } : {}),
      ...(validation ? { validation } : {}),
    };
    // Stopped at a rung: the test split is left unread, so nothing but the validation split can steer a search.
    if (trained < epochs) return { ...outcome, results: [], stoppedAt: trained };

    const results: EvalResult[] = [];
    const own = await evaluate(model, ctx, source.test, testImage, config.evalBatchSize, size, signal, evalProgress);
    results.push(toResult(config.dataset, novel ? 'base' : 'all', own));
    // The novel classes and every target get their own class context; the CAVPT classifier is not used at test time.
    const evaluateOn = async (name: string, subset: ClassSubsetOfResult, data: TargetData) => {
      const targetCtx = model.buildClassContext(data.classnames, data.template);
      try {
        const counts = await evaluate(
          model,
          targetCtx,
          data.test,
          testImage,
          config.evalBatchSize,
          size,
          signal,
          evalProgress,
        );
        results.push(toResult(name, subset, counts));
      } finally {
        targetCtx.dispose();
      }
    };
    if (novel) await evaluateOn(config.dataset, 'novel', novel);
    // One target at a time, each loaded just before it is evaluated: progress never pauses for all the loading at once.
    for (const target of config.evalDatasets) {
      if (target === config.dataset) continue;
      const data = await deps.loadTarget(target, config.root);
      checkLabels(data.test, data.classnames, `${target} test`);
      await evaluateOn(target, 'all', data);
    }
    return { ...outcome, results };
  } finally {
    ctx.dispose();
    sgd.dispose();
    model.dispose();
    clip.dispose();
  }
}

async function trainEpoch(
  model: PromptedClip,
  sgd: Sgd,
  ctx: ClassContext,
  config: TrialConfig,
  train: readonly Item[],
  epoch: number,
  rng: PythonRandom,
  deps: TrialDeps,
  size: number,
  signal: AbortSignal | undefined,
  onBatch: (batch: number) => void,
): Promise<EpochMetrics> {
  const started = performance.now();
  const { optim } = config;
  const lrVisual = learningRateAt(
    { baseLr: optim.lrVisual, maxEpochs: optim.epochs, warmupEpochs: optim.lrWarmupEpochs, warmupLr: optim.warmupLr },
    epoch,
  );
  const lrText = learningRateAt(
    { baseLr: optim.lrText, maxEpochs: optim.epochs, warmupEpochs: optim.textLrWarmupEpochs, warmupLr: optim.warmupLr },
    epoch,
  );
  const lrs = { visual: lrVisual, cavpt: lrVisual, text: lrText };
  const batches = epochBatchesFor(train.length, optim.batchSize, rng);
  let loss = 0;
  let main = 0;
  let cavpt = 0;
  let cavptBatches = 0;
  let correct = 0;
  let seen = 0;
  for (const [b, batch] of batches.entries()) {
    signal?.throwIfAborted();
    const items = batch.map((i) => train[i]!);
    // Sequential on purpose: every crop and flip draws from the one generator in a fixed order.
    const images: Float32Array[] = [];
    for (const item of items) images.push(await deps.trainImage(item, rng, size));
    const pixels = stackImages(images, size);
    try {
      const labels = Int32Array.from(items, (it) => it.label);
      const r = trainBatch(model, sgd, ctx, pixels, labels, epoch, b, config.loss, lrs);
      loss += r.loss;
      main += r.main;
      if (r.cavptActive) {
        cavpt += r.cavpt;
        cavptBatches += 1;
      }
      correct += r.correct;
      seen += r.size;
    } finally {
      pixels.dispose();
    }
    onBatch(b);
  }
  const n = Math.max(batches.length, 1);
  return {
    epoch,
    loss: loss / n,
    lossMain: main / n,
    lossCavpt: cavptBatches ? cavpt / cavptBatches : 0,
    lrText,
    lrVisual,
    trainAcc: seen ? (100 * correct) / seen : 0,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Puts a checkpoint's trained parameters into the model; every tensor must be there with its shape. */
export function restoreParams(
  model: PromptedClip,
  blobs: { key: string; shape: number[]; values: Float32Array }[],
): void {
  const expected = new Set(model.store.list().map((p) => p.key));
  for (const blob of blobs) {
    if (!expected.has(blob.key)) throw new CheckpointError(`checkpoint has unknown tensor ${blob.key}`);
    const v = model.store.get(blob.key);
    if (v.shape.join('x') !== blob.shape.join('x')) {
      throw new CheckpointError(`checkpoint tensor ${blob.key} has shape [${blob.shape}], model expects [${v.shape}]`);
    }
    const values = tf.tensor(blob.values, blob.shape, 'float32');
    v.assign(values);
    values.dispose();
    expected.delete(blob.key);
  }
  if (expected.size > 0) throw new CheckpointError(`checkpoint lacks tensors: ${[...expected].join(', ')}`);
}

function validationSplit(config: TrialConfig, val: readonly Item[] | undefined): readonly Item[] {
  if (!val || val.length === 0) {
    throw new TrialDataError(`${config.dataset} has no validation split to rank a search by (ImageNet has none)`);
  }
  return val;
}

function toValidation(epochs: number, { correct, total }: { correct: number; total: number }): ValidationResult {
  return { epochs, top1: total ? (100 * correct) / total : 0, correct, total };
}

function toResult(
  evalDataset: string,
  classSubset: ClassSubsetOfResult,
  { correct, total }: { correct: number; total: number },
): EvalResult {
  return { evalDataset, classSubset, split: 'test', top1: total ? (100 * correct) / total : 0, correct, total };
}

export async function resolveDeps(partial: Partial<TrialDeps> | undefined): Promise<TrialDeps> {
  const missing = !partial || Object.keys(defaultKeys).some((k) => !(k in partial));
  const defaults = missing ? (await import('./default-deps.ts')).defaultDeps : undefined;
  return { ...defaults, ...partial } as TrialDeps;
}

const defaultKeys: Record<keyof TrialDeps, true> = {
  initBackend: true,
  loadClip: true,
  loadSource: true,
  loadTarget: true,
  trainImage: true,
  testImage: true,
};
