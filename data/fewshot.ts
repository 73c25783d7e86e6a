/**
 * Few-shot splits per (dataset, shots, seed), following the official protocol (docs/method.md §13):
 * `random.seed(SEED)`, then Dassl's `generate_fewshot_dataset(train, K)`, then
 * `generate_fewshot_dataset(val, min(K, 4))` with the same generator (ImageNet has no val). With the CPython
 * generator port this picks the same images as the official code.
 *
 * Results are cached as JSON (paths relative to the dataset root) written to a temporary file and renamed into
 * place, so parallel workers that create the same split never see a half-written file; they compute identical
 * content, so whichever rename lands last is correct.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { DatasetSplits, Item } from './datasets/types.ts';
import { DatasetError } from './errors.ts';
import { PythonRandom } from './python-random.ts';

export interface FewShotSplit {
  train: Item[];
  val: Item[];
  /** Stable id of the picks: a hash of dataset, shots, seed and the chosen (relative path, label) pairs. */
  splitId: string;
}

/**
 * Dassl's `generate_fewshot_dataset(items, num_shots=K)` with `repeat=False` (Dassl's default at commit c61a1b5,
 * as in tools/reference/make_splits.py): group by label in order of first appearance; `sample(group, K)` per group,
 * or the whole group when it has fewer than K items (which draws nothing).
 */
export function generateFewshotDataset(items: readonly Item[], shots: number, rng: PythonRandom): Item[] {
  const groups = new Map<number, Item[]>();
  for (const item of items) {
    const group = groups.get(item.label);
    if (group) group.push(item);
    else groups.set(item.label, [item]);
  }
  const out: Item[] = [];
  for (const group of groups.values()) {
    out.push(...(group.length >= shots ? rng.sample(group, shots) : group));
  }
  return out;
}

/** The picks for (shots, seed) without any cache. */
export function sampleFewShot(ds: DatasetSplits, shots: number, seed: number): { train: Item[]; val: Item[] } {
  checkRequest(ds, shots, seed);
  const rng = new PythonRandom(seed);
  const train = generateFewshotDataset(ds.train, shots, rng);
  // ImageNet's reader has no val and the official code samples none; our ImageNet val is empty, drawing nothing.
  const val = ds.name === 'imagenet' ? [] : generateFewshotDataset(ds.val, Math.min(shots, 4), rng);
  return { train, val };
}

export async function fewShotSplit(
  ds: DatasetSplits,
  shots: number,
  seed: number,
  cacheDir?: string,
): Promise<FewShotSplit> {
  checkRequest(ds, shots, seed);
  if (cacheDir === undefined) {
    const picked = sampleFewShot(ds, shots, seed);
    return { ...picked, splitId: computeSplitId(ds, shots, seed, picked.train, picked.val) };
  }
  const file = fewShotCachePath(cacheDir, ds.name, shots, seed);
  const cached = await readCache(file, ds, shots, seed);
  if (cached) return cached;
  const picked = sampleFewShot(ds, shots, seed);
  const split = { ...picked, splitId: computeSplitId(ds, shots, seed, picked.train, picked.val) };
  await writeCacheAtomically(file, ds, shots, seed, split);
  return split;
}

export function fewShotCachePath(cacheDir: string, dataset: string, shots: number, seed: number): string {
  return path.join(cacheDir, dataset, `shot_${shots}-seed_${seed}.json`);
}

export function computeSplitId(
  ds: Pick<DatasetSplits, 'name' | 'root'>,
  shots: number,
  seed: number,
  train: readonly Item[],
  val: readonly Item[],
): string {
  const body = JSON.stringify({
    dataset: ds.name,
    shots,
    seed,
    train: train.map((i) => [relativePath(ds.root, i.impath), i.label]),
    val: val.map((i) => [relativePath(ds.root, i.impath), i.label]),
  });
  return createHash('sha256').update(body).digest('hex').slice(0, 16);
}

function checkRequest(ds: DatasetSplits, shots: number, seed: number): void {
  if (!Number.isInteger(shots) || shots < 1) {
    throw new DatasetError(`shots must be a positive integer, got ${shots}`, 'bad-request');
  }
  if (!Number.isSafeInteger(seed)) throw new DatasetError(`seed must be an integer, got ${seed}`, 'bad-request');
  if (ds.train.length === 0) {
    throw new DatasetError(`${ds.name} has no training split (a test-only set cannot be sampled)`, 'bad-request');
  }
}

/** Relative to the dataset root with '/' separators, so ids do not depend on where or on which OS the data lives. */
function relativePath(root: string, impath: string): string {
  return path.relative(root, impath).split(path.sep).join('/');
}

const CACHE_FORMAT = 'dpt-sweep/fewshot-split@1';
const cachedEntry = z.tuple([z.string(), z.number().int(), z.string()]);
const cacheSchema = z.object({
  format: z.literal(CACHE_FORMAT),
  dataset: z.string(),
  shots: z.number().int(),
  seed: z.number().int(),
  sourceDigest: z.string(),
  splitId: z.string(),
  train: z.array(cachedEntry),
  val: z.array(cachedEntry),
});

/** Digest of the full train/val lists the picks were drawn from: a cache made from other split files is stale. */
function sourceDigest(ds: DatasetSplits): string {
  const h = createHash('sha256');
  for (const [split, items] of [
    ['train', ds.train],
    ['val', ds.val],
  ] as const) {
    h.update(`${split}\n`);
    for (const i of items) h.update(`${relativePath(ds.root, i.impath)}\t${i.label}\t${i.classname}\n`);
  }
  return h.digest('hex');
}

async function readCache(file: string, ds: DatasetSplits, shots: number, seed: number): Promise<FewShotSplit | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let parsed: z.infer<typeof cacheSchema>;
  try {
    parsed = cacheSchema.parse(JSON.parse(text));
  } catch (err) {
    throw new DatasetError(
      `few-shot cache ${file} is unreadable (${(err as Error).message}); delete it`,
      'stale-cache',
    );
  }
  if (parsed.dataset !== ds.name || parsed.shots !== shots || parsed.seed !== seed) {
    throw new DatasetError(
      `few-shot cache ${file} holds another split (${parsed.dataset}, ${parsed.shots}, ${parsed.seed})`,
      'stale-cache',
    );
  }
  if (parsed.sourceDigest !== sourceDigest(ds)) {
    throw new DatasetError(
      `few-shot cache ${file} was made from different ${ds.name} split lists than those under ${ds.root}; delete it to resample`,
      'stale-cache',
    );
  }
  const toItems = (entries: [string, number, string][]): Item[] =>
    entries.map(([rel, label, classname]) => ({ impath: path.join(ds.root, ...rel.split('/')), label, classname }));
  const train = toItems(parsed.train);
  const val = toItems(parsed.val);
  const splitId = computeSplitId(ds, shots, seed, train, val);
  if (splitId !== parsed.splitId) {
    throw new DatasetError(`few-shot cache ${file} does not match its own split id; delete it`, 'stale-cache');
  }
  return { train, val, splitId };
}

async function writeCacheAtomically(
  file: string,
  ds: DatasetSplits,
  shots: number,
  seed: number,
  split: FewShotSplit,
): Promise<void> {
  const toEntries = (items: Item[]) => items.map((i) => [relativePath(ds.root, i.impath), i.label, i.classname]);
  const body = {
    format: CACHE_FORMAT,
    dataset: ds.name,
    shots,
    seed,
    sourceDigest: sourceDigest(ds),
    splitId: split.splitId,
    train: toEntries(split.train),
    val: toEntries(split.val),
  };
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(body)}\n`, 'utf8');
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
