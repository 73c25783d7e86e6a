import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDataset } from '../../../data/check.ts';
import { loadDataset } from '../../../data/datasets/index.ts';
import { DatasetError } from '../../../data/errors.ts';
import { decodeRgb } from '../../../data/image.ts';
import { corruptImage, type TinyDataset, writeTinyDataset } from '../../support/tiny-dataset.ts';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(repo, 'bin/dpt-sweep.js'), ...args], {
      cwd: repo,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let root: string;
let tiny: TinyDataset;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'dpt-check-'));
  tiny = await writeTinyDataset({
    root,
    dataset: 'eurosat',
    classes: ['Forest', 'Sea or Lake', 'Highway or Road'],
    varySize: true,
  });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('tiny dataset generator', () => {
  it('writes a loadable CoOp-layout dataset of real, class-dependent PNGs', async () => {
    const ds = await loadDataset('eurosat', root);
    expect(ds.classnames).toEqual(['Forest', 'Sea or Lake', 'Highway or Road']);
    expect([ds.train.length, ds.val.length, ds.test.length]).toEqual([24, 6, 12]);
    const meanRgb = async (p: string) => {
      const img = await decodeRgb(p);
      const m = [0, 0, 0];
      for (let i = 0; i < img.data.length; i++) m[i % 3] = (m[i % 3] as number) + (img.data[i] as number);
      return m.map((v) => v / (img.width * img.height));
    };
    const a = await meanRgb(ds.train[0]?.impath as string);
    const b = await meanRgb(ds.train[8]?.impath as string); // first image of class 1
    const dist = Math.hypot(...a.map((v, i) => v - (b[i] as number)));
    expect(dist).toBeGreaterThan(40);
  });

  it('is deterministic for a seed', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'dpt-check2-'));
    try {
      const again = await writeTinyDataset({
        root: other,
        dataset: 'eurosat',
        classes: tiny.classnames,
        varySize: true,
      });
      const x = await decodeRgb(path.join(tiny.imageDir, tiny.relpaths.test[3] as string));
      const y = await decodeRgb(path.join(again.imageDir, again.relpaths.test[3] as string));
      expect(Buffer.from(x.data).equals(Buffer.from(y.data))).toBe(true);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe('data check', () => {
  it('a complete tiny dataset passes without the size check, and fails with it', async () => {
    const relaxed = await checkDataset('eurosat', root, { sizeCheck: false });
    expect(relaxed.complete).toBe(true);
    expect(relaxed.splits?.train.count).toBe(24);
    const strict = await checkDataset('eurosat', root);
    expect(strict.complete).toBe(false);
    expect(strict.problems).toContain('train: 24 found, 13500 expected');
  });

  it('through the CLI: exit 0 when complete, exit 1 listing the first missing images and the total', async () => {
    const ok = await cli(['data', 'check', 'eurosat', '--root', root, '--no-size-check']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/train\s+24\s+13500/);
    expect(ok.stdout).toContain('result   complete');

    const gone = tiny.relpaths.train.slice(0, 3).map((r) => path.join(tiny.imageDir, r));
    for (const p of gone) await unlink(p);
    const bad = await cli(['data', 'check', 'eurosat', '--root', root, '--no-size-check', '--show', '2']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('3 missing:');
    expect(bad.stdout).toContain(gone[0]);
    expect(bad.stdout).toContain('... and 1 more');
    expect(bad.stdout).toContain('INCOMPLETE: 3 listed image(s) missing');

    const json = await cli(['data', 'check', 'eurosat', '--root', root, '--no-size-check', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).missingImages.total).toBe(3);
  });

  it('decodes every image: a truncated PNG is a DatasetError naming the file, and the CLI reports it and exits 1', async () => {
    const file = path.join(tiny.imageDir, tiny.relpaths.test[1] as string);
    const kept = path.join(root, 'kept.png');
    await copyFile(file, kept);
    try {
      await corruptImage(file, 'truncated');
      const err = await decodeRgb(file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatasetError);
      expect((err as DatasetError).code).toBe('bad-image');
      expect((err as Error).message).toContain(file);
      expect((err as Error).message).not.toContain('\n');

      const report = await checkDataset('eurosat', root, { sizeCheck: false });
      expect(report.complete).toBe(false);
      expect(report.unreadableImages.total).toBe(1);
      expect(report.unreadableImages.first[0]?.path).toBe(file);

      const r = await cli(['data', 'check', 'eurosat', '--root', root, '--no-size-check']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('1 of ');
      expect(r.stdout).toContain(`${file} is not a readable image`);
      expect(r.stdout).toMatch(/INCOMPLETE: .*1 image\(s\) cannot be decoded/);

      await corruptImage(file, 'garbage');
      expect(await decodeRgb(file).catch((e: unknown) => e)).toBeInstanceOf(DatasetError);
    } finally {
      await copyFile(kept, file);
    }
  });

  it('through the CLI: a missing split file and an unknown dataset are reported clearly', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'dpt-check-empty-'));
    try {
      const r = await cli(['data', 'check', 'dtd', '--root', empty]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`MISSING ${path.join(empty, 'dtd', 'split_zhou_DescribableTextures.json')}`);
      const u = await cli(['data', 'check', 'cifar10', '--root', empty]);
      expect(u.code).toBe(2);
      expect(u.stderr).toMatch(/^dpt-sweep: unknown dataset "cifar10"; known: imagenet/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
