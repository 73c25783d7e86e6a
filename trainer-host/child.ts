import { DatasetError } from '../data/errors.ts';
import { ClipLoadError } from '../dpt/clip/errors.ts';
import { loadClip } from '../dpt/clip/model.ts';
import { sha256OfWeightFiles } from '../dpt/clip/weights-digest.ts';
import { NonFiniteLossError } from '../dpt/losses.ts';
import { CheckpointError } from '../dpt/trainer/checkpoint.ts';
import type { LoadedClip } from '../dpt/trainer/deps.ts';
import { runTrial, TrialDataError } from '../dpt/trainer/run-trial.ts';
import { parseTrialConfig, TrialConfigError } from '../dpt/trial-config.ts';
import type { ChildMessage, FailureKind, ParentMessage, ProgressReport } from './protocol.ts';
import { hangOnceHook } from './test-hooks.ts';

/**
 * A trainer process: serves trials one after another for the worker that forked it (trainer-host/pool.ts), so
 * TF.js never blocks the worker's event loop (heartbeats, polling and cancellation stay responsive) and killing a
 * trial kills exactly its training. The frozen CLIP weights of the last model are kept between trials, with their
 * sha256, so a 600 MB checkpoint is read and hashed once per process rather than once per trial.
 */

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error('trainer-host/child.ts must be started with an IPC channel'));
    process.send(message, undefined, undefined, (err) => (err ? reject(err) : resolve()));
  });
}

export function classifyFailure(err: unknown): FailureKind {
  if (err instanceof TrialConfigError || err instanceof NonFiniteLossError) return 'config';
  if (err instanceof DatasetError || err instanceof TrialDataError || err instanceof ClipLoadError) return 'data';
  // Thrown while resuming (a payload that does not decode or fit the model): the activity drops that checkpoint.
  if (err instanceof CheckpointError) return 'checkpoint';
  return 'infrastructure';
}

interface CachedClip {
  dir: string;
  clip: LoadedClip;
  /** sha256 of the weight files this CLIP was loaded from (dpt/clip/weights-digest.ts). */
  weightsSha256: string;
}

let cachedClip: CachedClip | undefined;

/** The CLIP of `dir` and its weights' digest, loaded and hashed only when the previous trial used another model. */
async function loadClipCached(dir: string): Promise<CachedClip> {
  if (cachedClip?.dir !== dir) {
    cachedClip?.clip.model.dispose();
    cachedClip = undefined;
    const { model, tokenizer, weightFiles } = await loadClip(dir);
    // Hashed from the files loadClip just read, so the digest names the weights this model holds.
    const weightsSha256 = await sha256OfWeightFiles(weightFiles).catch((err: unknown) => {
      model.dispose();
      throw err;
    });
    cachedClip = { dir, clip: { model, tokenizer }, weightsSha256 };
  }
  return cachedClip;
}

/** The cached model behind a proxy whose dispose does nothing: runTrial disposes its CLIP, the cache keeps it. */
function shared({ model, tokenizer }: LoadedClip): LoadedClip {
  const proxy = new Proxy(model, {
    get(target, key) {
      if (key === 'dispose') return () => {};
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { model: proxy, tokenizer };
}

/** Progress is sent at most this often: enough to prove life, cheap next to a batch. */
const PROGRESS_EVERY_MS = 250;

/** A progress sender that drops reports arriving within PROGRESS_EVERY_MS of the last one sent. */
function throttledProgress(): (report: ProgressReport) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (report) => {
    const now = performance.now();
    if (now - last < PROGRESS_EVERY_MS) return;
    last = now;
    // Fire and forget: a failed send means the parent is gone, and 'disconnect' ends this process.
    send({ type: 'progress', report }).catch(() => {});
  };
}

async function train(message: ParentMessage): Promise<void> {
  const config = parseTrialConfig(message.config);
  let weightsSha256: string | undefined;
  const progress = throttledProgress();
  // Received and parsed: the first proof of life, before the (possibly slow) backend and model loads.
  progress({ phase: 'load' });
  const outcome = await runTrial(config, {
    checkpointEvery: message.checkpointEvery,
    ...(message.resumeFrom ? { resumeFrom: message.resumeFrom } : {}),
    ...(message.stopAfter === undefined ? {} : { stopAfter: message.stopAfter }),
    ...(message.validate ? { validate: true } : {}),
    deps: {
      async loadClip(dir) {
        const cached = await loadClipCached(dir);
        weightsSha256 = cached.weightsSha256;
        return shared(cached.clip);
      },
      ...(await hangOnceHook()),
    },
    onProgress: progress,
    onEpoch: (metrics) => send({ type: 'epoch', report: metrics }),
    onCheckpoint: (epochsDone, bytes) => send({ type: 'checkpoint', epoch: epochsDone, bytes }),
  });
  // runTrial loads the CLIP of every trial it finishes, zero-shot and resumed ones included.
  if (weightsSha256 === undefined) throw new Error('trial finished without loading its CLIP');
  await send({
    type: 'done',
    results: outcome.results,
    backend: outcome.backend,
    ...(outcome.validation ? { validation: outcome.validation } : {}),
    ...(outcome.stoppedAt === undefined ? {} : { stoppedAt: outcome.stoppedAt }),
    weightsSha256,
    // The default source (data/fewshot.ts) always reports its picks' hash; null only for a source that has none.
    splitHash: outcome.splitId ?? null,
  });
}

// One trial at a time: the pool never sends a second start before this one has answered done or failed.
process.on('message', (message: ParentMessage) => {
  train(message).catch(async (err: unknown) => {
    const text = err instanceof Error ? err.message : String(err);
    await send({ type: 'failed', kind: classifyFailure(err), message: text.split('\n')[0] ?? text });
  });
});
process.on('disconnect', () => process.exit(0));
