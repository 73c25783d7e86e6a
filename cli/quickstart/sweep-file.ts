import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { SYNTHETIC_DATASET_NAMES } from '../../data/datasets/types.ts';
import { UserError } from '../errors.ts';

/** The parts of a sweep file the quick start rewrites; everything else passes through untouched for launch to check. */
const rewritableSweep = z
  .object({
    name: z.string().min(1),
    base: z
      .object({
        model: z.string().min(1),
        dataRoot: z.string().min(1),
        epochs: z.number().optional(),
        warmupEpochs: z.number().optional(),
        lrWarmupEpochs: z.number().optional(),
      })
      .passthrough(),
    // Absent for a transfer protocol that trains on its default source (sweep/protocol.ts).
    datasets: z.array(z.string()).optional(),
    protocol: z
      .union([z.string(), z.object({ name: z.string(), targets: z.array(z.string()).optional() }).passthrough()])
      .optional(),
    vary: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();
type RewritableSweep = z.infer<typeof rewritableSweep>;

export interface QuickstartSweepOptions {
  /** A CLIP directory replacing the file's `base.model` (relative to the current directory). */
  model?: string | undefined;
  /** Every trained trial runs this many epochs; warm-ups shrink in proportion. */
  epochs?: number | undefined;
  /** Where the synthetic tasks are written; replaces `base.dataRoot` when the sweep trains on them. */
  syntheticRoot: string;
  /** Relative paths inside the sweep file are relative to this folder (the repository, like examples/). */
  repoRoot: string;
}

export interface QuickstartSweep {
  /** The sweep, with absolute paths and the overrides applied, ready to write and launch. */
  sweep: RewritableSweep;
  model: string;
  /** The generated tasks the sweep trains or is evaluated on, to be written first (none: it uses real datasets). */
  synthetic: string[];
}

/** Axes that set the schedule: an `--epochs` override cannot mean anything for a sweep that varies them. */
const SCHEDULE_AXES = ['epochs', 'warmupEpochs', 'lrWarmupEpochs'];

export async function prepareQuickstartSweep(file: string, options: QuickstartSweepOptions): Promise<QuickstartSweep> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserError(`cannot read the sweep file ${file}`);
  }
  const parsed = rewritableSweep.safeParse(YAML.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(file)'}: ${issue.message}` : 'unexpected structure';
    throw new UserError(`${file} is not a sweep file with name, base.model, base.dataRoot and datasets (${where})`);
  }
  const sweep = parsed.data;
  // A transfer protocol's targets are read from the same folder as its source.
  const targets = typeof sweep.protocol === 'object' ? (sweep.protocol.targets ?? []) : [];
  const named = [...(sweep.datasets ?? []), ...targets];
  const synthetic = named.filter((d) => (SYNTHETIC_DATASET_NAMES as readonly string[]).includes(d));
  if (synthetic.length > 0 && synthetic.length < named.length) {
    throw new UserError(
      `${file} mixes the generated tasks (${synthetic.join(', ')}) with other datasets; the quick start writes the generated tasks to a folder of their own, so list only them or none of them`,
    );
  }

  const model = options.model ? path.resolve(options.model) : path.resolve(options.repoRoot, sweep.base.model);
  sweep.base.model = model;
  sweep.base.dataRoot =
    synthetic.length > 0 ? options.syntheticRoot : path.resolve(options.repoRoot, sweep.base.dataRoot);

  if (options.epochs !== undefined) applyEpochs(sweep, options.epochs, file);
  return { sweep, model, synthetic };
}

/**
 * Sets every trained trial's epochs. The epoch count is part of a trial's identity, so these trials never stand in
 * for the full schedule's; the sweep gets its own name too, so its tables and dashboard entry stay apart.
 */
function applyEpochs(sweep: RewritableSweep, epochs: number, file: string): void {
  const varied = Object.keys(sweep.vary ?? {}).filter((key) => SCHEDULE_AXES.includes(key));
  const explicit = Array.isArray(sweep.vary?.variations) ? (sweep.vary.variations as Record<string, unknown>[]) : [];
  if (varied.length > 0 || explicit.some((v) => SCHEDULE_AXES.some((key) => key in v))) {
    throw new UserError(`--epochs cannot override ${file}: its vary block sets ${SCHEDULE_AXES.join('/')} itself`);
  }
  const before = sweep.base.epochs;
  const scale = (value: number | undefined) =>
    value === undefined || before === undefined ? value : Math.min(Math.floor((value * epochs) / before), epochs - 1);
  const warmupEpochs = scale(sweep.base.warmupEpochs);
  const lrWarmupEpochs = scale(sweep.base.lrWarmupEpochs);
  sweep.base.epochs = epochs;
  if (warmupEpochs !== undefined) sweep.base.warmupEpochs = Math.max(0, warmupEpochs);
  if (lrWarmupEpochs !== undefined) sweep.base.lrWarmupEpochs = Math.max(0, lrWarmupEpochs);
  sweep.name = `${sweep.name}-epochs${epochs}`;
}

/** A one-line error naming the missing model and how to get one, before any service starts. */
export function assertModelDir(model: string, defaultModel: string): void {
  if (existsSync(path.join(model, 'config.json'))) return;
  const hint =
    path.resolve(model) === path.resolve(defaultModel)
      ? 'it ships with the repository (examples/models/synth-clip; rebuild it with tools/synth-clip/pretrain.ts), or pass --model <dir> with another CLIP in the Hugging Face layout'
      : 'pass --model <dir> with a CLIP in the Hugging Face layout (config.json, model.safetensors, tokenizer.json)';
  throw new UserError(`no CLIP model at ${model} (config.json missing): ${hint}`);
}
