import { methodDef, readsSetting } from '../dpt/methods/registry.ts';
import type { TrialConfig } from '../dpt/trial-config.ts';
import type { SweepIssue } from './issues.ts';
import { trainedClassCount } from './protocol.ts';

/**
 * Legal but probably unintended settings of a sweep, found in its resolved cells (one config per cell, seeds
 * aside: no rule here reads the seed) and reported once each. Pure: no Node built-ins.
 */
export function sweepWarnings(configs: Iterable<TrialConfig>): SweepIssue[] {
  const warmup = new Set<string>();
  const capped = new Map<string, Set<number>>();
  for (const config of configs) {
    if (readsSetting(config.method, 'loss.warmupEpochs') && config.loss.warmupEpochs >= config.optim.epochs) {
      warmup.add(`${config.dataset} (C=${config.loss.warmupEpochs}, epochs=${config.optim.epochs})`);
    }
    if (methodDef(config.method).classAware) {
      const classes = trainedClassCount(config.dataset, config.subsampleClasses);
      if (config.cavpt.kN > classes) {
        const set = capped.get(config.dataset) ?? new Set<number>();
        set.add(config.cavpt.kN);
        capped.set(`${config.dataset}\u0000${classes}`, set);
      }
    }
  }
  const out: SweepIssue[] = [];
  if (warmup.size > 0) {
    out.push({
      path: 'warmupEpochs',
      message: `the general-knowledge warm-up covers every epoch, so the final loss is never used: ${[...warmup].join('; ')}`,
    });
  }
  if (capped.size > 0) {
    const parts = [...capped].map(([key, values]) => {
      const [dataset, classes] = key.split('\u0000');
      return `${dataset} (${classes} classes) at ${[...values].sort((a, b) => a - b).join(', ')}`;
    });
    out.push({
      path: 'cavpt.length (K_N)',
      message: `K_N above a dataset's class count acts as the class count (min(K_N, classes)), so these trials repeat the capped setting: ${parts.join('; ')}`,
    });
  }
  return out;
}
