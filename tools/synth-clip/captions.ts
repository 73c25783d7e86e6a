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

/** "a large red circle", "a red shape", "a striped star": a random subset of attributes, never the bare noun. */
export function partialDescription(rng: PythonRandom, obj: Attributes): string {
  const keepShape = rng.random() < KEEP.shape;
  let keepColour = rng.random() < KEEP.colour;
  const keepSize = rng.random() < KEEP.size;
  const keepTexture = obj.texture !== 'solid' && rng.random() < KEEP.texture;
  // "a shape" says nothing; without the shape name, the colour is kept.
  if (!keepShape) keepColour = true;
  const words = [
    ...(keepSize ? [obj.size] : []),
    ...(keepColour ? [obj.colour] : []),
    ...(keepTexture ? [obj.texture] : []),
    keepShape ? obj.shape : 'shape',
  ];
  return `a ${words.join(' ')}`;
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
  const objects = scene.objects;
  const roll = rng.random();
  let text: string;
  if (objects.length === 0 || roll < 0.3) text = captionScene(scene);
  else if (roll < 0.75 || objects.length === 1) {
    const large = objects.filter((o) => o.size === 'large');
    const mixed = large.length > 0 && large.length < objects.length;
    const pool = mixed && rng.random() < 0.5 ? large : objects;
    text = partialDescription(rng, rng.choice(pool));
  } else {
    const k = rng.randint(2, objects.length);
    text = joinPhrases(rng.sample(objects, k).map((o) => partialDescription(rng, o)));
  }
  return rng.random() < 0.5 ? `${text}.` : text;
}
