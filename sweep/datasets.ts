import { DATASETS } from '../data/datasets/registry.ts';
import type { DatasetInfo, DatasetName } from '../data/datasets/types.ts';
import { SOURCE_DATASETS, TRAIN_DATASETS } from '../dpt/trial-config.ts';
import type { SweepIssue } from './issues.ts';
import { renderValue } from './issues.ts';

/** A dataset a trial trains on: one of the paper's benchmarks or a generated quick-start task. */
export type SourceDataset = (typeof TRAIN_DATASETS)[number];
export type TargetDataset = DatasetName;

/** The domain-shift evaluation sets of the data registry (ImageNet-V2/-Sketch/-A/-R), in registry order. */
export const TARGET_DATASETS: readonly TargetDataset[] = Object.values(DATASETS)
  .filter((info) => info.role === 'domain-shift')
  .map((info) => info.name);

/** What a sweep trains on, and where its prompts are evaluated besides the source test split. */
export interface DatasetCell {
  dataset: SourceDataset;
  evalDatasets: TargetDataset[];
}

/**
 * Named groups usable in `datasets:`. `paper-11` is the paper's few-shot benchmark; `domain-shift` trains on ImageNet
 * and evaluates the prompts on ImageNet-V2/-Sketch/-A/-R (docs/method.md §14).
 */
export const DATASET_GROUPS = {
  'paper-11': SOURCE_DATASETS,
  'domain-shift': ['imagenet'],
} as const satisfies Record<string, readonly SourceDataset[]>;
export type DatasetGroup = keyof typeof DATASET_GROUPS;

const GROUP_NAMES = Object.keys(DATASET_GROUPS) as DatasetGroup[];

function isSource(name: string): name is SourceDataset {
  return (TRAIN_DATASETS as readonly string[]).includes(name);
}

function isGroup(name: string): name is DatasetGroup {
  return (GROUP_NAMES as string[]).includes(name);
}

export function datasetRegistryEntry(name: string): DatasetInfo | undefined {
  return Object.hasOwn(DATASETS, name) ? (DATASETS as Readonly<Record<string, DatasetInfo>>)[name] : undefined;
}

export function isTargetOnly(name: string): boolean {
  return datasetRegistryEntry(name)?.role === 'domain-shift';
}

/** Class count and test-set size from the data registry's expected sizes (data/datasets/registry.ts). */
export function datasetSizes(name: string): { classes: number; test: number } {
  const info = datasetRegistryEntry(name);
  if (!info) throw new Error(`dataset "${name}" is not in the data registry`);
  return { classes: info.expected.classes, test: info.expected.test };
}

export const DATASET_EXPECTATION = `expected a dataset (${TRAIN_DATASETS.join(', ')}) or a group (${GROUP_NAMES.join(', ')})`;

/**
 * Expand names and groups into training cells, in file order. A dataset named twice is an error (a typo or a paste);
 * a group that overlaps a named dataset merges silently, and ImageNet keeps the domain-shift targets if either asked.
 */
export function resolveDatasets(
  entries: readonly string[],
  pathPrefix = 'datasets',
): {
  cells: DatasetCell[];
  issues: SweepIssue[];
} {
  const issues: SweepIssue[] = [];
  const cells = new Map<SourceDataset, DatasetCell>();
  const literalIndex = new Map<string, number>();
  entries.forEach((entry, index) => {
    const path = `${pathPrefix}[${index}]`;
    if (isGroup(entry)) {
      for (const dataset of DATASET_GROUPS[entry]) {
        const cell = cells.get(dataset) ?? { dataset, evalDatasets: [] };
        if (entry === 'domain-shift') cell.evalDatasets = [...TARGET_DATASETS];
        cells.set(dataset, cell);
      }
      return;
    }
    if (isSource(entry)) {
      const earlier = literalIndex.get(entry);
      if (earlier !== undefined) {
        issues.push({ path, message: `expected each dataset once, got "${entry}" again (also at [${earlier}])` });
        return;
      }
      literalIndex.set(entry, index);
      if (!cells.has(entry)) cells.set(entry, { dataset: entry, evalDatasets: [] });
      return;
    }
    if (isTargetOnly(entry)) {
      issues.push({
        path,
        message: `expected a dataset to train on, got ${renderValue(entry)}, an evaluation-only domain-shift set; list "domain-shift" to train on imagenet and evaluate on it`,
      });
      return;
    }
    issues.push({ path, message: `${DATASET_EXPECTATION}, got ${renderValue(entry)}` });
  });
  return { cells: [...cells.values()], issues };
}
