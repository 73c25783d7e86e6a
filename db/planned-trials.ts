import type { ExpandedTrial } from '../sweep/expand.ts';
import { configKey, splitIdFor } from '../sweep/identity.ts';
import type { TrialInput } from './repositories.ts';

/**
 * The rows of planned trials: each expanded trial with its factors, its identity (configKey over the config, the code
 * version it is planned with and its split) and, under a search, the configuration it replicates. Shared by a
 * launch and a TPE search's suggestions, so a suggested trial has the identity a grid would give it.
 */
export function plannedTrialInputs(
  trials: readonly ExpandedTrial[],
  codeVersion: string,
  searchCandidate?: (trial: ExpandedTrial) => number,
): TrialInput[] {
  return trials.map((trial) => ({
    ...trial.factors,
    configKey: configKey(trial.config, codeVersion, splitIdFor(trial.config)),
    codeVersion,
    evalDatasets: [trial.config.dataset, ...trial.config.evalDatasets],
    config: trial.config,
    ...(searchCandidate ? { searchCandidate: searchCandidate(trial) } : {}),
  }));
}
