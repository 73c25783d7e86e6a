import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataset } from '../../../data/datasets/index.ts';
import type { DatasetName, DatasetSplits, Item } from '../../../data/datasets/types.ts';
import { DatasetError } from '../../../data/errors.ts';
import { computeSplitId, fewShotCachePath, fewShotSplit, sampleFewShot } from '../../../data/fewshot.ts';

interface Case {
  shots: number;
  seed: number;
  train: number[];
  val: number[];
}
interface Fixture {
  name: string;
  withVal: boolean;
  trainLabels: number[];
  valLabels: number[];
  cases: Case[];
}

const load = (file: string): Fixture =>
  JSON.parse(readFileSync(new URL(`../../fixtures/splits/${file}`, import.meta.url), 'utf8')) as Fixture;
const FIXTURES = ['fewshot-small.json', 'fewshot-many.json', 'fewshot-imagenet-like.json'].map(load);

const cname = (label: number) => `class_${String(label).padStart(3, '0')}`;
/** The fixture's path rule: class_{label:03d}/{split}_{index:05d}.jpg. */
const relpath = (split: string, label: number, index: number) =>
  `${cname(label)}/${split}_${String(index).padStart(5, '0')}.jpg`;

function inMemoryDataset(fx: Fixture, name: DatasetName, root: string): DatasetSplits {
  const items = (split: string, labels: number[]): Item[] =>
    labels.map((label, i) => ({
      impath: path.join(root, 'images', relpath(split, label, i)),
      label,
      classname: cname(label),
    }));
  const numClasses = Math.max(...fx.trainLabels) + 1;
  return {
    name,
    root,
    datasetDir: root,
    classnames: Array.from({ length: numClasses }, (_, l) => cname(l)),
    template: '{}',
    train: items('train', fx.trainLabels),
    val: items('val', fx.valLabels),
    test: [],
  };
}

describe('few-shot picks equal the official Python protocol (fixtures from tools/reference/make_splits.py)', () => {
  for (const fx of FIXTURES) {
    it(`${fx.name}: every (shots, seed) picks the same train and val items in the same order`, () => {
      const ds = inMemoryDataset(fx, fx.withVal ? 'sun397' : 'imagenet', '/data');
      expect(fx.cases.length).toBeGreaterThan(0);
      for (const c of fx.cases) {
        const { train, val } = sampleFewShot(ds, c.shots, c.seed);
        expect(
          train.map((i) => ds.train.indexOf(i)),
          `train shots=${c.shots} seed=${c.seed}`,
        ).toEqual(c.train);
        expect(
          val.map((i) => ds.val.indexOf(i)),
          `val shots=${c.shots} seed=${c.seed}`,
        ).toEqual(c.val);
      }
    });
  }

  it('the fixtures cover small groups (fewer items than K) and both branches of sample', () => {
    const many = FIXTURES[1] as Fixture;
    const sizes = new Map<number, number>();
    for (const l of many.trainLabels) sizes.set(l, (sizes.get(l) ?? 0) + 1);
    expect([...sizes.values()].some((n) => n < 16)).toBe(true);
    expect([...sizes.values()].some((n) => n > 85)).toBe(true); // set branch for K = 4 and 16
    expect([...sizes.values()].some((n) => n >= 16 && n <= 85)).toBe(true); // pool branch for K = 16
    expect(sizes.size).toBe(397);
  });
});

describe('few-shot splits through the split_zhou reader and the cache', () => {
  let root: string;
  let ds: DatasetSplits;
  const fx = FIXTURES[1] as Fixture;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'dpt-fewshot-'));
    const entries = (split: string, labels: number[]) => labels.map((l, i) => [relpath(split, l, i), l, cname(l)]);
    await mkdir(path.join(root, 'sun397'), { recursive: true });
    await writeFile(
      path.join(root, 'sun397', 'split_zhou_SUN397.json'),
      JSON.stringify({ train: entries('train', fx.trainLabels), val: entries('val', fx.valLabels), test: [] }),
    );
    ds = await readDataset('sun397', root);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reads the file into items under SUN397/ and picks the Python paths', async () => {
    expect(ds.train[0]?.impath).toBe(
      path.join(root, 'sun397', 'SUN397', relpath('train', fx.trainLabels[0] as number, 0)),
    );
    for (const c of fx.cases) {
      const split = await fewShotSplit(ds, c.shots, c.seed);
      expect(split.train.map((i) => path.relative(ds.datasetDir, i.impath))).toEqual(
        c.train.map((k) => path.join('SUN397', relpath('train', fx.trainLabels[k] as number, k))),
      );
      expect(split.val.length).toBe(c.val.length);
    }
  });

  it('caches atomically: concurrent first calls agree, leave one valid file and no temporaries', async () => {
    const cacheDir = path.join(root, 'cache');
    const results = await Promise.all(Array.from({ length: 6 }, () => fewShotSplit(ds, 16, 2, cacheDir)));
    const ids = new Set(results.map((r) => r.splitId));
    expect(ids.size).toBe(1);
    const files = await readdir(path.join(cacheDir, 'sun397'));
    expect(files).toEqual(['shot_16-seed_2.json']);
    const again = await fewShotSplit(ds, 16, 2, cacheDir);
    expect(again).toEqual(results[0]);
    expect(again.splitId).toBe(computeSplitId(ds, 16, 2, again.train, again.val));
  });

  it('split ids are stable, depend on the picks and not on where the root lives', async () => {
    const a = await fewShotSplit(ds, 4, 1);
    const b = await fewShotSplit(ds, 4, 2);
    const c = await fewShotSplit(ds, 8, 1);
    expect(new Set([a.splitId, b.splitId, c.splitId]).size).toBe(3);
    const moved = {
      ...ds,
      root: '/elsewhere',
      train: ds.train.map((i) => ({ ...i, impath: i.impath.replace(root, '/elsewhere') })),
    };
    expect(
      computeSplitId(
        moved,
        4,
        1,
        a.train.map((i) => ({ ...i, impath: i.impath.replace(root, '/elsewhere') })),
        a.val.map((i) => ({ ...i, impath: i.impath.replace(root, '/elsewhere') })),
      ),
    ).toBe(a.splitId);
  });

  it('refuses a cache made from other split lists, naming the file', async () => {
    const cacheDir = path.join(root, 'cache-stale');
    await fewShotSplit(ds, 1, 1, cacheDir);
    const file = fewShotCachePath(cacheDir, 'sun397', 1, 1);
    const other = { ...ds, train: ds.train.slice(1) };
    await expect(fewShotSplit(other, 1, 1, cacheDir)).rejects.toThrow(/different sun397 split lists/);
    const body = JSON.parse(await readFile(file, 'utf8'));
    body.train[0][0] = 'sun397/SUN397/tampered.jpg';
    await writeFile(file, JSON.stringify(body));
    await expect(fewShotSplit(ds, 1, 1, cacheDir)).rejects.toThrow(/does not match its own split id/);
  });

  it('rejects bad requests with a DatasetError', async () => {
    await expect(fewShotSplit(ds, 0, 1)).rejects.toThrow(DatasetError);
    await expect(fewShotSplit(ds, 2.5, 1)).rejects.toThrow(/positive integer/);
    await expect(fewShotSplit({ ...ds, train: [] }, 1, 1)).rejects.toThrow(/no training split/);
  });
});
