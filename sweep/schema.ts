import { type Document, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import {
  ALIASES,
  type Assignment,
  AXES,
  AXIS_KEYS,
  type AxisKey,
  type AxisValue,
  axisValueSchema,
  NESTED_GROUPS,
} from './axes.ts';
import { resolveDatasets } from './datasets.ts';
import { heartbeatTimeoutProblem } from './duration.ts';
import { formatPath, renderValue, SweepFileError, type SweepIssue } from './issues.ts';
import { DEFAULT_TRANSFER_SOURCE, isTransfer, PROTOCOLS, type ProtocolName } from './protocol.ts';

/**
 * The sweep file (see sweep/README.md). Pure: no Node built-ins (test/unit/sweep/purity.test.ts).
 * `parseSweepText` checks the shape and every value here, and the rules of one object (aliases, ranges), with line
 * numbers; the stages after it (cross-field rules in validate.ts, expansion in expand.ts, warnings in warnings.ts)
 * run in order from plan.ts (`planSweep`) and report through the same issue list.
 */

export const VARY_MODES = ['grid', 'ablation', 'explicit', 'random'] as const;
export type VaryMode = (typeof VARY_MODES)[number];
export const PRESETS = ['paper', 'none'] as const;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const QUEUE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

function strict<T extends z.ZodRawShape>(shape: T) {
  const keys = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'invalid_type'
        ? `expected an object with keys ${keys.join(', ')}`
        : `expected one of ${keys.join(', ')}`,
  });
}

function intAtLeast(min: number, max: number) {
  const error = `expected an integer >= ${min}`;
  return z
    .number({ error })
    .int({ error })
    .min(min, { error })
    .max(max, { error: `expected an integer <= ${max}` });
}

function nonEmptyString(what: string) {
  return z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}` });
}

function listOf<T extends z.ZodType>(item: T, what: string) {
  return z
    .array(item, { error: `expected a non-empty list of ${what}` })
    .min(1, { error: `expected a non-empty list of ${what}` });
}

/** A list whose values must be distinct (a repeated shot count or axis value is a paste error, not a request). */
function distinctListOf<T extends z.ZodType>(item: T, what: string) {
  return listOf(item, what).superRefine((values, ctx) => {
    const first = new Map<string, number>();
    values.forEach((value, i) => {
      const key = JSON.stringify(value);
      const earlier = first.get(key);
      if (earlier === undefined) first.set(key, i);
      else
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `expected distinct values, got ${renderValue(value)} again (also at [${earlier}])`,
        });
    });
  });
}

/** `cavpt: { length: 5 }` → `cavpt.length: 5`, so nested and dotted spellings validate (and print) the same. */
function flattenGroups(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const nestable = (NESTED_GROUPS as readonly string[]).includes(key);
    if (nestable && typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
      for (const [innerKey, innerValue] of Object.entries(inner)) out[`${key}.${innerKey}`] = innerValue;
    } else {
      // defineProperty keeps a literal "__proto__" key an own (and so reportable) key instead of a prototype.
      Object.defineProperty(out, key, { value: inner, enumerable: true, writable: true, configurable: true });
    }
  }
  return out;
}

function axisShape<T extends z.ZodType>(make: (key: AxisKey) => T): { [K in AxisKey]: z.ZodOptional<T> } {
  const shape: Partial<Record<AxisKey, z.ZodOptional<T>>> = {};
  for (const key of AXIS_KEYS) shape[key] = make(key).optional();
  return shape as { [K in AxisKey]: z.ZodOptional<T> };
}

const assignmentSchema = z.preprocess(flattenGroups, strict(axisShape(axisValueSchema)));

const baseSchema = z.preprocess(
  flattenGroups,
  strict({
    preset: z.enum(PRESETS, { error: `expected one of ${PRESETS.join(', ')}` }).default('paper'),
    /** CLIP weights directory */
    model: nonEmptyString('a CLIP model directory'),
    /** folder holding one sub-folder per dataset, CoOp layout */
    dataRoot: nonEmptyString('a dataset root directory'),
    /** raw TrialConfig fields for everything the sweep vocabulary does not name (checked by the trainer's schema) */
    trial: z.record(z.string(), z.unknown(), { error: 'expected an object of trial-config fields' }).optional(),
    ...axisShape(axisValueSchema),
  }),
);

function axisList(key: AxisKey) {
  return distinctListOf(axisValueSchema(key), `values (${AXES[key].expectation})`);
}

const RANGE_SCALES = ['linear', 'log'] as const;

function axisRandom(key: AxisKey) {
  const def = AXES[key];
  const list = axisList(key);
  if (def.kind === 'enum') return list;
  const bound = axisValueSchema(key);
  const range = strict({
    min: bound,
    max: bound,
    scale: z.enum(RANGE_SCALES, { error: `expected one of ${RANGE_SCALES.join(', ')}` }).default('linear'),
  }).superRefine((raw, ctx) => {
    const r = raw as RandomRange;
    if (r.max <= r.min)
      ctx.addIssue({ code: 'custom', path: ['max'], message: `expected a value > min (${r.min}), got ${r.max}` });
    if (r.scale === 'log' && r.min <= 0) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: `expected a value > 0 for scale log, got ${r.min}` });
    }
  });
  return z.union([list, range], {
    error: `expected a non-empty list of values or a range { min, max, scale: linear|log } (${def.expectation})`,
  });
}

const gridLike = <M extends 'grid' | 'ablation'>(mode: M) => strict({ mode: z.literal(mode), ...axisShape(axisList) });

const varySchema = z.discriminatedUnion(
  'mode',
  [
    gridLike('grid'),
    gridLike('ablation'),
    strict({
      mode: z.literal('explicit'),
      variations: listOf(assignmentSchema, 'override objects'),
    }),
    strict({
      mode: z.literal('random'),
      n: intAtLeast(1, 1e12),
      seed: intAtLeast(0, 2 ** 53 - 1),
      ...axisShape(axisRandom),
    }),
  ],
  { error: `expected one of ${VARY_MODES.join(', ')}` },
);

export const SEARCH_KINDS = ['successive-halving', 'tpe'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];
/** What a search ranks by: top-1 on the few-shot validation split (never the test split). */
export const SEARCH_METRICS = ['val-top1'] as const;

const metricSchema = z
  .enum(SEARCH_METRICS, { error: `expected one of ${SEARCH_METRICS.join(', ')}` })
  .default('val-top1');

const searchSchema = z.discriminatedUnion(
  'kind',
  [
    strict({
      kind: z.literal('successive-halving'),
      /** reduction factor: 1/eta of the configurations go on at each rung */
      eta: intAtLeast(2, 1000).default(3),
      minEpochs: intAtLeast(1, 100_000),
      maxEpochs: intAtLeast(1, 100_000),
      metric: metricSchema,
    }).superRefine((raw, ctx) => {
      const r = raw as { minEpochs: number; maxEpochs: number };
      if (r.maxEpochs < r.minEpochs) {
        ctx.addIssue({
          code: 'custom',
          path: ['maxEpochs'],
          message: `expected a value >= minEpochs (${r.minEpochs}), got ${r.maxEpochs}`,
        });
      }
    }),
    strict({
      kind: z.literal('tpe'),
      /** suggestions (configurations), each trained once per dataset x shots x seed */
      trials: intAtLeast(1, 100_000),
      /** suggestions made together from the results of the batches before them (run in parallel) */
      batch: intAtLeast(1, 10_000).default(4),
      seed: intAtLeast(0, 2 ** 31 - 1).default(0),
      /** random suggestions before the model is used (Optuna's n_startup_trials) */
      startup: intAtLeast(0, 100_000).default(10),
      metric: metricSchema,
      space: strict(axisShape(axisRandom)),
    }),
  ],
  {
    error: `expected one of ${SEARCH_KINDS.join(', ')} (asha: use successive-halving, its synchronous form, whose promotions do not depend on finishing order)`,
  },
);

const protocolNameSchema = z.enum(PROTOCOLS, { error: `expected one of ${PROTOCOLS.join(', ')}` });
const protocolSchema = z.union(
  [
    protocolNameSchema,
    strict({
      name: protocolNameSchema,
      /** cross-dataset and domain-generalization: where the prompts are evaluated besides the source */
      targets: distinctListOf(z.string({ error: 'expected a dataset name' }), 'dataset names or groups').optional(),
    }),
  ],
  { error: `expected one of ${PROTOCOLS.join(', ')}, or { name, targets }` },
);

/** Cross-dataset and domain-generalization train on ImageNet when the file lists no dataset. */
function defaultTransferSource(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || 'datasets' in raw) return raw;
  const spec = (raw as { protocol?: unknown }).protocol;
  const name = typeof spec === 'object' && spec !== null ? (spec as { name?: unknown }).name : spec;
  if (!(PROTOCOLS as readonly unknown[]).includes(name) || !isTransfer(name as ProtocolName)) return raw;
  return { ...raw, datasets: [DEFAULT_TRANSFER_SOURCE] };
}

const sweepFileShape = strict({
  name: z
    .string({ error: 'expected a name of letters, digits, ".", "_" or "-" (at most 100 characters)' })
    .regex(NAME_PATTERN, { error: 'expected a name of letters, digits, ".", "_" or "-" (at most 100 characters)' }),
  description: z.string({ error: 'expected a text' }).optional(),
  base: baseSchema,
  datasets: listOf(z.string({ error: 'expected a dataset name' }), 'dataset names or groups').superRefine(
    (names, ctx) => {
      for (const issue of resolveDatasets(names, '').issues) {
        ctx.addIssue({
          code: 'custom',
          path: [Number(/\[(\d+)\]/.exec(issue.path)?.[1] ?? 0)],
          message: issue.message,
        });
      }
    },
  ),
  shots: distinctListOf(intAtLeast(1, 100_000), 'shot counts (integers >= 1)'),
  seeds: distinctListOf(intAtLeast(0, 2 ** 31 - 1), 'seeds (integers >= 0)'),
  vary: varySchema.optional(),
  resources: strict({
    maxParallel: intAtLeast(1, 100_000).default(4),
    taskQueue: z
      .string({ error: 'expected a task queue name' })
      .regex(QUEUE_PATTERN, { error: 'expected a task queue name of letters, digits, ".", "_" or "-"' })
      .default('gpu'),
    /**
     * How long a training attempt may go without a heartbeat (a dead worker's trial moves on after this long) and
     * without trainer progress (a hung trainer is killed and retried). Absent: the workflow's default, 2 minutes.
     */
    heartbeatTimeout: z
      .string({ error: 'expected a duration such as "2m"' })
      .superRefine((text, ctx) => {
        const problem = heartbeatTimeoutProblem(text);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
  }).default({ maxParallel: 4, taskQueue: 'gpu' }),
  reuse: z.boolean({ error: 'expected true or false' }).default(true),
  /** the evaluation protocol (sweep/protocol.ts); absent = few-shot */
  protocol: protocolSchema.optional(),
  /** early stopping or model-based search over the trials (sweep/search/); absent = train every trial in full */
  search: searchSchema.optional(),
});

export const sweepFileSchema = z.preprocess(defaultTransferSource, sweepFileShape);

export type SweepFile = z.output<typeof sweepFileSchema>;
export type SweepBase = SweepFile['base'];
export type VarySpec = NonNullable<SweepFile['vary']>;
export type SearchSpec = NonNullable<SweepFile['search']>;
export type HalvingSpec = Extract<SearchSpec, { kind: 'successive-halving' }>;
export type TpeSpec = Extract<SearchSpec, { kind: 'tpe' }>;
export interface RandomRange {
  min: number;
  max: number;
  scale: 'linear' | 'log';
}

/** The axis assignments of an object (base, a grid/explicit entry): only the sweep-vocabulary keys. */
export function assignmentsOf(value: Record<string, unknown>): Assignment {
  const out: Assignment = {};
  for (const key of AXIS_KEYS) {
    const v = value[key];
    if (typeof v === 'string' || typeof v === 'number') out[key] = v;
  }
  return out;
}

/** The values a grid/ablation `vary` lists for an axis (none for a range or an axis it does not set). */
export function axisValues(vary: VarySpec, key: AxisKey): AxisValue[] {
  const value = (vary as Record<string, unknown>)[key];
  return Array.isArray(value) ? (value as AxisValue[]) : [];
}

/** Axes (in file order) that a grid/ablation/random `vary` sets. */
export function varyAxes(vary: VarySpec): AxisKey[] {
  return Object.keys(vary).filter((key): key is AxisKey => (AXIS_KEYS as string[]).includes(key) && key in vary);
}

/** Parse YAML text and validate its shape; throws SweepFileError listing every problem, with line numbers. */
export function parseSweepText(text: string, source = 'sweep file'): SweepFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new SweepFileError(
      doc.errors.map((error) => {
        const pos = lineCounter.linePos(error.pos[0]);
        return {
          path: '(yaml)',
          message: `YAML syntax: ${error.message.split('\n')[0]}`,
          line: pos.line,
          column: pos.col,
        };
      }),
      source,
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new SweepFileError([{ path: '(yaml)', message: err instanceof Error ? err.message : String(err) }], source);
  }
  const issues = validateShape(raw).map((issue) => withPosition(issue, doc, lineCounter));
  if (issues.length > 0) throw new SweepFileError(issues, source);
  return sweepFileSchema.parse(raw);
}

/** Validate an already-parsed object (JSON, a launch request); throws SweepFileError. */
export function parseSweepObject(raw: unknown, source = 'sweep'): SweepFile {
  const issues = validateShape(raw);
  if (issues.length > 0) throw new SweepFileError(issues, source);
  return sweepFileSchema.parse(raw);
}

/** Every shape problem of `raw`, including the per-object rules zod cannot express (aliases). */
export function validateShape(raw: unknown): SweepIssue[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return [
      {
        path: '(file)',
        message: `expected a mapping with keys name, base, datasets, shots, seeds, vary, got ${renderValue(raw)}`,
      },
    ];
  }
  const result = sweepFileSchema.safeParse(raw, { reportInput: true });
  const issues = result.success ? [] : result.error.issues.flatMap((issue) => toSweepIssues(issue, []));
  if (result.success) issues.push(...aliasConflicts(result.data));
  return dedupeIssues(issues);
}

function aliasConflicts(file: SweepFile): SweepIssue[] {
  const issues: SweepIssue[] = [];
  const check = (obj: Record<string, unknown>, path: string) => {
    for (const [a, b] of ALIASES) {
      if (obj[a] !== undefined && obj[b] !== undefined) {
        issues.push({
          path: `${path}.${b}`,
          message: `expected either ${a} or ${b} (two names for one setting), got both`,
        });
      }
    }
  };
  check(file.base as Record<string, unknown>, 'base');
  if (file.vary?.mode === 'explicit') {
    file.vary.variations.forEach((v, i) => {
      check(v as Record<string, unknown>, `vary.variations[${i}]`);
    });
  } else if (file.vary) check(file.vary as Record<string, unknown>, 'vary');
  return issues;
}

type RawIssue = z.core.$ZodIssue & { input?: unknown };

function toSweepIssues(issue: RawIssue, prefix: PropertyKey[]): SweepIssue[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: formatPath([...path, key]),
      message: `unknown key${modeHint(path, key, issue.input)}; ${issue.message}`,
    }));
  }
  if (issue.code === 'invalid_union') {
    const discriminator = (issue as { discriminator?: string }).discriminator;
    if (discriminator !== undefined) {
      const input = issue.input;
      const got =
        typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[discriminator] : input;
      const at = path[path.length - 1] === discriminator ? path : [...path, discriminator];
      return [{ path: formatPath(at), message: `${issue.message}, got ${renderValue(got)}` }];
    }
    // Report the branch the value was evidently meant for (a list or a range), else the union's own expectation.
    const meant = issue.errors.filter(
      (branch) => !branch.every((inner) => inner.path.length === 0 && inner.code === 'invalid_type'),
    );
    if (meant.length === 1) return meant[0]!.flatMap((inner) => toSweepIssues(inner as RawIssue, path));
    return [{ path: formatPath(path), message: withGot(issue.message, issue) }];
  }
  return [{ path: formatPath(path), message: withGot(issue.message, issue) }];
}

/** Keys that belong to another `vary` mode: say so, since "unknown" alone hides the conflict. */
function modeHint(path: PropertyKey[], key: string, input: unknown): string {
  if (path.length !== 1 || path[0] !== 'vary' || typeof input !== 'object' || input === null) return '';
  const mode = (input as Record<string, unknown>).mode;
  if (key === 'n' || key === 'seed') return ` for mode ${String(mode)} (${key} belongs to mode random)`;
  if (key === 'variations') return ` for mode ${String(mode)} (variations belong to mode explicit)`;
  if (mode === 'explicit' && (AXIS_KEYS as string[]).includes(key)) {
    return ' for mode explicit (put axis values inside the variations entries)';
  }
  return '';
}

function withGot(message: string, issue: RawIssue): string {
  if (issue.code === 'custom') return message;
  const expectation = message.startsWith('expected') ? message : `expected valid input (${message})`;
  return 'input' in issue ? `${expectation}, got ${renderValue(issue.input)}` : `${expectation}, got nothing`;
}

function dedupeIssues(issues: SweepIssue[]): SweepIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Attach the line/column of the deepest YAML node the issue's path reaches. */
function withPosition(issue: SweepIssue, doc: Document, lineCounter: LineCounter): SweepIssue {
  if (issue.line !== undefined || issue.path.startsWith('(')) return issue;
  const offset = locate(doc, parsePath(issue.path));
  if (offset === undefined) return issue;
  const pos = lineCounter.linePos(offset);
  return { ...issue, line: pos.line, column: pos.col };
}

/** `vary.cavpt.length[2]` → ['vary', 'cavpt', 'length', 2] (dotted axis names are resolved against the document). */
function parsePath(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const part of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (part[2] !== undefined) out.push(Number(part[2]));
    else if (part[1] !== undefined) out.push(part[1]);
  }
  return out;
}

interface YamlNodeLike {
  range?: [number, number, number] | null;
  items?: unknown[];
}

function locate(doc: Document, segments: Array<string | number>): number | undefined {
  let node: unknown = doc.contents;
  let best: number | undefined = (node as YamlNodeLike | null)?.range?.[0];
  let i = 0;
  while (i < segments.length && node) {
    const items = (node as YamlNodeLike).items;
    if (!Array.isArray(items)) break;
    const segment = segments[i]!;
    let next: unknown;
    let consumed = 1;
    if (typeof segment === 'number') {
      next = items[segment];
    } else {
      // A key may itself contain dots (`cavpt.length:`), so try the longest dotted prefix first.
      for (let j = segments.length; j > i && next === undefined; j--) {
        const candidate = segments.slice(i, j);
        if (candidate.some((s) => typeof s === 'number')) continue;
        const key = candidate.join('.');
        const pair = items.find((p) => (p as { key?: { value?: unknown } }).key?.value === key) as
          | { key?: YamlNodeLike; value?: unknown }
          | undefined;
        if (pair) {
          // The last key of a path is reported where the key is written, so unknown keys point at themselves.
          if (j === segments.length) return pair.key?.range?.[0] ?? best;
          next = pair.value ?? pair.key;
          consumed = j - i;
        }
      }
    }
    if (next === undefined || next === null) break;
    const range = (next as YamlNodeLike).range;
    if (range) best = range[0];
    node = next;
    i += consumed;
  }
  return best;
}
