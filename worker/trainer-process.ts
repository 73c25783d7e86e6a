import { DatasetError } from '../data/errors.ts';
import { ClipLoadError } from '../dpt/clip/errors.ts';
import { NonFiniteLossError } from '../dpt/losses.ts';
import { CheckpointError } from '../dpt/trainer/checkpoint.ts';
import { defaultDeps } from '../dpt/trainer/default-deps.ts';
import type { LoadedClip } from '../dpt/trainer/deps.ts';
import { runTrial, TrialDataError } from '../dpt/trainer/run-trial.ts';
import { parseTrialConfig, TrialConfigError } from '../dpt/trial-config.ts';
import type { ChildMessage, FailureKind, ParentMessage } from './trainer-protocol.ts';

/**
 * A trainer process: serves trials one after another for the worker that forked it (activities/trainer-pool.ts), so
 * TF.js never blocks the worker's event loop (heartbeats, polling and cancellation stay responsive) and killing a
 * trial kills exactly its training. The frozen CLIP weights of the last model are kept between trials.
 */

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error('trainer-process must be started with an IPC channel'));
    process.send(message, undefined, undefined, (err) => (err ? reject(err) : resolve()));
  });
}

export function classifyFailure(err: unknown): FailureKind {
  if (err instanceof TrialConfigError || err instanceof NonFiniteLossError) return 'config';
  if (err instanceof DatasetError || err instanceof TrialDataError || err instanceof ClipLoadError) return 'data';
  if (err instanceof CheckpointError) return 'data';
  return 'infrastructure';
}

let cachedClip: { dir: string; clip: LoadedClip } | undefined;

/** The frozen CLIP of the previous trial when it is the same model; runTrial's dispose must not free it. */
async function loadClipCached(dir: string): Promise<LoadedClip> {
  if (cachedClip?.dir !== dir) {
    cachedClip?.clip.model.dispose();
    cachedClip = undefined;
    cachedClip = { dir, clip: await defaultDeps.loadClip(dir) };
  }
  const { model, tokenizer } = cachedClip.clip;
  const shared = new Proxy(model, {
    get(target, key) {
      if (key === 'dispose') return () => {};
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { model: shared, tokenizer };
}

async function train(message: ParentMessage): Promise<void> {
  const config = parseTrialConfig(message.config);
  const outcome = await runTrial(config, {
    checkpointEvery: message.checkpointEvery,
    ...(message.resumeFrom ? { resumeFrom: message.resumeFrom } : {}),
    deps: { loadClip: loadClipCached },
    onEpoch: (metrics) => send({ type: 'epoch', report: metrics }),
    onCheckpoint: (epochsDone, bytes) => send({ type: 'checkpoint', epoch: epochsDone, bytes }),
  });
  await send({ type: 'done', results: outcome.results, backend: outcome.backend });
}

// One trial at a time: the pool never sends a second start before this one has answered done or failed.
process.on('message', (message: ParentMessage) => {
  train(message).catch(async (err: unknown) => {
    const text = err instanceof Error ? err.message : String(err);
    await send({ type: 'failed', kind: classifyFailure(err), message: text.split('\n')[0] ?? text });
  });
});
process.on('disconnect', () => process.exit(0));
