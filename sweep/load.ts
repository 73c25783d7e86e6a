import { readFile, stat } from 'node:fs/promises';
import { ClipLoadError } from '../dpt/clip/errors.ts';
import { readModelSizes } from '../dpt/model-sizes.ts';
import type { ModelSizes } from '../dpt/trainable.ts';
import type { SweepPlan } from './expand.ts';
import { SweepFileError, type SweepIssue } from './issues.ts';
import { type PlanOptions, planSweep } from './plan.ts';
import { parseSweepText } from './schema.ts';

/**
 * Read a sweep file from disk and expand it, checked against the sizes of its `base.model` when this machine can read
 * them. Throws SweepFileError for every problem, including an unreadable file.
 */
export async function loadSweepFile(
  path: string,
  options: PlanOptions = {},
): Promise<{ text: string; plan: SweepPlan }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new SweepFileError([{ path: '(file)', message: `expected a readable YAML file, got ${why}` }], path);
  }
  const file = parseSweepText(text, path);
  const model = await readModel(file.base.model);
  let plan: SweepPlan;
  try {
    plan = planSweep(file, { ...options, ...(model.sizes ? { model: model.sizes } : {}) }, path);
  } catch (err) {
    if (err instanceof SweepFileError && model.error) throw new SweepFileError([model.error, ...err.issues], path);
    throw err;
  }
  if (model.error) throw new SweepFileError([model.error], path);
  const here = [model.warning, await checkDataRoot(file.base.dataRoot)].filter((w) => w !== undefined);
  return { text, plan: here.length > 0 ? { ...plan, warnings: [...here, ...plan.warnings] } : plan };
}

/**
 * The datasets' root as this machine sees it. Only a warning when it is missing, like the model: the launching machine
 * need not hold the data, the workers must (a trial whose data is missing there fails with the reader's message).
 */
async function checkDataRoot(dir: string): Promise<SweepIssue | undefined> {
  const warn = (why: string): SweepIssue => ({
    path: 'base.dataRoot',
    message: `expected a dataset root directory readable here, got ${why}; the workers must hold it, or their trials fail`,
  });
  try {
    const info = await stat(dir);
    return info.isDirectory() ? undefined : warn(`${dir}, which is not a directory`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return warn(code === 'ENOENT' ? `no such path ${dir}` : `${dir} unreadable (${code ?? String(err)})`);
  }
}

interface ModelCheck {
  sizes?: ModelSizes;
  /** the model is not visible here: the model-dependent checks are left to the trainers */
  warning?: SweepIssue;
  /** the model is here but no trainer could load it */
  error?: SweepIssue;
}

/**
 * The model's sizes, read the way the trainer's loader reads them. A path that does not exist here is only a warning:
 * the workers may see another file system (the examples name a model each user downloads themselves).
 */
async function readModel(dir: string): Promise<ModelCheck> {
  const unchecked = (why: string): ModelCheck => ({
    warning: {
      path: 'base.model',
      message: `expected a CLIP model readable here to check cavpt.layers, vpt.layers and the text context against, got ${why}; the trainers will check them`,
    },
  });
  try {
    await stat(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return unchecked(code === 'ENOENT' ? `no such path ${dir}` : `${dir} unreadable (${code ?? String(err)})`);
  }
  try {
    return { sizes: await readModelSizes(dir) };
  } catch (err) {
    if (!(err instanceof ClipLoadError)) {
      return unchecked(`${dir} unreadable (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    return {
      error: { path: 'base.model', message: `expected a CLIP model the trainer can load, got: ${err.message}` },
    };
  }
}
