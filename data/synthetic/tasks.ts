/**
 * Downstream few-shot classification tasks built from procedural scenes, each written in the CoOp layout of a
 * split_zhou dataset (`<root>/<folder>/<imageDir>/<class>/<split>_NNNN.png` plus `split_zhou_<Name>.json`) so the
 * normal readers load them with `loadDataset(<dataset>, root)`:
 *
 * - `shape`: one object; the label is its shape.
 * - `colour`: one object; the label is its colour.
 * - `target-shape`: one large object among small named distractors and grey clutter; the label is the large
 *   object's shape, and no distractor shares it, so only the target decides the class (DPT's motivating case: many
 *   objects in the picture, the task asks about one).
 *
 * Beside the split file, `synthetic_task.json` records the task, its class names, the prompt template that matches
 * the generator's captions, and every image's caption and objects.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DATASETS } from '../datasets/index.ts';
import { PythonRandom } from '../python-random.ts';
import {
  COLOURS,
  captionScene,
  encodePng,
  layoutScene,
  renderScene,
  type Scene,
  type SceneObject,
  SHAPES,
  sampleAttributes,
} from './scene.ts';
import type { SplitJsonDatasetName } from './shapes-dataset.ts';

export const TASK_KINDS = ['shape', 'colour', 'target-shape'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
type Split = 'train' | 'val' | 'test';

interface TaskDefinition {
  classnames: readonly string[];
  /** CoOp-style `{}` template phrased like the generator's captions. */
  template: string;
  /** Lays out one scene of the given class. */
  scene: (rng: PythonRandom, label: number, size: number) => Scene;
}

const TASKS: Readonly<Record<TaskKind, TaskDefinition>> = {
  shape: {
    classnames: SHAPES,
    template: 'a {}.',
    scene: (rng, label, size) =>
      layoutScene(rng, [sampleAttributes(rng, { shape: SHAPES[label] })], rng.randint(0, 1), { size }),
  },
  colour: {
    classnames: COLOURS,
    template: 'a {} shape.',
    scene: (rng, label, size) =>
      layoutScene(rng, [sampleAttributes(rng, { colour: COLOURS[label] })], rng.randint(0, 1), { size }),
  },
  'target-shape': {
    classnames: SHAPES,
    template: 'a large {}.',
    scene: (rng, label, size) => {
      const target = SHAPES[label];
      const others = SHAPES.filter((s) => s !== target);
      const distractors = rng.randint(1, 3);
      const attributes = [sampleAttributes(rng, { shape: target, size: 'large' })];
      for (let i = 0; i < distractors; i++) {
        attributes.push(sampleAttributes(rng, { size: 'small' }, { shapes: others }));
      }
      // The target's place in the caption varies, so caption order says nothing about which object is the label.
      rng.shuffle(attributes);
      return layoutScene(rng, attributes, rng.randint(0, 2), { size });
    },
  },
};

/** Each task's default CoOp folder: any split-json dataset works; these three keep the tasks apart under one root. */
export const DEFAULT_TASK_DATASETS: Readonly<Record<TaskKind, SplitJsonDatasetName>> = {
  shape: 'eurosat',
  colour: 'dtd',
  'target-shape': 'oxford_pets',
};

const perClassSchema = z.object({
  train: z.number().int().min(1),
  val: z.number().int().min(0),
  test: z.number().int().min(0),
});

export const syntheticTasksOptionsSchema = z.object({
  /** The DATASET.ROOT directory; each task's dataset folder is created inside it. */
  root: z.string().min(1),
  tasks: z
    .array(z.enum(TASK_KINDS))
    .min(1)
    .default([...TASK_KINDS]),
  /** Which dataset layout holds each task (defaults: DEFAULT_TASK_DATASETS). */
  datasets: z.record(z.enum(TASK_KINDS), z.string()).optional(),
  /** Images per class and split. */
  perClass: perClassSchema.default({ train: 16, val: 4, test: 10 }),
  /** Image side in pixels. */
  size: z.number().int().min(32).max(128).default(48),
  noise: z.number().min(0).max(64).default(8),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 40)
    .default(0),
});
export type SyntheticTasksOptions = z.input<typeof syntheticTasksOptionsSchema>;

export interface SyntheticTaskItem {
  split: Split;
  /** Path relative to the image directory, as in the split file. */
  file: string;
  label: number;
  caption: string;
  objects: Omit<SceneObject, 'cx' | 'cy' | 'r'>[];
  /** How many grey clutter shapes the image also holds. */
  clutter: number;
}

export interface SyntheticTask {
  kind: TaskKind;
  dataset: SplitJsonDatasetName;
  datasetDir: string;
  /** Absolute folder the split file's image paths are relative to. */
  imageDir: string;
  classnames: string[];
  template: string;
  items: SyntheticTaskItem[];
}

/** Writes the requested tasks under `root`; each task draws from its own generator so tasks do not shift each other. */
export async function writeSyntheticTasks(opts: SyntheticTasksOptions): Promise<SyntheticTask[]> {
  const o = syntheticTasksOptionsSchema.parse(opts);
  const chosen = o.tasks.map((kind) => ({ kind, dataset: resolveDataset(kind, o.datasets?.[kind]) }));
  const folders = chosen.map((t) => t.dataset);
  const clash = folders.find((d, i) => folders.indexOf(d) !== i);
  if (clash !== undefined) throw new Error(`two synthetic tasks would both be written as dataset ${clash}`);
  const written: SyntheticTask[] = [];
  for (const { kind, dataset } of chosen) {
    const rng = new PythonRandom(BigInt(o.seed) * 16n + BigInt(TASK_KINDS.indexOf(kind)));
    written.push(await writeTask(kind, dataset, path.resolve(o.root), o.perClass, o.size, o.noise, rng));
  }
  return written;
}

function resolveDataset(kind: TaskKind, requested: string | undefined): SplitJsonDatasetName {
  const name = requested ?? DEFAULT_TASK_DATASETS[kind];
  const info = (DATASETS as Readonly<Record<string, (typeof DATASETS)[keyof typeof DATASETS]>>)[name];
  if (info === undefined || info.layout !== 'split-json' || info.imageDir === '') {
    throw new Error(`synthetic task ${kind} needs a split-json dataset with an image folder, not ${name}`);
  }
  return name as SplitJsonDatasetName;
}

async function writeTask(
  kind: TaskKind,
  dataset: SplitJsonDatasetName,
  root: string,
  perClass: Record<Split, number>,
  size: number,
  noise: number,
  rng: PythonRandom,
): Promise<SyntheticTask> {
  const def = TASKS[kind];
  const info = DATASETS[dataset];
  const datasetDir = path.join(root, info.folder);
  const imageDir = path.join(datasetDir, info.imageDir);
  const split: Record<Split, [string, number, string][]> = { train: [], val: [], test: [] };
  const items: SyntheticTaskItem[] = [];
  for (const classname of def.classnames) await mkdir(path.join(imageDir, classname), { recursive: true });
  for (const s of ['train', 'val', 'test'] as const) {
    for (const [label, classname] of def.classnames.entries()) {
      for (let i = 0; i < perClass[s]; i++) {
        const file = `${classname}/${s}_${String(i).padStart(4, '0')}.png`;
        const scene = def.scene(rng, label, size);
        const png = await encodePng(renderScene(scene, rng, noise), scene.width, scene.height);
        await writeFile(path.join(imageDir, classname, `${s}_${String(i).padStart(4, '0')}.png`), png);
        split[s].push([file, label, classname]);
        const objects = scene.objects.map(({ shape, colour, texture, size: sz }) => ({
          shape,
          colour,
          texture,
          size: sz,
        }));
        items.push({ split: s, file, label, caption: captionScene(scene), objects, clutter: scene.clutter.length });
      }
    }
  }
  await writeFile(path.join(datasetDir, info.requiredFiles[0] as string), `${JSON.stringify(split, null, 4)}\n`);
  const task: SyntheticTask = {
    kind,
    dataset,
    datasetDir,
    imageDir,
    classnames: [...def.classnames],
    template: def.template,
    items,
  };
  const meta = { kind, dataset, classnames: task.classnames, template: task.template, perClass, size, items };
  await writeFile(path.join(datasetDir, 'synthetic_task.json'), `${JSON.stringify(meta)}\n`);
  return task;
}
