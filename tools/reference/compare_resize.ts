/**
 * Compares data/image.ts's CLIP eval transform (sharp) with PIL's on real photographs; prints JSON with the max and
 * mean absolute difference in 8-bit levels per photo and size.
 *   tools/reference/.venv/bin/python tools/reference/pil_eval_images.py /tmp/pil 224 32
 *   npx tsx tools/reference/compare_resize.ts /tmp/pil
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { clipEvalImage } from '../../data/image.ts';

interface Entry {
  photo: string;
  size: number;
  pil_rgb: string;
  source_size: [number, number];
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: compare_resize.ts PIL_OUTPUT_DIR');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Entry[];
const rows = [];
let worst = 0;
let sum = 0;
let count = 0;
for (const entry of manifest) {
  const pil = readFileSync(entry.pil_rgb);
  const ours = await clipEvalImage(entry.photo, entry.size);
  if (ours.data.length !== pil.length) throw new Error(`${entry.photo}: size mismatch`);
  let max = 0;
  let total = 0;
  let over2 = 0;
  for (let i = 0; i < pil.length; i++) {
    const d = Math.abs((ours.data[i] ?? 0) - (pil[i] ?? 0));
    max = Math.max(max, d);
    total += d;
    if (d > 2) over2++;
  }
  worst = Math.max(worst, max);
  sum += total;
  count += pil.length;
  rows.push({
    photo: basename(entry.photo),
    source: entry.source_size.join('x'),
    size: entry.size,
    max_abs: max,
    mean_abs: Number((total / pil.length).toFixed(4)),
    frac_over_2: Number((over2 / pil.length).toFixed(5)),
  });
}
console.log(
  JSON.stringify({ worst_max_abs: worst, overall_mean_abs: Number((sum / count).toFixed(4)), rows }, null, 1),
);
