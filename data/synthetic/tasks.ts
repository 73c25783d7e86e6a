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
 * - `target-colour`: the same situation for colour: the large object's colour, which no distractor shares.
 *
 * Each task is a dataset of its own in the registry (`synth_shape`, `synth_colour`, `synth_target`,
 * `synth_target_colour`: folder, split file
 * and the prompt template that matches the generator's captions). Beside the split file, `synthetic_task.json`
 * records the task, its class names, that template, and every image's caption and objects.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DATASETS, type SyntheticDatasetName } from '../datasets/index.ts';
import { PythonRandom } from '../python-random.ts';
import {
  type AttributePools,
  COLOURS,
  captionScene,
  encodePng,
  layoutScene,
  type ObjectConstraint,
  renderScene,
  type Scene,
  type SceneObject,
  SHAPES,
  sampleAttributes,
} from './scene.ts';

export const TASK_KINDS = ['shape', 'colour', 'target-shape', 'target-colour'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
type Split = 'train' | 'val' | 'test';

interface TaskDefinition {
  classnames: readonly string[];
  /** Lays out one scene of the given class. */
  scene: (rng: PythonRandom, label: number, size: number) => Scene;
}

const TASKS: Readonly<Record<TaskKind, TaskDefinition>> = {
  shape: {
    classnames: SHAPES,
    scene: (rng, label, size) =>
      layoutScene(rng, [sampleAttributes(rng, { shape: SHAPES[label] })], rng.randint(0, 1), { size }),
  },
  colour: {
    classnames: COLOURS,
    scene: (rng, label, size) =>
      layoutScene(rng, [sampleAttributes(rng, { colour: COLOURS[label] })], rng.randint(0, 1), { size }),
  },
  'target-shape': {
    classnames: SHAPES,
    scene: (rng, label, size) =>
      largeTargetAmongDistractors(
        rng,
        { shape: SHAPES[label] },
        { shapes: SHAPES.filter((s) => s !== SHAPES[label]) },
        size,
      ),
  },
  'target-colour': {
    classnames: COLOURS,
    scene: (rng, label, size) =>
      largeTargetAmongDistractors(
        rng,
        { colour: COLOURS[label] },
        { colours: COLOURS.filter((c) => c !== COLOURS[label]) },
        size,
      ),
  },
};

/** One large target and 1-3 small distractors drawn from pools that exclude the target's class, plus grey clutter. */
function largeTargetAmongDistractors(
  rng: PythonRandom,
  target: ObjectConstraint,
  distractorPools: AttributePools,
  size: number,
): Scene {
  const distractors = rng.randint(1, 3);
  const attributes = [sampleAttributes(rng, { ...target, size: 'large' })];
  for (let i = 0; i < distractors; i++) attributes.push(sampleAttributes(rng, { size: 'small' }, distractorPools));
  // The target's place in the caption varies, so caption order says nothing about which object is the label.
  rng.shuffle(attributes);
  return layoutScene(rng, attributes, rng.randint(0, 2), { size });
}

/** The registry dataset of each task: its folder, split file and prompt template. */
export const TASK_DATASETS: Readonly<Record<TaskKind, SyntheticDatasetName>> = {
  shape: 'synth_shape',
  colour: 'synth_colour',
  'target-shape': 'synth_target',
  'target-colour': 'synth_target_colour',
};

/**
 * Bump when the same options would write different files (scene drawing, captions, layout), so callers that cache
 * generated tasks (the quick start) know to write them again.
 */
export const SYNTHETIC_TASKS_VERSION = 1;

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
  /**
   * Images per class and split. The training split is the pool few-shot trials draw their shots from and what a
   * linear probe on the frozen features is fitted on, to show how much the features allow (tools/synth-clip/probe.ts):
   * like the paper's datasets, it holds many more images than the 16 shots a trial takes at most.
   */
  perClass: perClassSchema.default({ train: 128, val: 4, test: 50 }),
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
  dataset: SyntheticDatasetName;
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
  const written: SyntheticTask[] = [];
  for (const kind of new Set(o.tasks)) {
    const rng = new PythonRandom(BigInt(o.seed) * 16n + BigInt(TASK_KINDS.indexOf(kind)));
    written.push(await writeTask(kind, TASK_DATASETS[kind], path.resolve(o.root), o.perClass, o.size, o.noise, rng));
  }
  return written;
}

async function writeTask(
  kind: TaskKind,
  dataset: SyntheticDatasetName,
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
    template: info.template,
    items,
  };
  const meta = { kind, dataset, classnames: task.classnames, template: task.template, perClass, size, items };
  await writeFile(path.join(datasetDir, 'synthetic_task.json'), `${JSON.stringify(meta)}\n`);
  return task;
}
