/**
 * Writes a tiny dataset in the CoOp layout of one of the split_zhou datasets: `<root>/<folder>/<imageDir>/...` PNG
 * images plus `split_zhou_<Name>.json`, readable by `loadDataset(name, root)`.
 *
 * The images are learnable: each class has its own hue (evenly spaced around the colour wheel) and its own shape
 * (square, disc, stripes, cross, ring, diagonal, cycling), drawn at a jittered position and size over a darker
 * background of the same hue, plus per-pixel noise. Everything is drawn from a seeded PythonRandom, so the same
 * options give byte-identical files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DATASETS, type DatasetName } from '../datasets/index.ts';
import { PythonRandom } from '../python-random.ts';

export type SplitJsonDatasetName = Exclude<
  DatasetName,
  'imagenet' | 'fgvc_aircraft' | 'imagenet_v2' | 'imagenet_sketch' | 'imagenet_a' | 'imagenet_r'
>;

export interface TinyDatasetOptions {
  /** The DATASET.ROOT directory; the dataset folder is created inside it. */
  root: string;
  /** Which layout to imitate (default 'eurosat'). */
  dataset?: SplitJsonDatasetName;
  /** Class names, or a count (names class_0, class_1, ...). Default 3. */
  classes?: string[] | number;
  /** Images per class and split (default train 8, val 2, test 4). */
  perClass?: { train: number; val: number; test: number };
  /** Image side in pixels (default 32). */
  size?: number;
  /** Vary width and height per image within ±25% of `size` (default false). */
  varySize?: boolean;
  /** Per-pixel noise amplitude in 0..255 (default 24). */
  noise?: number;
  /** Generator seed (default 0). */
  seed?: number;
}

export interface TinyDataset {
  name: SplitJsonDatasetName;
  root: string;
  datasetDir: string;
  imageDir: string;
  splitFile: string;
  classnames: string[];
  /** Relative paths (as in the split file) per split. */
  relpaths: { train: string[]; val: string[]; test: string[] };
}

type Split = 'train' | 'val' | 'test';
const SHAPES = ['square', 'disc', 'stripes', 'cross', 'ring', 'diagonal'] as const;

export async function writeTinyDataset(opts: TinyDatasetOptions): Promise<TinyDataset> {
  const name = opts.dataset ?? 'eurosat';
  const info = DATASETS[name];
  if (info.layout !== 'split-json') throw new Error(`writeTinyDataset supports split-json datasets, not ${name}`);
  const classes = opts.classes ?? 3;
  const classnames = typeof classes === 'number' ? Array.from({ length: classes }, (_, i) => `class_${i}`) : classes;
  const perClass = opts.perClass ?? { train: 8, val: 2, test: 4 };
  const size = opts.size ?? 32;
  const noise = opts.noise ?? 24;
  const rng = new PythonRandom(opts.seed ?? 0);

  const root = path.resolve(opts.root);
  const datasetDir = path.join(root, info.folder);
  const imageDir = path.join(datasetDir, info.imageDir);
  const split: Record<Split, [string, number, string][]> = { train: [], val: [], test: [] };
  const relpaths: TinyDataset['relpaths'] = { train: [], val: [], test: [] };

  for (const s of ['train', 'val', 'test'] as const) {
    for (const [label, classname] of classnames.entries()) {
      const folder = classname.replace(/[^A-Za-z0-9_-]+/g, '_');
      // StanfordCars paths are relative to the dataset folder; give them a split directory like cars_train/.
      const relDir = info.imageDir === '' ? `${s}_images/${folder}` : folder;
      await mkdir(path.join(imageDir, relDir), { recursive: true });
      for (let i = 0; i < perClass[s]; i++) {
        const rel = `${relDir}/${s}_${String(i).padStart(4, '0')}.png`;
        const w = opts.varySize ? Math.round(size * rng.uniform(0.75, 1.25)) : size;
        const h = opts.varySize ? Math.round(size * rng.uniform(0.75, 1.25)) : size;
        const pixels = drawClassImage(label, classnames.length, w, h, noise, rng);
        const png = await sharp(pixels, { raw: { width: w, height: h, channels: 3 } })
          .png()
          .toBuffer();
        await writeFile(path.join(imageDir, ...rel.split('/')), png);
        split[s].push([rel, label, classname]);
        relpaths[s].push(rel);
      }
    }
  }
  const splitFile = path.join(datasetDir, info.requiredFiles[0] as string);
  await writeFile(splitFile, `${JSON.stringify(split, null, 4)}\n`);
  return { name, root, datasetDir, imageDir, splitFile, classnames, relpaths };
}

/** HWC uint8 RGB: background and shape colours from the class hue, a class shape, then noise. */
export function drawClassImage(
  label: number,
  numClasses: number,
  width: number,
  height: number,
  noise: number,
  rng: PythonRandom,
): Buffer {
  const hue = label / Math.max(1, numClasses);
  const fg = hsvToRgb(hue, 0.9, 1.0);
  const bg = hsvToRgb(hue, 0.6, 0.35);
  const shape = SHAPES[label % SHAPES.length] as (typeof SHAPES)[number];
  const side = Math.min(width, height);
  const cx = width / 2 + rng.uniform(-0.15, 0.15) * side;
  const cy = height / 2 + rng.uniform(-0.15, 0.15) * side;
  const r = side * rng.uniform(0.25, 0.35);
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = insideShape(shape, x + 0.5 - cx, y + 0.5 - cy, r);
      const base = inside ? fg : bg;
      for (let c = 0; c < 3; c++) {
        const v = (base[c] as number) + (rng.random() * 2 - 1) * noise;
        out[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return out;
}

function insideShape(shape: (typeof SHAPES)[number], dx: number, dy: number, r: number): boolean {
  const d = Math.hypot(dx, dy);
  switch (shape) {
    case 'square':
      return Math.abs(dx) <= r && Math.abs(dy) <= r;
    case 'disc':
      return d <= r;
    case 'stripes':
      return Math.abs(dx) <= r * 1.3 && Math.abs(dy) <= r * 1.3 && Math.floor((dy + r * 2) / (r / 2)) % 2 === 0;
    case 'cross':
      return (Math.abs(dx) <= r / 3 && Math.abs(dy) <= r) || (Math.abs(dy) <= r / 3 && Math.abs(dx) <= r);
    case 'ring':
      return d <= r && d >= r * 0.55;
    case 'diagonal':
      return Math.abs(dx - dy) <= r / 2.5 && Math.abs(dx) <= r && Math.abs(dy) <= r;
  }
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const table: [number, number, number][] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ];
  const [r, g, b] = table[((i % 6) + 6) % 6] as [number, number, number];
  return [r * 255, g * 255, b * 255];
}
