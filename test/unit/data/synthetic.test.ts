import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASETS, loadDataset } from '../../../data/datasets/index.ts';
import { PythonRandom } from '../../../data/python-random.ts';
import {
  captionScene,
  describeObject,
  layoutScene,
  renderScene,
  sampleScene,
  writeCaptionCorpus,
} from '../../../data/synthetic/scene.ts';
import { type SyntheticTask, writeSyntheticTasks } from '../../../data/synthetic/tasks.ts';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'dpt-synthetic-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file under `dir`, relative path → bytes. */
async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    out.set(path.relative(dir, full), await readFile(full));
  }
  return out;
}

describe('procedural scenes', () => {
  it('writes byte-identical image-caption pairs for the same seed, and different ones for another seed', async () => {
    const opts = { count: 12, size: 40, maxObjects: 4, maxClutter: 3 };
    await writeCaptionCorpus({ ...opts, dir: path.join(root, 'corpus-a'), seed: 5 });
    await writeCaptionCorpus({ ...opts, dir: path.join(root, 'corpus-b'), seed: 5 });
    await writeCaptionCorpus({ ...opts, dir: path.join(root, 'corpus-c'), seed: 6 });
    const a = await snapshot(path.join(root, 'corpus-a'));
    const b = await snapshot(path.join(root, 'corpus-b'));
    const c = await snapshot(path.join(root, 'corpus-c'));
    expect(a.size).toBe(13);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [file, bytes] of a) expect(bytes.equals(b.get(file) as Buffer), file).toBe(true);
    expect((c.get('captions.jsonl') as Buffer).equals(a.get('captions.jsonl') as Buffer)).toBe(false);
    const meta = await sharp(a.get(path.join('images', '000000.png')) as Buffer).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 40, 40]);
  });

  it('captions name every coloured object and none of the grey clutter', () => {
    const rng = new PythonRandom(3);
    let sawClutter = false;
    for (let i = 0; i < 200; i++) {
      const scene = sampleScene(rng, { size: 48, minObjects: 1, maxObjects: 3, maxClutter: 2 });
      const caption = captionScene(scene);
      for (const o of scene.objects) expect(caption).toContain(`a ${describeObject(o)}`);
      expect(caption.match(/\ba\b/g)?.length).toBe(scene.objects.length);
      expect(caption).not.toMatch(/grey|gray/);
      if (scene.clutter.length > 0) sawClutter = true;
    }
    expect(sawClutter).toBe(true);
  });

  it('phrases a caption as in ordinary speech', () => {
    const objects = [
      { shape: 'circle', colour: 'red', texture: 'striped', size: 'large', cx: 0, cy: 0, r: 1 },
      { shape: 'square', colour: 'blue', texture: 'solid', size: 'small', cx: 0, cy: 0, r: 1 },
      { shape: 'ring', colour: 'green', texture: 'dotted', size: 'small', cx: 0, cy: 0, r: 1 },
    ] as const;
    expect(captionScene({ objects: [...objects.slice(0, 2)] })).toBe(
      'a large red striped circle and a small blue square',
    );
    expect(captionScene({ objects: [...objects] })).toBe(
      'a large red striped circle, a small blue square and a small green dotted ring',
    );
  });

  it('paints each object in its colour where it lies and leaves the background elsewhere', () => {
    const rng = new PythonRandom(0);
    const scene = layoutScene(rng, [{ shape: 'square', colour: 'blue', texture: 'solid', size: 'large' }], 0, {
      size: 48,
    });
    const pixels = renderScene(scene, rng, 0);
    const o = scene.objects[0];
    if (o === undefined) throw new Error('no object laid out');
    const at = (x: number, y: number) => [...pixels.subarray((y * 48 + x) * 4, (y * 48 + x) * 4 + 3)];
    expect(at(Math.floor(o.cx), Math.floor(o.cy))).toEqual([50, 90, 230]);
    const farX = o.cx < 24 ? 47 : 0;
    const farY = o.cy < 24 ? 47 : 0;
    expect(at(farX, farY)).toEqual([...scene.background]);
  });
});

describe('synthetic downstream tasks', () => {
  const perClass = { train: 3, val: 1, test: 2 };
  let tasks: SyntheticTask[];
  beforeAll(async () => {
    tasks = await writeSyntheticTasks({ root: path.join(root, 'tasks-a'), perClass, size: 40, seed: 11 });
  });

  it('loads every task through loadDataset with its class count and split sizes', async () => {
    expect(tasks.map((t) => [t.kind, t.dataset, t.template])).toEqual([
      ['shape', 'synth_shape', 'a {}.'],
      ['colour', 'synth_colour', 'a {} shape.'],
      ['target-shape', 'synth_target', 'a large {}.'],
      ['target-colour', 'synth_target_colour', 'a large {} shape.'],
    ]);
    for (const task of tasks) {
      const ds = await loadDataset(task.dataset, path.join(root, 'tasks-a'));
      expect(ds.classnames, task.kind).toEqual(task.classnames);
      expect(ds.classnames).toHaveLength(6);
      expect([ds.train.length, ds.val.length, ds.test.length]).toEqual([18, 6, 12]);
      // The readers prompt with the task's own template, not a borrowed benchmark's.
      expect(ds.template).toBe(task.template);
      expect(task.datasetDir).toBe(path.join(root, 'tasks-a', DATASETS[task.dataset].folder));
      expect(DATASETS[task.dataset].role).toBe('synthetic');
      const labels = new Set(ds.train.map((i) => i.label));
      expect(labels.size).toBe(6);
    }
  });

  it('labels single-object tasks by that object and the multi-object tasks by their one large object', () => {
    const [shape, colour, target, targetColour] = tasks;
    if (shape === undefined || colour === undefined || target === undefined || targetColour === undefined)
      throw new Error('missing task');
    for (const item of shape.items) {
      expect(item.objects).toHaveLength(1);
      expect(item.objects[0]?.shape).toBe(shape.classnames[item.label]);
    }
    for (const item of colour.items) {
      expect(item.objects).toHaveLength(1);
      expect(item.objects[0]?.colour).toBe(colour.classnames[item.label]);
    }
    for (const item of target.items) {
      expect(item.objects.length).toBeGreaterThan(1);
      const large = item.objects.filter((o) => o.size === 'large');
      expect(large).toHaveLength(1);
      expect(large[0]?.shape).toBe(target.classnames[item.label]);
      const others = item.objects.filter((o) => o.size !== 'large').map((o) => o.shape);
      expect(others).not.toContain(target.classnames[item.label]);
    }
    for (const item of targetColour.items) {
      expect(item.objects.length).toBeGreaterThan(1);
      const large = item.objects.filter((o) => o.size === 'large');
      expect(large).toHaveLength(1);
      expect(large[0]?.colour).toBe(targetColour.classnames[item.label]);
      const others = item.objects.filter((o) => o.size !== 'large').map((o) => o.colour);
      expect(others).not.toContain(targetColour.classnames[item.label]);
    }
  });

  it('draws more than one object in each multi-object image', async () => {
    const target = tasks[2];
    if (target === undefined) throw new Error('missing task');
    const ds = await loadDataset(target.dataset, path.join(root, 'tasks-a'));
    for (const item of ds.test) {
      const { data, info } = await sharp(item.impath).raw().toBuffer({ resolveWithObject: true });
      // Count saturated pixels in separate connected regions: objects never touch (layout keeps a gap), clutter is grey.
      const w = info.width;
      const h = info.height;
      const ch = info.channels;
      const coloured = new Uint8Array(w * h);
      for (let p = 0; p < w * h; p++) {
        const r = data[p * ch] as number;
        const g = data[p * ch + 1] as number;
        const b = data[p * ch + 2] as number;
        coloured[p] = Math.max(r, g, b) - Math.min(r, g, b) > 45 ? 1 : 0;
      }
      expect(countRegions(coloured, w, h, 6), item.impath).toBeGreaterThan(1);
    }
  });

  it('rewrites identical files for the same seed', async () => {
    await writeSyntheticTasks({ root: path.join(root, 'tasks-b'), perClass, size: 40, seed: 11 });
    const a = await snapshot(path.join(root, 'tasks-a'));
    const b = await snapshot(path.join(root, 'tasks-b'));
    expect(a.size).toBe(4 * (6 * 6 + 2));
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [file, bytes] of a) expect(bytes.equals(b.get(file) as Buffer), file).toBe(true);
  });
});

/** 4-connected regions of set pixels with at least `minArea` pixels (ignores stray noise and stripe fragments). */
function countRegions(mask: Uint8Array, w: number, h: number, minArea: number): number {
  const seen = new Uint8Array(w * h);
  let regions = 0;
  for (let start = 0; start < w * h; start++) {
    if (!mask[start] || seen[start]) continue;
    let area = 0;
    const stack = [start];
    seen[start] = 1;
    while (stack.length > 0) {
      const p = stack.pop() as number;
      area++;
      const x = p % w;
      const y = Math.floor(p / w);
      for (const [nx, ny] of [
        [x + 1, y],
        [x - 1, y],
        [x, y + 1],
        [x, y - 1],
      ] as const) {
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        const q = ny * w + nx;
        if (mask[q] && !seen[q]) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
    if (area >= minArea) regions++;
  }
  return regions;
}
