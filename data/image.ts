import { access } from 'node:fs/promises';
import sharp from 'sharp';
import { DatasetError } from './errors.ts';

/** 8-bit RGB pixels, row-major HWC. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/**
 * Decodes any image sharp reads to 8-bit RGB, like PIL's `.convert("RGB")`: alpha dropped (not composited),
 * greyscale and palette expanded; embedded ICC profiles and EXIF orientation ignored, as PIL ignores them.
 */
export async function decodeRgb(path: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(path, { failOn: 'error', ignoreIcc: true })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
    };
  } catch (err) {
    throw await decodeFailure(path, err);
  }
}

/**
 * What a failed decode means. A file that is there but does not decode (truncated, garbage, not an image) is a data
 * error naming the file: retrying cannot help, so the trainer fails the trial at once (trainer-host/child.ts). A
 * file that is not there is a missing file; a file that cannot even be checked (EIO, EMFILE) stays an ordinary
 * error, which the trainer treats as an infrastructure failure worth retrying.
 */
async function decodeFailure(path: string, err: unknown): Promise<Error> {
  const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  try {
    await access(path);
  } catch (accessErr) {
    const code = (accessErr as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return new DatasetError(`image ${path} is missing; restore it or remove it from the split file`, 'missing-file');
    }
    return new Error(`${path} cannot be read (${code ?? reason})`);
  }
  return new DatasetError(
    `${path} is not a readable image (${reason}); replace the file or remove it from the split file`,
    'bad-image',
  );
}

/**
 * Crops `box` and resizes it to outW × outH with bicubic (Catmull-Rom, a = -0.5) resampling, antialiased when
 * shrinking — the same kernel as PIL's BICUBIC. Results differ from PIL by rounding-level amounts (see
 * tools/reference/README.md for measured figures).
 */
export async function resizeRegion(img: RgbImage, box: Box, outW: number, outH: number): Promise<RgbImage> {
  const { left, top, width, height } = box;
  for (const [name, v] of Object.entries({ left, top, width, height, outW, outH })) {
    if (!Number.isInteger(v) || v < 0)
      throw new Error(`resizeRegion: ${name} must be a non-negative integer, got ${v}`);
  }
  if (width === 0 || height === 0 || outW === 0 || outH === 0) throw new Error('resizeRegion: empty box or output');
  if (left + width > img.width || top + height > img.height) {
    throw new Error(`resizeRegion: box ${JSON.stringify(box)} exceeds the ${img.width}×${img.height} image`);
  }
  let pipeline = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (left !== 0 || top !== 0 || width !== img.width || height !== img.height) {
    pipeline = pipeline.extract({ left, top, width, height });
  }
  if (outW !== width || outH !== height) pipeline = pipeline.resize(outW, outH, { fit: 'fill', kernel: 'cubic' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
  };
}

/** [0, 255] → [0, 1] → (x - mean) / std per channel; HWC float32. `flip` mirrors left-right. */
export function normalizeClip(img: RgbImage, flip = false): Float32Array {
  const { data, width, height } = img;
  const out = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (y * width + (flip ? width - 1 - x : x)) * 3;
      const dst = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        out[dst + c] = ((data[src + c] ?? 0) / 255 - (CLIP_MEAN[c] ?? 0)) / (CLIP_STD[c] ?? 1);
      }
    }
  }
  return out;
}

/** torchvision Resize(size) on the shorter side: the longer side is truncated, like int(size * long / short). */
export function shorterSideSize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}

/** torchvision CenterCrop offsets: int(round((dim - size) / 2)) with Python's round-half-to-even. */
export function centreCropBox(width: number, height: number, size: number): Box {
  if (width < size || height < size) throw new Error(`centre crop ${size} larger than ${width}×${height}`);
  return {
    left: roundHalfEven((width - size) / 2),
    top: roundHalfEven((height - size) / 2),
    width: size,
    height: size,
  };
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** CLIP's test-time transform: shorter side to `size` (bicubic), centre crop, normalise → HWC float32. */
export async function clipEvalTransform(path: string, size: number): Promise<Float32Array> {
  return normalizeClip(await clipEvalImage(path, size));
}

/** The 8-bit image of the eval transform before normalisation (exposed for the PIL comparison). */
export async function clipEvalImage(path: string, size: number): Promise<RgbImage> {
  const img = await decodeRgb(path);
  const resized = shorterSideSize(img.width, img.height, size);
  const scaled = await resizeRegion(
    img,
    { left: 0, top: 0, width: img.width, height: img.height },
    resized.width,
    resized.height,
  );
  return resizeRegion(scaled, centreCropBox(scaled.width, scaled.height, size), size, size);
}
