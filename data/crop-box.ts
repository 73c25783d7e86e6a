/**
 * torchvision's `RandomResizedCrop.get_params` (docs/method.md §13), driven by the CPython generator port.
 *
 * The algorithm is torchvision's, step for step: up to 10 attempts drawing an area fraction uniform in `scale` and a
 * log-uniform aspect ratio in `ratio`, w = round(sqrt(area·r)), h = round(sqrt(area/r)) with Python's
 * round-half-to-even, accepted when 0 < w ≤ W and 0 < h ≤ H, then top and left uniform integers (top first); if all
 * attempts fail, a centre crop of the whole image clamped to the ratio bounds. The random numbers are NOT torch's:
 * current torchvision draws them from torch's generator, which is not reproduced, so individual crops differ from a
 * PyTorch run while their distribution is the same. (torchvision ≤ 0.7 drew exactly these calls from Python's
 * `random` module: `uniform`, `uniform`, `randint`, `randint`.)
 */
import { DatasetError } from './errors.ts';
import type { PythonRandom } from './python-random.ts';

export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

export const DEFAULT_SCALE: readonly [number, number] = [0.08, 1.0];
export const DEFAULT_RATIO: readonly [number, number] = [3 / 4, 4 / 3];

export function randomResizedCropBox(
  rng: PythonRandom,
  width: number,
  height: number,
  scale: readonly [number, number] = DEFAULT_SCALE,
  ratio: readonly [number, number] = DEFAULT_RATIO,
): CropBox {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new DatasetError(
      `randomResizedCropBox: image size must be positive integers, got ${width}x${height}`,
      'bad-request',
    );
  }
  const area = width * height;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const w = pythonRound(Math.sqrt(targetArea * aspect));
    const h = pythonRound(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.randint(0, height - h);
      const left = rng.randint(0, width - w);
      return { left, top, width: w, height: h };
    }
  }
  const inRatio = width / height;
  const minRatio = Math.min(ratio[0], ratio[1]);
  const maxRatio = Math.max(ratio[0], ratio[1]);
  let w = width;
  let h = height;
  if (inRatio < minRatio) h = pythonRound(w / minRatio);
  else if (inRatio > maxRatio) w = pythonRound(h * maxRatio);
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

/** Python 3's `round(x)` for floats: to the nearest integer, ties to even. */
export function pythonRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** `RandomHorizontalFlip(p)`: flips when a uniform draw falls below p (one `random()` per image). */
export function drawFlip(rng: PythonRandom, p = 0.5): boolean {
  return rng.random() < p;
}
