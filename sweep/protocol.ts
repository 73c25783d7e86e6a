import { SOURCE_DATASETS } from '../dpt/trial-config.ts';
import {
  type DatasetCell,
  datasetRegistryEntry,
  datasetSizes,
  resolveDatasets,
  TARGET_DATASETS,
  type TargetDataset,
} from './datasets.ts';
import { renderValue, type SweepIssue } from './issues.ts';

/**
 * The evaluation protocols a sweep file can name (`protocol:`, sweep/README.md), the training cells each gives, and
 * the rules that go with them. Pure: no Node built-ins.
 *
 * - few-shot: the paper's few-shot classification; each dataset's test split (and ImageNet's domain-shift sets when
 *   the `domain-shift` group is listed).
 * - base-to-novel: CoCoOp's protocol: train on the base half of each dataset's classes, test on its base and its
 *   novel classes separately (data/subsample.ts); tables read base, novel and their harmonic mean.
 * - cross-dataset: train on one source (ImageNet by default) and evaluate the prompts on other datasets as they are
 *   (default: the other ten benchmarks).
 * - domain-generalization: the same with domain-shifted versions of the source's classes as targets (default:
 *   ImageNet-V2, -Sketch, -A, -R).
 */
export const PROTOCOLS = ['few-shot', 'base-to-novel', 'cross-dataset', 'domain-generalization'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

/** The protocol as the file spells it: a name, or an object with the name and the targets. */
export type ProtocolSpec = ProtocolName | { name: ProtocolName; targets?: string[] | undefined };

export interface Protocol {
  name: ProtocolName;
  /** as written (cross-dataset and domain-generalization only); undefined = the protocol's default targets */
  targets: string[] | undefined;
}

export const DEFAULT_PROTOCOL: ProtocolName = 'few-shot';
/** Where cross-dataset and domain-generalization train when the file lists no dataset. */
export const DEFAULT_TRANSFER_SOURCE = 'imagenet';

export function protocolOf(spec: ProtocolSpec | undefined): Protocol {
  if (spec === undefined) return { name: DEFAULT_PROTOCOL, targets: undefined };
  return typeof spec === 'string' ? { name: spec, targets: undefined } : { name: spec.name, targets: spec.targets };
}

/** Whether trials train on one source and are scored on other datasets. */
export function isTransfer(name: ProtocolName): boolean {
  return name === 'cross-dataset' || name === 'domain-generalization';
}

/** The classes a trial trains on: all of the dataset's, or its base half (ceil(n/2), data/subsample.ts). */
export function trainedClassCount(dataset: string, subsampleClasses: 'all' | 'base'): number {
  const classes = datasetSizes(dataset).classes;
  return subsampleClasses === 'base' ? Math.ceil(classes / 2) : classes;
}

interface ProtocolFile {
  protocol?: ProtocolSpec | undefined;
  datasets: string[];
}

/**
 * The training cells of a file under its protocol, with every problem of its `protocol` and `datasets` (the dataset
 * names themselves were checked by the schema).
 */
export function protocolCells(file: ProtocolFile): { cells: DatasetCell[]; issues: SweepIssue[] } {
  const protocol = protocolOf(file.protocol);
  const resolved = resolveDatasets(file.datasets);
  const issues = [...resolved.issues];
  if (!isTransfer(protocol.name)) {
    if (protocol.targets !== undefined) {
      issues.push({
        path: 'protocol.targets',
        message: `expected no targets for protocol ${protocol.name} (targets belong to cross-dataset and domain-generalization)`,
      });
    }
    if (protocol.name === 'base-to-novel') {
      file.datasets.forEach((entry, i) => {
        if (entry === 'domain-shift')
          issues.push({
            path: `datasets[${i}]`,
            message:
              'expected datasets to train on, got "domain-shift", whose targets belong to protocol domain-generalization; base-to-novel evaluates each dataset\'s own novel classes',
          });
      });
      return { cells: resolved.cells.map((cell) => ({ ...cell, evalDatasets: [] })), issues };
    }
    return { cells: resolved.cells, issues };
  }
  // Transfer: exactly one source, trained on as a plain dataset.
  if (file.datasets.length !== 1 || resolved.cells.length !== 1 || !datasetRegistryEntry(file.datasets[0] ?? '')) {
    issues.push({
      path: 'datasets',
      message: `expected one source dataset for protocol ${protocol.name} (default ${DEFAULT_TRANSFER_SOURCE}), got ${renderValue(file.datasets)}`,
    });
    return { cells: [], issues };
  }
  const source = resolved.cells[0]!.dataset;
  const targets = resolveTargets(protocol, source, issues);
  return { cells: [{ dataset: source, evalDatasets: targets }], issues };
}

/** Groups usable in `protocol.targets`: the benchmarks (the source left out) and ImageNet's domain-shift sets. */
const TARGET_GROUPS: Readonly<Record<'paper-11' | 'domain-shift', readonly TargetDataset[]>> = {
  'paper-11': SOURCE_DATASETS,
  'domain-shift': TARGET_DATASETS,
};

function resolveTargets(protocol: Protocol, source: string, issues: SweepIssue[]): TargetDataset[] {
  if (protocol.targets === undefined) {
    const defaults = defaultTargets(protocol.name, source);
    if (defaults === null) {
      issues.push({
        path: 'protocol.targets',
        message: `expected targets for protocol ${protocol.name} from source ${source} (the default targets are those of ${DEFAULT_TRANSFER_SOURCE}${protocol.name === 'cross-dataset' ? ' or another of the paper-11 benchmarks' : ''})`,
      });
      return [];
    }
    return defaults;
  }
  const out: TargetDataset[] = [];
  const first = new Map<string, number>();
  protocol.targets.forEach((entry, i) => {
    const path = `protocol.targets[${i}]`;
    const group = Object.hasOwn(TARGET_GROUPS, entry) ? TARGET_GROUPS[entry as keyof typeof TARGET_GROUPS] : null;
    if (group) {
      for (const name of group) if (name !== source && !out.includes(name)) out.push(name);
      return;
    }
    if (!datasetRegistryEntry(entry)) {
      issues.push({
        path,
        message: `expected a dataset of the data registry or a group (paper-11, domain-shift), got ${renderValue(entry)}`,
      });
      return;
    }
    if (entry === source) {
      issues.push({
        path,
        message: `expected a target other than the source ${source} (its test split is always evaluated)`,
      });
      return;
    }
    const earlier = first.get(entry);
    if (earlier !== undefined) {
      issues.push({ path, message: `expected each target once, got "${entry}" again (also at [${earlier}])` });
      return;
    }
    first.set(entry, i);
    if (!out.includes(entry as TargetDataset)) out.push(entry as TargetDataset);
  });
  return out;
}

/** The targets papers use: the other ten benchmarks (cross-dataset) or ImageNet's domain-shift sets. */
function defaultTargets(name: ProtocolName, source: string): TargetDataset[] | null {
  if (name === 'cross-dataset') {
    return (SOURCE_DATASETS as readonly string[]).includes(source)
      ? SOURCE_DATASETS.filter((dataset) => dataset !== source)
      : null;
  }
  return source === DEFAULT_TRANSFER_SOURCE ? [...TARGET_DATASETS] : null;
}
