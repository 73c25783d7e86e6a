import { DatasetError } from '../data/errors.ts';
import { ClipLoadError } from '../dpt/clip/errors.ts';
import { NonFiniteLossError } from '../dpt/losses.ts';
import { CheckpointError } from '../dpt/trainer/checkpoint.ts';
import { runTrial, TrialDataError } from '../dpt/trainer/run-trial.ts';
import { parseTrialConfig, TrialConfigError } from '../dpt/trial-config.ts';
import type { ChildMessage, FailureKind, ParentMessage } from './trainer-protocol.ts';

/**
 * The trainer child process: one trial, then exit. Forked by the trainTrial activity so that TF.js never blocks the
 * worker's event loop (heartbeats, polling and cancellation stay responsive), and so that killing a trial kills
 * exactly its training.
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

async function train(message: ParentMessage): Promise<void> {
  const config = parseTrialConfig(message.config);
  const outcome = await runTrial(config, {
    checkpointEvery: message.checkpointEvery,
    ...(message.resumeFrom ? { resumeFrom: message.resumeFrom } : {}),
    onEpoch: (metrics) => send({ type: 'epoch', report: metrics }),
    onCheckpoint: (epochsDone, bytes) => send({ type: 'checkpoint', epoch: epochsDone, bytes }),
  });
  await send({ type: 'done', results: outcome.results, backend: outcome.backend });
}

process.once('message', (message: ParentMessage) => {
  train(message)
    .catch(async (err: unknown) => {
      const text = err instanceof Error ? err.message : String(err);
      await send({ type: 'failed', kind: classifyFailure(err), message: text.split('\n')[0] ?? text });
    })
    .finally(() => process.disconnect?.());
});
