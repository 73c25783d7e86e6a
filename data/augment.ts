/**
 * The training transform of Dassl's `build_transform` (docs/method.md §13): RandomResizedCrop(size, scale 0.08–1,
 * ratio 3/4–4/3, bicubic) on the decoded image (no resize before), RandomHorizontalFlip(0.5), to [0, 1], CLIP
 * normalisation. Every random draw comes from the trial's one PythonRandom, crop first, then flip (the order of
 * torchvision's Compose); see crop-box.ts for what is and is not reproduced from PyTorch.
 */
import { drawFlip, randomResizedCropBox } from './crop-box.ts';
import { decodeRgb, normalizeClip, resizeRegion } from './image.ts';
import type { PythonRandom } from './python-random.ts';

export { type CropBox, DEFAULT_RATIO, DEFAULT_SCALE, drawFlip, pythonRound, randomResizedCropBox } from './crop-box.ts';

/** One augmented training image as HWC float32 [size, size, 3], CLIP-normalised. */
export async function trainTransform(imagePath: string, rng: PythonRandom, size: number): Promise<Float32Array> {
  const img = await decodeRgb(imagePath);
  const box = randomResizedCropBox(rng, img.width, img.height);
  const flip = drawFlip(rng);
  const resized = await resizeRegion(img, box, size, size);
  return normalizeClip(resized, flip);
}
