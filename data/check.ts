/**
 * What `dpt-sweep data check` reports: whether a dataset folder is complete in its CoOp layout: split/metadata
 * files present and well-formed, every listed image present and decodable, and counts equal to the published sizes.
 */
import { access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { datasetInfo, findMissingImages, readDataset } from './datasets/index.ts';
import type { DatasetName } from './datasets/types.ts';
import { DatasetError } from './errors.ts';
import { decodeRgb } from './image.ts';

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
  /**
   * Images present but not decodable (truncated, garbage), each with the decoder's one-line message. Every image is
   * decoded with the trainer's own decoder (data/image.ts), so a dataset this check passes is one training can read.
   */
  unreadableImages: { total: number; first: { path: string; error: string }[]; checked: number };
  sizeCheck: boolean;
  complete: boolean;
  problems: string[];
}

export interface CheckOptions {
  /** Compare counts with the published sizes (default true); off for custom or generated datasets. */
  sizeCheck?: boolean;
  /** How many missing or unreadable paths to keep in the report (default 10). */
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
    unreadableImages: { total: 0, first: [], checked: 0 },
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

  let missing: string[] = [];
  if (info.layout === 'split-json' || info.layout === 'fgvc-text') {
    missing = await findMissingImages(ds);
    report.missingImages = { total: missing.length, first: missing.slice(0, showMissing), checked: true };
    if (missing.length > 0) report.problems.push(`${missing.length} listed image(s) missing`);
  }
  const absent = new Set(missing);
  const present = [...new Set([...ds.train, ...ds.val, ...ds.test].map((i) => i.impath))].filter((p) => !absent.has(p));
  const unreadable = await findUnreadableImages(present);
  report.unreadableImages = {
    total: unreadable.length,
    first: unreadable.slice(0, showMissing),
    checked: present.length,
  };
  if (unreadable.length > 0) {
    const first = unreadable[0] as { path: string };
    report.problems.push(`${unreadable.length} image(s) cannot be decoded, e.g. ${first.path}`);
  }
  if (sizeCheck) {
    for (const [what, c] of [...Object.entries(report.splits), ['classes', report.classes]] as [string, CountCheck][]) {
      if (!c.matches) report.problems.push(`${what}: ${c.count} found, ${c.expected ?? 0} expected`);
    }
  }
  report.complete = report.problems.length === 0;
  return report;
}

/** Decodes every image, a few at a time (sharp decodes on its own threads), and returns those that fail, in order. */
async function findUnreadableImages(files: string[]): Promise<{ path: string; error: string }[]> {
  const failed: ({ path: string; error: string } | undefined)[] = new Array(files.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      const file = files[i] as string;
      try {
        await decodeRgb(file);
      } catch (err) {
        failed[i] = { path: file, error: err instanceof Error ? err.message : String(err) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(files.length, Math.max(2, os.availableParallelism())) }, lane));
  return failed.filter((f) => f !== undefined);
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
