import { z } from 'zod';
import { METHODS, type Method, methodsReading } from '../dpt/methods/registry.ts';
import type { TrialSetting } from '../dpt/methods/settings.ts';
import { CAVPT_MODES } from '../dpt/trial-config.ts';

/**
 * The hyperparameters a sweep can set in `base` and vary in `vary`, by their sweep-file names, with the values each
 * accepts, where it lands in the trainer's TrialConfig, and which methods it changes.
 * `cavpt.length` and `kN` are two names for ONE knob: the official code's SELECTED_COVPT.CPN is at once the number of
 * top-ranked zero-shot classes and the number of class-aware prompts (docs/method.md §3). The paper ablates it as
 * "length" (0 allowed: no CAVPT tokens) and as "K_N" (at least 1).
 */
export type AxisKind = 'enum' | 'int' | 'float';

export interface AxisDef {
  kind: AxisKind;
  /** "an integer >= 0", used as `expected <this>` */
  expectation: string;
  /** dotted path inside the trainer's TrialConfig input */
  target: 'method' | TrialSetting;
  /**
   * methods whose training this value changes, from what each method module declares it reads
   * (dpt/methods/registry.ts); elsewhere it is reset to the default (see expand.ts)
   */
  methods: readonly Method[];
  /**
   * The Trial column that stores it as a factor (sweep/factors.ts), and its name in `results --by`, the dashboard and
   * export. Adding an axis is this entry, the column in prisma/schema.prisma and a migration.
   */
  column: string;
  options?: readonly string[];
  min?: number;
  /** exclusive lower bound (learning rates) */
  above?: number;
  max?: number;
}

type Column<C extends string> = AxisDef & { column: C };

function numeric<C extends string>(
  kind: 'int' | 'float',
  column: C,
  min: number,
  max: number,
  target: TrialSetting,
): Column<C> {
  const expectation = `${kind === 'int' ? 'an integer' : 'a number'} >= ${min}`;
  return { kind, expectation, target, methods: methodsReading(target), min, max, column };
}
const int = <C extends string>(column: C, min: number, max: number, target: TrialSetting) =>
  numeric('int', column, min, max, target);
const float = <C extends string>(column: C, min: number, max: number, target: TrialSetting) =>
  numeric('float', column, min, max, target);
function positive<C extends string>(column: C, max: number, target: TrialSetting): Column<C> {
  return { kind: 'float', expectation: 'a number > 0', target, methods: methodsReading(target), above: 0, max, column };
}

export const AXES = {
  method: {
    kind: 'enum',
    expectation: `one of ${METHODS.join(', ')}`,
    target: 'method',
    methods: METHODS,
    options: METHODS,
    column: 'method',
  },
  /** visual prompts and CAVPT (OPTIM.LR) */
  lr: positive('lr', 10, 'optim.lrVisual'),
  lrText: positive('lrText', 10, 'optim.lrText'),
  'cavpt.mode': {
    kind: 'enum',
    expectation: `one of ${CAVPT_MODES.join(', ')}`,
    target: 'cavpt.mode',
    methods: methodsReading('cavpt.mode'),
    options: CAVPT_MODES,
    column: 'cavptMode',
  },
  /** depth: how many ViT blocks carry CAVPT */
  'cavpt.layers': int('cavptLayers', 1, 64, 'cavpt.layers'),
  'cavpt.length': int('cavptLength', 0, 1000, 'cavpt.kN'),
  kN: int('kN', 1, 1000, 'cavpt.kN'),
  /** learnable key/value tokens of each CAVPT module (10 in the official code) */
  'cavpt.ctxTokens': int('cavptCtxTokens', 0, 1000, 'cavpt.ctxTokens'),
  alpha: float('alpha', 0, 100, 'loss.alpha'),
  beta: float('beta', 0, 100, 'loss.beta'),
  epochs: int('epochs', 1, 100_000, 'optim.epochs'),
  /** C: epochs of the general-knowledge warm-up loss */
  warmupEpochs: int('warmupEpochs', 0, 100_000, 'loss.warmupEpochs'),
  /** constant-LR warm-up epochs of the visual/CAVPT optimisers */
  lrWarmupEpochs: int('lrWarmupEpochs', 0, 100_000, 'optim.lrWarmupEpochs'),
  'vpt.length': int('vptLength', 0, 1000, 'vpt.length'),
  'text.nCtx': int('textNCtx', 1, 77, 'text.nCtx'),
  batchSize: int('batchSize', 1, 100_000, 'optim.batchSize'),
} as const satisfies Record<string, AxisDef>;

export type AxisKey = keyof typeof AXES;
/** The factor columns the axes are stored in. */
export type AxisColumn = (typeof AXES)[AxisKey]['column'];
export const AXIS_KEYS = Object.keys(AXES) as AxisKey[];
export type AxisValue = string | number;
/** A set of sweep-file assignments, e.g. `{ 'cavpt.length': 5, lr: 0.002 }`. */
export type Assignment = Partial<Record<AxisKey, AxisValue>>;

/** Groups that may be written nested (`cavpt: { length: 5 }`) as well as dotted (`cavpt.length: 5`). */
export const NESTED_GROUPS = ['cavpt', 'vpt', 'text'] as const;

/** Names for the same trial field that must not be set together in one object. */
export const ALIASES: ReadonlyArray<readonly [AxisKey, AxisKey]> = [['cavpt.length', 'kN']];

export function axisDef(key: AxisKey): AxisDef {
  return AXES[key];
}

export function isAxisKey(key: string): key is AxisKey {
  return Object.hasOwn(AXES, key);
}

/** Zod schema of one value of an axis, with messages of the form `expected <expectation>`. */
export function axisValueSchema(key: AxisKey): z.ZodType<AxisValue> {
  const def: AxisDef = AXES[key];
  const error = `expected ${def.expectation}${boundsNote(def)}`;
  if (def.kind === 'enum') return z.enum(def.options as [string, ...string[]], { error });
  let schema = z.number({ error });
  if (def.kind === 'int') schema = schema.int({ error });
  if (def.min !== undefined) schema = schema.min(def.min, { error });
  if (def.above !== undefined) schema = schema.gt(def.above, { error });
  if (def.max !== undefined) schema = schema.max(def.max, { error });
  return schema;
}

function boundsNote(def: AxisDef): string {
  return def.max === undefined || def.kind === 'enum' ? '' : ` and <= ${def.max}`;
}

/** True when a value is acceptable for the axis (used for range bounds and sampled values). */
export function isValidAxisValue(key: AxisKey, value: unknown): boolean {
  return axisValueSchema(key).safeParse(value).success;
}
