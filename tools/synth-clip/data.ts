/**
 * Image-caption batches drawn on the fly from the procedural scene generator, preprocessed like the downstream eval
 * path (8-bit RGB → CLIP mean/std normalisation; the scenes are already at the model's input size, so the eval
 * resize is the identity).
 */
import { normalizeClip } from '../../data/image.ts';
import { PythonRandom } from '../../data/python-random.ts';
import { renderScene, type SceneObject, type SceneOptions, sampleScene } from '../../data/synthetic/scene.ts';
import { type CaptionMeaning, captionWithMeaning } from './captions.ts';

/**
 * The pretraining stream's generator. Far above any seed `writeSyntheticTasks` uses (seed · 16 + task, seeds below
 * 2^40), so pretraining never draws the downstream tasks' scenes.
 */
export function pretrainRng(seed: number): PythonRandom {
  return new PythonRandom(2n ** 50n + BigInt(seed));
}

export interface PairBatch {
  /** NHWC, normalised, batch × size × size × 3. */
  pixels: Float32Array;
  captions: string[];
  /** What each caption says, and each image's named objects: which captions are true of which images. */
  meanings: CaptionMeaning[];
  objects: Pick<SceneObject, 'shape' | 'colour' | 'texture' | 'size'>[][];
}

export interface BatchOptions {
  size: number;
  noise?: number;
  scene?: SceneOptions;
}

/** 8-bit RGB of opaque RGBA pixels. */
export function rgbaToRgb(rgba: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    out[j] = rgba[i] as number;
    out[j + 1] = rgba[i + 1] as number;
    out[j + 2] = rgba[i + 2] as number;
  }
  return out;
}

export function sampleBatch(rng: PythonRandom, batch: number, opts: BatchOptions): PairBatch {
  const { size } = opts;
  const pixels = new Float32Array(batch * size * size * 3);
  const captions: string[] = [];
  const meanings: CaptionMeaning[] = [];
  const objects: PairBatch['objects'] = [];
  for (let i = 0; i < batch; i++) {
    const scene = sampleScene(rng, { ...opts.scene, size });
    const rgba = renderScene(scene, rng, opts.noise ?? 8);
    pixels.set(normalizeClip({ data: rgbaToRgb(rgba), width: size, height: size }), i * size * size * 3);
    const meaning = captionWithMeaning(rng, scene);
    captions.push(meaning.text);
    meanings.push(meaning);
    objects.push(scene.objects.map(({ shape, colour, texture, size }) => ({ shape, colour, texture, size })));
  }
  return { pixels, captions, meanings, objects };
}
