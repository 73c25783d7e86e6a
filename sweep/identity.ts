import { createHash } from 'node:crypto';
import type { TrialConfig } from '../dpt/trial-config.ts';
import { canonicalJson, identityView } from './canonical.ts';
import type { SweepFile } from './schema.ts';

export { canonicalJson, identityView, NON_IDENTITY_FIELDS } from './canonical.ts';

/**
 * A trial's identity (docs/architecture.md, "Identity"): sha256 over the canonical JSON of its resolved config, the
 * code version and the few-shot split id, as 64 hex digits. The same trial in any sweep, on any machine, gets the same
 * key.
 */
export function configKey(config: TrialConfig, codeVersion: string, splitId: string): string {
  if (codeVersion === '') throw new Error('configKey: codeVersion must not be empty');
  if (splitId === '') throw new Error('configKey: splitId must not be empty');
  const payload = canonicalJson({ config: identityView(config), codeVersion, splitId });
  return createHash('sha256').update(payload, 'utf8').digest('hex');
}

/**
 * The few-shot split a trial trains on. The official protocol makes the picks a pure function of the dataset's
 * split file, the shot count and the seed, so this descriptor identifies them; the trainer records the hash of the
 * actual picks next to the result.
 */
export const splitIdFor = (config: TrialConfig) => `${config.dataset}/shot_${config.shots}-seed_${config.seed}`;

/** Hash of a validated sweep file (the `Sweep.specHash` column): same settings, same hash, whatever the spelling. */
export function specHash(file: SweepFile): string {
  return createHash('sha256').update(canonicalJson(file), 'utf8').digest('hex');
}
