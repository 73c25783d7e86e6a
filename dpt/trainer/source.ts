import type { Item } from '../../data/datasets/types.ts';
import { subsampleClasses } from '../../data/subsample.ts';
import type { TrialConfig } from '../trial-config.ts';
import type { SourceData, TargetData, TrialDeps } from './deps.ts';

export class TrialDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrialDataError';
  }
}

/** What a trial trains on, and, under base-to-novel, the novel classes it is also evaluated on. */
export interface TrialSource {
  /** the classes the trial trains and is first evaluated on: all of them, or the base half */
  source: SourceData;
  /** the novel half's test split and class names (base-to-novel only) */
  novel: TargetData | null;
}

/**
 * Loads the trial's dataset and checks its labels; under base-to-novel (`subsampleClasses: base`) splits the classes
 * after the few-shot picks, as CoCoOp's official readers do (data/subsample.ts), so the base trial trains on the
 * base classes' picks of the same few-shot split the other protocols draw.
 */
export async function loadTrialSource(config: TrialConfig, deps: Pick<TrialDeps, 'loadSource'>): Promise<TrialSource> {
  const full = await deps.loadSource(config);
  checkLabels(full.train, full.classnames, 'train');
  checkLabels(full.test, full.classnames, 'test');
  if (full.val && full.val.length > 0) checkLabels(full.val, full.classnames, 'val');
  if (config.subsampleClasses === 'all') return { source: full, novel: null };
  const base = subsampleClasses('base', full.train, full.test, full.val ?? []);
  const novel = subsampleClasses('novel', full.train, full.test);
  if (novel.labels.length === 0) {
    throw new TrialDataError(`base-to-novel needs at least two classes; ${config.dataset} has ${base.labels.length}`);
  }
  const [train, test, val] = base.lists;
  checkLabels(test, base.classnames, 'base-class test');
  checkLabels(novel.lists[1], novel.classnames, 'novel-class test');
  return {
    // A search under base-to-novel ranks by the base classes' validation picks: the novel ones are never trained on.
    source: { ...full, classnames: base.classnames, train, test, val },
    novel: { classnames: novel.classnames, template: full.template, test: novel.lists[1] },
  };
}

export function checkLabels(items: readonly Item[], classnames: readonly string[], what: string): void {
  if (items.length === 0) throw new TrialDataError(`the ${what} split is empty`);
  for (const item of items) {
    if (!Number.isInteger(item.label) || item.label < 0 || item.label >= classnames.length) {
      throw new TrialDataError(
        `${what} item ${item.impath} has label ${item.label}, outside the ${classnames.length}-class list`,
      );
    }
  }
}
