import type { Queryable } from '../db/migrate.ts';
import { type LoadedCheckpoint, loadResumableCheckpoint } from '../db/repositories.ts';
import { CheckpointError, configFingerprint, decodeCheckpoint } from '../dpt/trainer/checkpoint.ts';
import { parseTrialConfig } from '../dpt/trial-config.ts';

/**
 * Which checkpoint an attempt resumes from. A checkpoint that cannot be resumed from (bytes that do not match their
 * sha256, a payload that does not decode, a fingerprint of another config) would fail the trial the same way on every
 * attempt and every `resume`, so it is deleted and the attempt falls back to the previous valid checkpoint or, as
 * only the newest is kept, to epoch 0. Training is deterministic, so a trial retrained from scratch ends with the
 * result an uninterrupted run would have had. `note` says what was discarded, for the attempt row.
 */
export async function checkpointToResume(
  db: Queryable,
  trialId: string,
  config: unknown,
): Promise<{ checkpoint: LoadedCheckpoint | null; note: string | null }> {
  const { checkpoint, discarded } = await loadResumableCheckpoint(db, trialId, (c) => payloadProblem(c.bytes, config));
  if (discarded.length === 0) return { checkpoint, note: null };
  const what = discarded.map((d) => `discarded unusable checkpoint at epoch ${d.epoch} (${d.reason})`);
  return { checkpoint, note: `${what.join('; ')}; ${resumedFrom(checkpoint)}` };
}

/** The note of a checkpoint the trainer refused (it restores tensors into the model, which this process cannot). */
export function refusedCheckpointNote(epoch: number, reason: string): string {
  return `discarded unusable checkpoint at epoch ${epoch} (${reason}); the next attempt starts without it`;
}

function resumedFrom(checkpoint: LoadedCheckpoint | null): string {
  return checkpoint ? `resumed from epoch ${checkpoint.epoch}` : 'trained from epoch 0';
}

/** What the trainer would refuse before training: an undecodable payload or another config's fingerprint. */
function payloadProblem(bytes: Uint8Array, config: unknown): string | null {
  let fingerprint: string;
  try {
    fingerprint = decodeCheckpoint(bytes).configFingerprint;
  } catch (err) {
    if (err instanceof CheckpointError) return err.message;
    throw err;
  }
  let expected: string;
  try {
    expected = configFingerprint(parseTrialConfig(config));
  } catch {
    // A config that does not parse is the trainer's to report, as a config error, whatever the checkpoint.
    return null;
  }
  return fingerprint === expected ? null : 'checkpoint belongs to a different trial configuration';
}
