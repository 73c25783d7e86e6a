import { z } from 'zod';
import { DATASET_NAMES, type DatasetName, SYNTHETIC_DATASET_NAMES } from '../data/datasets/types.ts';
import { METHODS, type Method, readsSetting } from './methods/registry.ts';
import { paperPreset } from './presets.ts';

/**
 * One trial: a single training run of one method on one (dataset, shots, seed), plus its evaluation targets.
 * Defaults follow the official launcher (train_single.sh + configs/trainers/VPT/vit_b32_deep.yaml), docs/method.md §3.
 * Epoch count, warm-up epochs C and the visual LR warm-up come from the paper's per-(dataset, shots) schedule
 * (presets.ts) unless given explicitly.
 */

export { METHODS, type Method };

/** Source datasets (trained on; data/README.md) and ImageNet's domain-shift targets (evaluated; docs/method.md §14). */
export const SOURCE_DATASETS = [
  'imagenet',
  'caltech101',
  'oxford_pets',
  'stanford_cars',
  'oxford_flowers',
  'food101',
  'fgvc_aircraft',
  'sun397',
  'dtd',
  'eurosat',
  'ucf101',
] as const satisfies readonly DatasetName[];
/** What a trial may train on: the paper's benchmarks and the generated quick-start tasks. */
export const TRAIN_DATASETS = [...SOURCE_DATASETS, ...SYNTHETIC_DATASET_NAMES] as const;
export const ALL_DATASETS = DATASET_NAMES;

export const SUBSAMPLE_CLASSES = ['all', 'base'] as const;
export type SubsampleClasses = (typeof SUBSAMPLE_CLASSES)[number];

export const CAVPT_MODES = ['top-down', 'bottom-up', 'shared'] as const;
export type CavptMode = (typeof CAVPT_MODES)[number];

const positiveInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const lr = z.number().nonnegative().finite();

const textSchema = z.strictObject({
  /** number of learnable context vectors (CoOp N_CTX); ignored when ctxInit is given (its token count wins) */
  nCtx: positiveInt.default(16),
  /** '' = random N(0, 0.02²) init (the official default); otherwise words, e.g. "a photo of a" */
  ctxInit: z.string().default(''),
});

const vptSchema = z.strictObject({
  /** VPT-deep prompt tokens per layer (train_single.sh: 10; train.py default would be 5) */
  length: nonNegInt.default(10),
  /** for methods vpt/vlp: prompts in the bottom `layers` blocks; null = every block. DPT derives its own from cavpt. */
  layers: positiveInt.nullable().default(null),
});

const cavptSchema = z.strictObject({
  /**
   * top-down (official code, BOTTOMLIMIT = L - layers + 1): CAVPT in the top `layers` blocks, VPT-deep below.
   * bottom-up: CAVPT in blocks 1..layers, VPT-deep above. shared: placement as top-down, but ONE CAVPT module (one
   * set of weights and classifier) is applied in every CAVPT block. Blocks are 1-based.
   */
  mode: z.enum(CAVPT_MODES).default('top-down'),
  /** CAVPT depth: how many blocks carry class-aware prompts (paper ablation: 12→{1,5,9,12} top-down, {1,4,8,12} bottom-up) */
  layers: positiveInt.default(1),
  /**
   * K_N, the code's SELECTED_COVPT.CPN. It is at once the number of top-ranked zero-shot classes selected per image and
   * the number of class-aware prompt tokens ("CAVPT length"): the effective value is K = min(kN, number of classes).
   * 0 = the length-0 ablation (no class-aware tokens, no CAVPT loss), negative values are rejected.
   */
  kN: nonNegInt.default(10),
  /** learnable key/value tokens inside each CAVPT module; hard-coded to 10 in the official code (DPT.py:384) */
  ctxTokens: nonNegInt.default(10),
});

const lossSchema = z.strictObject({
  /** weight of L_cavpt, every epoch (train_single.sh: 0.3; train.py default 1.0) */
  alpha: z.number().nonnegative().finite().default(0.3),
  /** weight of CE(logits) during the warm-up loss; hard-coded 0.1 in the code */
  beta: z.number().nonnegative().finite().default(0.1),
  /** PRETRAIN.C: epochs 0..C-1 use the general-knowledge loss (paper: 30, ImageNet 10) — preset when omitted */
  warmupEpochs: nonNegInt.optional(),
});

const optimSchema = z.strictObject({
  /** MAX_EPOCH — preset when omitted */
  epochs: nonNegInt.optional(),
  batchSize: positiveInt.default(32),
  /** visual prompts and CAVPT (OPTIM.LR) */
  lrVisual: lr.default(0.01),
  /** text context (hard-coded 0.002 in the code) */
  lrText: lr.default(0.002),
  /** constant-LR warm-up epochs of the visual/CAVPT groups (10; ImageNet 1) — preset when omitted */
  lrWarmupEpochs: nonNegInt.optional(),
  /** constant-LR warm-up epochs of the text group (hard-coded 1) */
  textLrWarmupEpochs: nonNegInt.default(1),
  warmupLr: lr.default(1e-5),
  momentum: z.number().min(0).max(1).default(0.9),
  weightDecay: z.number().nonnegative().finite().default(5e-4),
});

export const trialConfigInputSchema = z.strictObject({
  method: z.enum(METHODS),
  dataset: z.enum(TRAIN_DATASETS),
  /** DATASET.ROOT: the folder that contains one sub-folder per dataset in CoOp's layout */
  root: z.string().min(1),
  shots: positiveInt,
  seed: nonNegInt,
  /** CLIP weights directory (loadClip) */
  model: z.string().min(1),
  /** 'paper' fills epochs / C / LR warm-up from the paper's per-(dataset, shots) schedule; 'none' requires them */
  preset: z.enum(['paper', 'none']).default('paper'),
  text: textSchema.default(textSchema.parse({})),
  vpt: vptSchema.default(vptSchema.parse({})),
  cavpt: cavptSchema.default(cavptSchema.parse({})),
  loss: lossSchema.default(lossSchema.parse({})),
  optim: optimSchema.default(optimSchema.parse({})),
  evalBatchSize: positiveInt.default(50),
  /** extra evaluation targets after training (docs/method.md §14); the source test split is always evaluated */
  evalDatasets: z.array(z.enum(ALL_DATASETS)).default([]),
  /**
   * Base-to-novel generalization (CoCoOp's DATASET.SUBSAMPLE_CLASSES, data/subsample.ts): 'base' trains on the base
   * half of the source dataset's classes and evaluates its base and its novel test classes separately.
   */
  subsampleClasses: z.enum(SUBSAMPLE_CLASSES).default('all'),
  /** where few-shot split files are cached; default: <root>/<dataset folder>/split_fewshot */
  splitCacheDir: z.string().min(1).optional(),
  /** save a checkpoint every N epochs (0 = never, the last epoch is always offered) */
  checkpointEvery: nonNegInt.default(0),
});

export type TrialConfigInput = z.input<typeof trialConfigInputSchema>;

/** Fully resolved trial: every schedule number present. */
export type TrialConfig = Omit<z.output<typeof trialConfigInputSchema>, 'loss' | 'optim'> & {
  loss: Required<z.output<typeof lossSchema>>;
  optim: Required<z.output<typeof optimSchema>>;
};

export class TrialConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid trial config: ${issues.join('; ')}`);
    this.name = 'TrialConfigError';
  }
}

function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`);
}

type ScheduleField = 'optim.epochs' | 'loss.warmupEpochs' | 'optim.lrWarmupEpochs';

/** Validate raw input (YAML object) and resolve the schedule from the preset. Throws TrialConfigError. */
export function parseTrialConfig(raw: unknown): TrialConfig {
  const parsed = trialConfigInputSchema.safeParse(raw);
  if (!parsed.success) throw new TrialConfigError(formatIssues(parsed.error));
  const cfg = parsed.data;
  const preset = cfg.preset === 'paper' ? paperPreset(cfg.dataset, cfg.shots) : undefined;
  const pick = (value: number | undefined, fromPreset: number | undefined, path: ScheduleField): number => {
    const v = value ?? fromPreset;
    if (v !== undefined) return v;
    // A schedule number the method never reads (zero-shot trains nothing; CoOp has no warm-up loss) is not required.
    if (!readsSetting(cfg.method, path)) return 0;
    throw new TrialConfigError([`${path}: required when preset is 'none'`]);
  };
  const resolved: TrialConfig = {
    ...cfg,
    loss: { ...cfg.loss, warmupEpochs: pick(cfg.loss.warmupEpochs, preset?.warmupEpochs, 'loss.warmupEpochs') },
    optim: {
      ...cfg.optim,
      epochs: pick(cfg.optim.epochs, preset?.epochs, 'optim.epochs'),
      lrWarmupEpochs: pick(cfg.optim.lrWarmupEpochs, preset?.lrWarmupEpochs, 'optim.lrWarmupEpochs'),
    },
  };
  return resolved;
}

/** Apply `--set a.b=value` overrides to a raw config object (values parsed as YAML scalars by the caller). */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  if (keys.some((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype')) {
    throw new TrialConfigError([`${path}: not a valid key path`]);
  }
  let node: Record<string, unknown> = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) node[key] = {};
    else if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      throw new TrialConfigError([`${path}: ${key} is not an object`]);
    }
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}
