import type { TrialConfig } from '../dpt/trial-config.ts';

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, numbers in JavaScript's shortest round-trip form
 * (so `1e-2`, `0.010` and `0.01` in a YAML file are one value), -0 written as 0, undefined properties left out.
 * Non-finite numbers and non-plain values have no canonical form and are refused. Pure (workflow-safe).
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(value: unknown, at: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`canonicalJson: ${at} is ${value}, which JSON cannot represent`);
      return Object.is(value, -0) ? '0' : JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((item, i) => (item === undefined ? 'null' : write(item, `${at}[${i}]`))).join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new Error(`canonicalJson: ${at} is a ${proto?.constructor?.name ?? 'non-plain object'}, not plain data`);
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort();
      return `{${keys.map((key) => `${JSON.stringify(key)}:${write(record[key], `${at}.${key}`)}`).join(',')}}`;
    }
    default:
      throw new Error(`canonicalJson: ${at} is a ${typeof value}, not JSON data`);
  }
}

/**
 * Fields of a resolved TrialConfig that cannot change what a trial learns or scores, left out of its identity:
 * where the datasets live (the split id pins the exact images), where split files are cached, how often it
 * checkpoints, and the preset's name (its numbers are already resolved into the config). Moving the data folder
 * or switching to a preset that resolves to the same numbers must not retrain anything.
 */
export const NON_IDENTITY_FIELDS = ['root', 'splitCacheDir', 'checkpointEvery', 'preset'] as const;

/**
 * The part of a resolved config that decides the trial's result. `subsampleClasses` is left out at its default
 * ('all'), so every trial planned before base-to-novel existed keeps its key (and its results stay reusable).
 */
export function identityView(config: TrialConfig): Record<string, unknown> {
  const view: Record<string, unknown> = { ...config };
  for (const field of NON_IDENTITY_FIELDS) delete view[field];
  if (view.subsampleClasses === 'all') delete view.subsampleClasses;
  return view;
}
