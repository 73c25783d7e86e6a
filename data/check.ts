/**
 * What `dpt-sweep data check` reports: whether a dataset folder is complete in its CoOp layout: split/metadata
 * files present and well-formed, every listed image present, and counts equal to the published sizes.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { datasetInfo, findMissingImages, readDataset } from './datasets/index.ts';
import type { DatasetName } from './datasets/types.ts';
import { DatasetError } from './errors.ts';

export interface CountCheck {
  count: number;
  expected: number | null;
  matches: boolean;
}

export interface DatasetReport {
  dataset: DatasetName;
  officialName: string;
  datasetDir: string;
  requiredFiles: { path: string; present: boolean }[];
  /** Set when the split lists could not be read (missing or malformed file, bad labels). */
  readError: string | null;
  splits: { train: CountCheck; val: CountCheck; test: CountCheck } | null;
  classes: CountCheck | null;
  /** Images listed by the split files that are not files; folder-listed sets cannot miss any. */
  missingImages: { total: number; first: string[]; checked: boolean };
  sizeCheck: boolean;
  complete: boolean;
  problems: string[];
}

export interface CheckOptions {
  /** Compare counts with the published sizes (default true); off for custom or generated datasets. */
  sizeCheck?: boolean;
  /** How many missing paths to keep in the report (default 10). */
  showMissing?: number;
}

export async function checkDataset(name: DatasetName, root: string, opts: CheckOptions = {}): Promise<DatasetReport> {
  const info = datasetInfo(name);
  const sizeCheck = opts.sizeCheck ?? true;
  const showMissing = opts.showMissing ?? 10;
  const datasetDir = path.join(path.resolve(root), info.folder);
  const requiredFiles = await Promise.all(
    info.requiredFiles.map(async (f) => ({
      path: path.join(datasetDir, f),
      present: await exists(path.join(datasetDir, f)),
    })),
  );
  const report: DatasetReport = {
    dataset: name,
    officialName: info.officialName,
    datasetDir,
    requiredFiles,
    readError: null,
    splits: null,
    classes: null,
    missingImages: { total: 0, first: [], checked: false },
    sizeCheck,
    complete: false,
    problems: [],
  };
  for (const f of requiredFiles) if (!f.present) report.problems.push(`missing ${f.path}`);

  let ds: Awaited<ReturnType<typeof readDataset>>;
  try {
    ds = await readDataset(name, root);
  } catch (err) {
    if (!(err instanceof DatasetError)) throw err;
    report.readError = err.message;
    // A missing required file is already listed; other read errors (malformed file, bad labels) are new problems.
    if (requiredFiles.every((f) => f.present)) report.problems.push(err.message);
    return report;
  }

  const count = (n: number, expected: number | null): CountCheck => ({
    count: n,
    expected,
    matches: expected === null ? n === 0 : n === expected,
  });
  report.splits = {
    train: count(ds.train.length, info.expected.train),
    val: count(ds.val.length, info.expected.val),
    test: count(ds.test.length, info.expected.test),
  };
  report.classes = count(ds.classnames.length, info.expected.classes);

  if (info.layout === 'split-json' || info.layout === 'fgvc-text') {
    const missing = await findMissingImages(ds);
    report.missingImages = { total: missing.length, first: missing.slice(0, showMissing), checked: true };
    if (missing.length > 0) report.problems.push(`${missing.length} listed image(s) missing`);
  }
  if (sizeCheck) {
    for (const [what, c] of [...Object.entries(report.splits), ['classes', report.classes]] as [string, CountCheck][]) {
      if (!c.matches) report.problems.push(`${what}: ${c.count} found, ${c.expected ?? 0} expected`);
    }
  }
  report.complete = report.problems.length === 0;
  return report;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
