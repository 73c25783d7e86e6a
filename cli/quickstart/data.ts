import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DATASETS } from '../../data/datasets/index.ts';
import {
  SYNTHETIC_TASKS_VERSION,
  type SyntheticTasksOptions,
  TASK_DATASETS,
  TASK_KINDS,
  writeSyntheticTasks,
} from '../../data/synthetic/tasks.ts';

/**
 * The quick start's generated tasks: the generator's defaults with seed 0, the same images the synthetic CLIP's
 * zero-shot and linear-probe figures were measured on (each task's images depend only on the task and the seed, not
 * on which other tasks are written).
 */
export const QUICKSTART_DATA_OPTIONS = {
  perClass: { train: 128, val: 4, test: 50 },
  size: 48,
  noise: 8,
  seed: 0,
} as const satisfies Omit<SyntheticTasksOptions, 'root'>;

const MANIFEST = 'quickstart-data.json';

/**
 * Writes the synthetic tasks the sweep's datasets name under `root`, unless a manifest says they were written by this
 * generator version with these options and every task's split file is there. Returns whether it wrote them.
 */
export async function ensureQuickstartData(
  root: string,
  datasets: readonly string[],
  log: (line: string) => void,
): Promise<boolean> {
  const tasks = TASK_KINDS.filter((kind) => datasets.includes(TASK_DATASETS[kind]));
  const wanted = JSON.stringify({ version: SYNTHETIC_TASKS_VERSION, options: { ...QUICKSTART_DATA_OPTIONS, tasks } });
  const manifestPath = path.join(root, MANIFEST);
  const written = existsSync(manifestPath) ? await readFile(manifestPath, 'utf8').catch(() => '') : '';
  const splitFiles = tasks.map((kind) => {
    const info = DATASETS[TASK_DATASETS[kind]];
    return path.join(root, info.folder, info.requiredFiles[0] as string);
  });
  if (written.trim() === wanted && splitFiles.every((file) => existsSync(file))) return false;

  log(`writing the synthetic tasks (${tasks.join(', ')}) to ${root}`);
  // The manifest goes first and last: a run interrupted mid-way leaves no manifest, so the next run rewrites.
  await rm(manifestPath, { force: true });
  for (const kind of TASK_KINDS) {
    await rm(path.join(root, DATASETS[TASK_DATASETS[kind]].folder), { recursive: true, force: true });
  }
  await writeSyntheticTasks({ root, ...QUICKSTART_DATA_OPTIONS, tasks });
  await writeFile(manifestPath, `${wanted}\n`);
  return true;
}
