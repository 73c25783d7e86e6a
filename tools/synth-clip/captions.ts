/**
 * Caption variants for contrastive pretraining. Besides the full caption of a scene, partial descriptions (one
 * object, a few objects, some attributes dropped: "a red shape", "a large circle", "a circle") teach the model the
 * short phrases that zero-shot and prompt-tuning templates use. Every choice comes from the caller's generator.
 */
import type { PythonRandom } from '../../data/python-random.ts';
import { captionScene, type Scene, type SceneObject } from '../../data/synthetic/scene.ts';

type Attributes = Pick<SceneObject, 'shape' | 'colour' | 'texture' | 'size'>;

/** Probabilities of keeping each attribute in a partial description. */
const KEEP = { shape: 0.7, colour: 0.6, size: 0.5, texture: 0.4 } as const;

/** What a caption says of one object: the attributes it names (texture only when named). */
export type Described = Partial<Attributes>;

/** A caption and its meaning: the objects it describes, and whether it describes every object of the scene. */
export interface CaptionMeaning {
  text: string;
  described: Described[];
  /** True for the full caption: it names every object with every attribute ("solid" being the unmarked texture). */
  complete: boolean;
}

/** "a large red circle", "a red shape", "a striped star": a random subset of attributes, never the bare noun. */
export function partialDescription(rng: PythonRandom, obj: Attributes): string {
  return describePartially(rng, obj).text;
}

function describePartially(rng: PythonRandom, obj: Attributes): { text: string; described: Described } {
  const keepShape = rng.random() < KEEP.shape;
  let keepColour = rng.random() < KEEP.colour;
  const keepSize = rng.random() < KEEP.size;
  const keepTexture = obj.texture !== 'solid' && rng.random() < KEEP.texture;
  // "a shape" says nothing; without the shape name, the colour is kept.
  if (!keepShape) keepColour = true;
  const described: Described = {
    ...(keepSize ? { size: obj.size } : {}),
    ...(keepColour ? { colour: obj.colour } : {}),
    ...(keepTexture ? { texture: obj.texture } : {}),
    ...(keepShape ? { shape: obj.shape } : {}),
  };
  const words = [
    ...(keepSize ? [obj.size] : []),
    ...(keepColour ? [obj.colour] : []),
    ...(keepTexture ? [obj.texture] : []),
    keepShape ? obj.shape : 'shape',
  ];
  return { text: `a ${words.join(' ')}`, described };
}

function joinPhrases(parts: string[]): string {
  if (parts.length <= 1) return parts[0] ?? 'an empty picture';
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/**
 * One caption for the scene: the full caption (30%), one object partially described (45%; in a scene with both
 * sizes the large object half of the time, which is how "the large X among small things" gets named), or a random
 * subset of objects partially described (25%). A final period half of the time, as templates end with one.
 */
export function captionVariant(rng: PythonRandom, scene: Pick<Scene, 'objects'>): string {
  return captionWithMeaning(rng, scene).text;
}

/** `captionVariant` with what the caption says (same random draws, same text). */
export function captionWithMeaning(rng: PythonRandom, scene: Pick<Scene, 'objects'>): CaptionMeaning {
  const objects = scene.objects;
  const roll = rng.random();
  let text: string;
  let described: Described[];
  let complete = false;
  if (objects.length === 0 || roll < 0.3) {
    text = captionScene(scene);
    described = objects.map(({ shape, colour, texture, size }) => ({ shape, colour, texture, size }));
    complete = true;
  } else if (roll < 0.75 || objects.length === 1) {
    const large = objects.filter((o) => o.size === 'large');
    const mixed = large.length > 0 && large.length < objects.length;
    const pool = mixed && rng.random() < 0.5 ? large : objects;
    const one = describePartially(rng, rng.choice(pool));
    text = one.text;
    described = [one.described];
  } else {
    const k = rng.randint(2, objects.length);
    const parts = rng.sample(objects, k).map((o) => describePartially(rng, o));
    text = joinPhrases(parts.map((p) => p.text));
    described = parts.map((p) => p.described);
  }
  return { text: rng.random() < 0.5 ? `${text}.` : text, described, complete };
}

/**
 * Whether the caption is true of a scene with these objects: each described object matches a different object of
 * the scene (every named attribute equal), and a complete caption also names every object. Grey clutter is never
 * described, so it never counts.
 */
export function captionIsTrueOf(meaning: Omit<CaptionMeaning, 'text'>, objects: readonly Attributes[]): boolean {
  if (meaning.complete && meaning.described.length !== objects.length) return false;
  const used = new Array<boolean>(objects.length).fill(false);
  const fits = (d: Described, o: Attributes) =>
    (d.shape === undefined || d.shape === o.shape) &&
    (d.colour === undefined || d.colour === o.colour) &&
    (d.texture === undefined || d.texture === o.texture) &&
    (d.size === undefined || d.size === o.size);
  const assign = (k: number): boolean => {
    const d = meaning.described[k];
    if (d === undefined) return true;
    for (let j = 0; j < objects.length; j++) {
      const o = objects[j] as Attributes;
      if (used[j] || !fits(d, o)) continue;
      used[j] = true;
      if (assign(k + 1)) return true;
      used[j] = false;
    }
    return false;
  };
  return assign(0);
}
