/**
 * Procedural image-caption pairs: a few coloured, textured shapes on a dark background, plus unnamed grey clutter
 * (the distractors), and a caption naming every coloured object ("a large red striped circle and a small blue
 * square"). Every random choice comes from a seeded PythonRandom and the pixels are drawn here, so the same seed
 * gives the same scenes and, through sharp's PNG encoder, byte-identical files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import { PythonRandom } from '../python-random.ts';

export const SHAPES = ['square', 'circle', 'triangle', 'star', 'cross', 'ring'] as const;
export const COLOURS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'] as const;
export const TEXTURES = ['solid', 'striped', 'dotted'] as const;
export const SIZES = ['small', 'large'] as const;

export type Shape = (typeof SHAPES)[number];
export type Colour = (typeof COLOURS)[number];
export type Texture = (typeof TEXTURES)[number];
export type Size = (typeof SIZES)[number];
type Rgb = readonly [number, number, number];

const COLOUR_RGB: Readonly<Record<Colour, Rgb>> = {
  red: [220, 40, 40],
  green: [40, 190, 60],
  blue: [50, 90, 230],
  yellow: [240, 220, 40],
  purple: [150, 60, 200],
  orange: [245, 140, 30],
};
const CLUTTER_RGB: Rgb = [120, 120, 120];

/** Object radius as a fraction of the image side; the two bands never overlap so "small"/"large" stay visible. */
const RADIUS_RANGE: Readonly<Record<Size, readonly [number, number]>> = {
  small: [0.1, 0.13],
  large: [0.19, 0.23],
};
/** Most large objects in a random scene. */
const MAX_LARGE = 2;
const CLUTTER_RADIUS: readonly [number, number] = [0.04, 0.07];
const STRIPE_PERIOD = 4;
const DOT_PERIOD = 4;
/** Sub-pixel samples per axis for coverage, so edges are antialiased without any floating state across pixels. */
const SUBSAMPLES = 3;

export interface SceneObject {
  shape: Shape;
  colour: Colour;
  texture: Texture;
  size: Size;
  /** Centre and radius in pixels. */
  cx: number;
  cy: number;
  r: number;
}

export interface ClutterObject {
  shape: Shape;
  cx: number;
  cy: number;
  r: number;
}

export interface Scene {
  width: number;
  height: number;
  background: Rgb;
  /** Named objects, in caption order. */
  objects: SceneObject[];
  /** Grey distractor shapes the caption leaves out. */
  clutter: ClutterObject[];
}

/** A partial description an object must satisfy; unspecified attributes are drawn at random from `allowed`. */
export interface ObjectConstraint {
  shape?: Shape;
  colour?: Colour;
  texture?: Texture;
  size?: Size;
}

export interface AttributePools {
  shapes?: readonly Shape[];
  colours?: readonly Colour[];
  textures?: readonly Texture[];
  sizes?: readonly Size[];
}

export const sceneOptionsSchema = z.object({
  /** Image side in pixels. */
  size: z.number().int().min(16).max(256).default(48),
  /** Named objects per scene, inclusive range. */
  minObjects: z.number().int().min(1).max(6).default(1),
  maxObjects: z.number().int().min(1).max(6).default(3),
  /** Grey clutter per scene, inclusive range. */
  minClutter: z.number().int().min(0).max(6).default(0),
  maxClutter: z.number().int().min(0).max(6).default(2),
  /** Per-pixel noise amplitude in 0..255. */
  noise: z.number().min(0).max(64).default(8),
});
export type SceneOptions = z.input<typeof sceneOptionsSchema>;
type ResolvedSceneOptions = z.output<typeof sceneOptionsSchema>;

export function resolveSceneOptions(opts: SceneOptions = {}): ResolvedSceneOptions {
  const o = sceneOptionsSchema.parse(opts);
  if (o.minObjects > o.maxObjects) throw new Error(`minObjects ${o.minObjects} exceeds maxObjects ${o.maxObjects}`);
  if (o.minClutter > o.maxClutter) throw new Error(`minClutter ${o.minClutter} exceeds maxClutter ${o.maxClutter}`);
  return o;
}

/**
 * Draws one object's attributes: the constraint's values where given, otherwise uniform picks from the pools
 * (defaulting to every value). Always consumes the same draws for the same constraint, pools and generator state.
 */
export function sampleAttributes(
  rng: PythonRandom,
  constraint: ObjectConstraint = {},
  pools: AttributePools = {},
): Omit<SceneObject, 'cx' | 'cy' | 'r'> {
  return {
    shape: constraint.shape ?? rng.choice(pools.shapes ?? SHAPES),
    colour: constraint.colour ?? rng.choice(pools.colours ?? COLOURS),
    texture: constraint.texture ?? rng.choice(pools.textures ?? TEXTURES),
    size: constraint.size ?? rng.choice(pools.sizes ?? SIZES),
  };
}

/**
 * Places the given objects (largest first, so the big ones find room) without overlap, then some clutter in the
 * remaining space. Placement is rejection sampling; a scene that cannot be packed after many tries is an error
 * naming its objects rather than a silent overlap.
 */
export function layoutScene(
  rng: PythonRandom,
  attributes: Omit<SceneObject, 'cx' | 'cy' | 'r'>[],
  clutterCount: number,
  opts: SceneOptions = {},
): Scene {
  const o = resolveSceneOptions(opts);
  // A bad early placement can leave no room for a later object; starting the layout over is cheap at these sizes.
  for (let attempt = 0; attempt < LAYOUT_ATTEMPTS; attempt++) {
    const scene = tryLayout(rng, attributes, clutterCount, o.size);
    if (scene !== null) return scene;
  }
  const named = attributes.map(describeObject).join(', ');
  throw new Error(
    `cannot place ${named} and ${clutterCount} clutter without overlap in a ${o.size}px scene; use fewer objects`,
  );
}

const LAYOUT_ATTEMPTS = 50;
const PLACE_ATTEMPTS = 100;

function tryLayout(
  rng: PythonRandom,
  attributes: Omit<SceneObject, 'cx' | 'cy' | 'r'>[],
  clutterCount: number,
  side: number,
): Scene | null {
  const placed: { cx: number; cy: number; r: number }[] = [];
  const place = (r: number): { cx: number; cy: number } | null => {
    for (let attempt = 0; attempt < PLACE_ATTEMPTS; attempt++) {
      const cx = rng.uniform(r + 1, side - r - 1);
      const cy = rng.uniform(r + 1, side - r - 1);
      if (placed.every((p) => Math.hypot(p.cx - cx, p.cy - cy) >= p.r + r + 1.5)) {
        placed.push({ cx, cy, r });
        return { cx, cy };
      }
    }
    return null;
  };
  const radii = attributes.map((a) => {
    const [lo, hi] = RADIUS_RANGE[a.size];
    return side * rng.uniform(lo, hi);
  });
  const order = attributes.map((_, i) => i).sort((a, b) => (radii[b] as number) - (radii[a] as number) || a - b);
  const objects = new Array<SceneObject>(attributes.length);
  for (const i of order) {
    const r = radii[i] as number;
    const at = place(r);
    if (at === null) return null;
    objects[i] = { ...(attributes[i] as Omit<SceneObject, 'cx' | 'cy' | 'r'>), ...at, r };
  }
  const clutter: ClutterObject[] = [];
  for (let i = 0; i < clutterCount; i++) {
    const shape = rng.choice(SHAPES);
    const r = side * rng.uniform(CLUTTER_RADIUS[0], CLUTTER_RADIUS[1]);
    const at = place(r);
    if (at === null) return null;
    clutter.push({ shape, ...at, r });
  }
  const shade = rng.randint(15, 45);
  return { width: side, height: side, background: [shade, shade, shade + 5], objects, clutter };
}

/** A random scene: a random number of random objects and clutter, within the options' ranges. */
export function sampleScene(rng: PythonRandom, opts: SceneOptions = {}): Scene {
  const o = resolveSceneOptions(opts);
  const count = rng.randint(o.minObjects, o.maxObjects);
  // Two large objects already fill most of the picture; later ones are drawn small so every scene can be packed.
  const attributes: Omit<SceneObject, 'cx' | 'cy' | 'r'>[] = [];
  for (let i = 0; i < count; i++) {
    const large = attributes.filter((a) => a.size === 'large').length;
    attributes.push(sampleAttributes(rng, large >= MAX_LARGE ? { size: 'small' } : {}));
  }
  const clutter = rng.randint(o.minClutter, o.maxClutter);
  return layoutScene(rng, attributes, clutter, o);
}

/** "large red striped circle"; solid is the unmarked texture, as in ordinary speech. */
export function describeObject(obj: Pick<SceneObject, 'shape' | 'colour' | 'texture' | 'size'>): string {
  const texture = obj.texture === 'solid' ? [] : [obj.texture];
  return [obj.size, obj.colour, ...texture, obj.shape].join(' ');
}

/** "a large red striped circle, a small blue square and a small green ring". */
export function captionScene(scene: Pick<Scene, 'objects'>): string {
  const parts = scene.objects.map((o) => `a ${describeObject(o)}`);
  if (parts.length === 0) return 'an empty picture';
  if (parts.length === 1) return parts[0] as string;
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** Whether the point (u, v), in units of the radius from the centre, lies inside the shape. */
export function insideShape(shape: Shape, u: number, v: number): boolean {
  switch (shape) {
    case 'square':
      return Math.abs(u) <= 0.8 && Math.abs(v) <= 0.8;
    case 'circle':
      return u * u + v * v <= 1;
    case 'triangle':
      // Upward equilateral triangle inscribed in the unit circle: apex (0, -1), base at v = 0.5.
      return v <= 0.5 && v >= -1 + Math.sqrt(3) * Math.abs(u);
    case 'star': {
      const d = Math.hypot(u, v);
      const arm = (2 * Math.PI) / 5;
      const phase = ((Math.atan2(u, -v) % arm) + arm) % arm;
      const t = Math.abs((2 * phase) / arm - 1);
      return d <= 0.42 + 0.58 * t * t;
    }
    case 'cross':
      return (Math.abs(u) <= 0.3 && Math.abs(v) <= 0.95) || (Math.abs(v) <= 0.3 && Math.abs(u) <= 0.95);
    case 'ring': {
      const d2 = u * u + v * v;
      return d2 <= 1 && d2 >= 0.5 * 0.5;
    }
  }
}

/** The colour of a textured object at an image pixel: stripes and dots are tied to image coordinates. */
function texturedColour(texture: Texture, base: Rgb, x: number, y: number): Rgb {
  const dark: Rgb = [base[0] * 0.5, base[1] * 0.5, base[2] * 0.5];
  switch (texture) {
    case 'solid':
      return base;
    case 'striped':
      return Math.floor((x + y) / (STRIPE_PERIOD / 2)) % 2 === 0 ? base : dark;
    case 'dotted': {
      const dx = (x % DOT_PERIOD) - DOT_PERIOD / 2 + 0.5;
      const dy = (y % DOT_PERIOD) - DOT_PERIOD / 2 + 0.5;
      return dx * dx + dy * dy <= 1 ? dark : base;
    }
  }
}

/** One layer per object: RGBA with alpha = covered fraction of the pixel's sub-samples. */
function drawLayer(
  width: number,
  height: number,
  shape: Shape,
  cx: number,
  cy: number,
  r: number,
  paint: (x: number, y: number) => Rgb,
): Uint8Array {
  const layer = new Uint8Array(width * height * 4);
  const x0 = Math.max(0, Math.floor(cx - r - 1));
  const x1 = Math.min(width - 1, Math.ceil(cx + r + 1));
  const y0 = Math.max(0, Math.floor(cy - r - 1));
  const y1 = Math.min(height - 1, Math.ceil(cy + r + 1));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let hits = 0;
      for (let sy = 0; sy < SUBSAMPLES; sy++) {
        for (let sx = 0; sx < SUBSAMPLES; sx++) {
          const px = x + (sx + 0.5) / SUBSAMPLES;
          const py = y + (sy + 0.5) / SUBSAMPLES;
          if (insideShape(shape, (px - cx) / r, (py - cy) / r)) hits++;
        }
      }
      if (hits === 0) continue;
      const [red, green, blue] = paint(x, y);
      const at = (y * width + x) * 4;
      layer[at] = Math.round(red);
      layer[at + 1] = Math.round(green);
      layer[at + 2] = Math.round(blue);
      layer[at + 3] = Math.round((255 * hits) / (SUBSAMPLES * SUBSAMPLES));
    }
  }
  return layer;
}

/** Source-over of an RGBA layer onto an opaque RGBA canvas, in integer arithmetic so results never depend on FP. */
function composeOver(canvas: Uint8Array, layer: Uint8Array): void {
  for (let i = 0; i < canvas.length; i += 4) {
    const a = layer[i + 3] as number;
    if (a === 0) continue;
    for (let c = 0; c < 3; c++) {
      const under = canvas[i + c] as number;
      canvas[i + c] = Math.round(((layer[i + c] as number) * a + under * (255 - a)) / 255);
    }
  }
}

/**
 * The scene as opaque RGBA pixels: background, clutter, then the named objects (each drawn as its own RGBA layer
 * and composed over), then per-pixel noise drawn from `rng` (none when `noise` is 0).
 */
export function renderScene(scene: Scene, rng: PythonRandom, noise = 8): Buffer {
  const { width, height } = scene;
  const canvas = new Uint8Array(width * height * 4);
  for (let i = 0; i < canvas.length; i += 4) {
    canvas[i] = scene.background[0];
    canvas[i + 1] = scene.background[1];
    canvas[i + 2] = scene.background[2];
    canvas[i + 3] = 255;
  }
  for (const c of scene.clutter) {
    composeOver(
      canvas,
      drawLayer(width, height, c.shape, c.cx, c.cy, c.r, () => CLUTTER_RGB),
    );
  }
  for (const o of scene.objects) {
    const base = COLOUR_RGB[o.colour];
    composeOver(
      canvas,
      drawLayer(width, height, o.shape, o.cx, o.cy, o.r, (x, y) => texturedColour(o.texture, base, x, y)),
    );
  }
  if (noise > 0) {
    for (let i = 0; i < canvas.length; i += 4) {
      for (let c = 0; c < 3; c++) {
        const v = (canvas[i + c] as number) + Math.round((rng.random() * 2 - 1) * noise);
        canvas[i + c] = Math.max(0, Math.min(255, v));
      }
    }
  }
  return Buffer.from(canvas.buffer, canvas.byteOffset, canvas.byteLength);
}

/** PNG bytes of opaque RGBA pixels, written as RGB (the alpha carries nothing once composed). */
export async function encodePng(rgba: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(rgba, { raw: { width, height, channels: 4 } })
    .removeAlpha()
    .png({ compressionLevel: 9, adaptiveFiltering: false })
    .toBuffer();
}

export interface CaptionedScene {
  /** Path relative to the output directory, e.g. `images/000000.png`. */
  file: string;
  caption: string;
  scene: Scene;
}

export interface CaptionCorpusOptions extends SceneOptions {
  /** Output directory; images go to `<dir>/images/` and the pairs to `<dir>/captions.jsonl`. */
  dir: string;
  count: number;
  seed?: number;
}

/**
 * Writes `count` image-caption pairs: `images/NNNNNN.png` and one JSON line per pair in `captions.jsonl`
 * (`{"file", "caption", "objects"}`), for contrastive pretraining.
 */
export async function writeCaptionCorpus(opts: CaptionCorpusOptions): Promise<CaptionedScene[]> {
  if (!Number.isInteger(opts.count) || opts.count < 0)
    throw new Error(`count must be a non-negative integer, got ${opts.count}`);
  const o = resolveSceneOptions(opts);
  const rng = new PythonRandom(opts.seed ?? 0);
  const dir = path.resolve(opts.dir);
  await mkdir(path.join(dir, 'images'), { recursive: true });
  const pairs: CaptionedScene[] = [];
  const lines: string[] = [];
  for (let i = 0; i < opts.count; i++) {
    const scene = sampleScene(rng, o);
    const file = `images/${String(i).padStart(6, '0')}.png`;
    const png = await encodePng(renderScene(scene, rng, o.noise), scene.width, scene.height);
    await writeFile(path.join(dir, ...file.split('/')), png);
    const caption = captionScene(scene);
    pairs.push({ file, caption, scene });
    const objects = scene.objects.map(({ shape, colour, texture, size }) => ({ shape, colour, texture, size }));
    lines.push(JSON.stringify({ file, caption, objects }));
  }
  await writeFile(path.join(dir, 'captions.jsonl'), lines.length > 0 ? `${lines.join('\n')}\n` : '');
  return pairs;
}
