import path from 'node:path';
import { DatasetError } from '../errors.ts';
import { findMissingFiles, type RawSplits, readRawSplits } from './readers.ts';
import { datasetInfo } from './registry.ts';
import type { DatasetName, DatasetSplits, Item } from './types.ts';

export { findMissingFiles, readClassnamesTxt } from './readers.ts';
export { CALTECH101_RENAMES, DATASETS, datasetInfo, EUROSAT_RENAMES, formatPrompt, isDatasetName } from './registry.ts';
export * from './types.ts';

export interface LoadOptions {
  /**
   * Check that every listed image is a file (default true). Folder-listed sets (ImageNet and variants) are skipped
   * as their items come from the listing itself.
   */
  verifyImages?: boolean;
}

/**
 * Reads a dataset from `<root>/<folder>` in its CoOp layout. Throws `DatasetError` naming the cause for a missing
 * split/metadata file, a malformed one, a label outside the class list and (unless disabled) missing images.
 */
export async function loadDataset(name: DatasetName, root: string, opts: LoadOptions = {}): Promise<DatasetSplits> {
  const ds = await readDataset(name, root);
  const info = datasetInfo(name);
  if ((opts.verifyImages ?? true) && (info.layout === 'split-json' || info.layout === 'fgvc-text')) {
    const missing = await findMissingImages(ds);
    if (missing.length > 0) {
      const shown = missing.slice(0, 3).join(', ');
      throw new DatasetError(
        `${name}: ${missing.length} image file(s) listed by the split are missing under ${ds.datasetDir}, e.g. ${shown}`,
        'missing-images',
      );
    }
  }
  return ds;
}

/** Like `loadDataset` without the image check: the lists, class names and label validation only. */
export async function readDataset(name: DatasetName, root: string): Promise<DatasetSplits> {
  const info = datasetInfo(name);
  const absRoot = path.resolve(root);
  const datasetDir = path.join(absRoot, info.folder);
  const raw = await readRawSplits(info, datasetDir);
  const classnames = deriveClassnames(name, raw);
  return { name, root: absRoot, datasetDir, classnames, template: info.template, ...raw };
}

/** Every distinct image of all splits that is not a regular file, in split order. */
export async function findMissingImages(ds: Pick<DatasetSplits, 'train' | 'val' | 'test'>): Promise<string[]> {
  const unique = [...new Set([...ds.train, ...ds.val, ...ds.test].map((i) => i.impath))];
  return findMissingFiles(unique);
}

/**
 * Dassl's `get_lab2cname` on the training list (the test list for test-only sets): names sorted by label. Dassl
 * silently misaligns names when a label has no training item or a label maps to two names, and indexes past the
 * classifier when val/test hold a label it never saw; these are errors here.
 */
function deriveClassnames(name: DatasetName, raw: RawSplits): string[] {
  const source = raw.train.length > 0 ? raw.train : raw.test;
  const sourceName = raw.train.length > 0 ? 'train' : 'test';
  if (source.length === 0) throw new DatasetError(`${name}: the ${sourceName} split is empty`, 'bad-format');
  const byLabel = new Map<number, string>();
  for (const item of source) {
    if (!Number.isInteger(item.label) || item.label < 0) {
      throw new DatasetError(`${name}: invalid label ${item.label} for ${item.impath}`, 'bad-label');
    }
    const seen = byLabel.get(item.label);
    if (seen === undefined) byLabel.set(item.label, item.classname);
    else if (seen !== item.classname) {
      throw new DatasetError(
        `${name}: label ${item.label} is named both "${seen}" and "${item.classname}" in ${sourceName}`,
        'bad-label',
      );
    }
  }
  const numClasses = Math.max(...byLabel.keys()) + 1;
  const classnames: string[] = [];
  for (let label = 0; label < numClasses; label++) {
    const cname = byLabel.get(label);
    if (cname === undefined) {
      throw new DatasetError(
        `${name}: label ${label} has no ${sourceName} item (labels must be 0..${numClasses - 1})`,
        'bad-label',
      );
    }
    classnames.push(cname);
  }
  const check = (items: Item[], split: string): void => {
    for (const item of items) {
      if (!Number.isInteger(item.label) || item.label < 0 || item.label >= numClasses) {
        throw new DatasetError(
          `${name}: ${split} label ${item.label} of ${item.impath} is outside the class list (0..${numClasses - 1})`,
          'bad-label',
        );
      }
      if (classnames[item.label] !== item.classname) {
        throw new DatasetError(
          `${name}: ${split} item ${item.impath} names label ${item.label} "${item.classname}", train says "${classnames[item.label]}"`,
          'bad-label',
        );
      }
    }
  };
  check(raw.val, 'val');
  check(raw.test, 'test');
  return classnames;
}
