import { type ModelSizes, type TrialProblem, trialProblems } from '../dpt/trainable.ts';
import { METHODS, type Method, TrialConfigError } from '../dpt/trial-config.ts';
import { AXES, type AxisDef, type AxisKey } from './axes.ts';
import type { ResolvedCell } from './expand.ts';
import type { SweepIssue } from './issues.ts';
import { protocolCells } from './protocol.ts';
import { assignmentsOf, axisValues, type SweepFile, type VarySpec, varyAxes } from './schema.ts';

/**
 * The cross-field rules of a sweep file whose shape schema.ts has accepted. Pure: no Node built-ins.
 *
 * Two checks, run by plan.ts around the expansion: `fileIssues` before anything is built (a method in every cell,
 * `preset: none` with its schedule, settings some method of the sweep reads, `base.trial` off the sweep's own fields,
 * and the size, counted without materialising a variation); `cellIssues` on the resolved cells (expand.ts
 * `resolveCells`), each mapped back to the sweep-file key that set the value: the trainer schema's rejections and the
 * trainer's own trainability rules (dpt/trainable.ts).
 */

export const DEFAULT_TRIAL_LIMIT = 10_000;
export const HARD_TRIAL_LIMIT = 1_000_000;

export interface SizeOptions {
  /** allow up to HARD_TRIAL_LIMIT trials instead of `limit` */
  force?: boolean;
  /** trials allowed without `force` (default DEFAULT_TRIAL_LIMIT) */
  limit?: number;
}

/** Fields the sweep itself sets on every trial; `base.trial` may not set them. */
const SWEEP_OWNED_FIELDS = [
  'method',
  'dataset',
  'root',
  'shots',
  'seed',
  'model',
  'preset',
  'evalDatasets',
  'subsampleClasses',
] as const;

/** Number of variations, computed without materialising them. */
export function variationCount(vary: VarySpec | undefined): number {
  if (!vary) return 1;
  switch (vary.mode) {
    case 'grid':
      return varyAxes(vary).reduce((n, key) => n * axisValues(vary, key).length, 1);
    case 'ablation':
      return varyAxes(vary).reduce((n, key) => n + axisValues(vary, key).length, 1);
    case 'explicit':
      return vary.variations.length;
    case 'random':
      return vary.n;
  }
}

/** variations × datasets × shots × seeds: the number of trials before deduplication. */
export function countUpperBound(file: SweepFile): number {
  const datasets = protocolCells(file).cells.length;
  return variationCount(file.vary) * datasets * file.shots.length * file.seeds.length;
}

/** Every rule of the file as written, in report order; `datasetCount` is that of the resolved dataset cells. */
export function fileIssues(file: SweepFile, datasetCount: number, options: SizeOptions = {}): SweepIssue[] {
  const issues: SweepIssue[] = [];
  issues.push(...varyIssues(file.vary));
  issues.push(...baseTrialIssues(file));
  const methods = sweepMethods(file, issues);
  issues.push(...presetNoneIssues(file, methods));
  issues.push(...ineffectiveAxes(file, methods));
  issues.push(...sizeIssues(file, datasetCount, options));
  return issues;
}

function varyIssues(vary: VarySpec | undefined): SweepIssue[] {
  if (!vary) return [];
  const issues: SweepIssue[] = [];
  if (vary.mode === 'explicit') return issues;
  const axes = varyAxes(vary);
  if ((vary.mode === 'ablation' || vary.mode === 'random') && axes.length === 0) {
    issues.push({
      path: 'vary',
      message: `expected at least one axis to vary in mode ${vary.mode} (${Object.keys(AXES).join(', ')}), got none`,
    });
  }
  return issues;
}

function baseTrialIssues(file: SweepFile): SweepIssue[] {
  const trial = file.base.trial;
  if (!trial) return [];
  return SWEEP_OWNED_FIELDS.filter((field) => field in trial).map((field) => ({
    path: `base.trial.${field}`,
    message: `expected no ${field} here: the sweep sets it (${ownerOf(field)})`,
  }));
}

/** Without a preset the schedule must come from the file, for every cell whose method reads it. */
function presetNoneIssues(file: SweepFile, methods: Set<Method>): SweepIssue[] {
  if (file.base.preset !== 'none') return [];
  const scheduled: Array<[AxisKey, string]> = [
    ['epochs', 'optim.epochs'],
    ['warmupEpochs', 'loss.warmupEpochs'],
    ['lrWarmupEpochs', 'optim.lrWarmupEpochs'],
  ];
  const vary = file.vary;
  const inTrial = (path: string) => file.base.trial !== undefined && hasPath(file.base.trial, path.split('.'));
  const everywhere = (key: AxisKey) =>
    (file.base as Record<string, unknown>)[key] !== undefined ||
    (vary?.mode === 'explicit'
      ? vary.variations.every((v) => (v as Record<string, unknown>)[key] !== undefined)
      : (vary?.mode === 'grid' || vary?.mode === 'random') && varyAxes(vary).includes(key));
  const used = (key: AxisKey) => (AXES[key] as AxisDef).methods.some((m) => methods.has(m));
  return scheduled
    .filter(([key, target]) => used(key) && !everywhere(key) && !inTrial(target))
    .map(([key]) => ({
      path: `base.${key}`,
      message: `expected a value because base.preset is "none" (no schedule to take it from), got nothing`,
    }));
}

function ownerOf(field: (typeof SWEEP_OWNED_FIELDS)[number]): string {
  switch (field) {
    case 'method':
      return 'base.method or a method axis';
    case 'dataset':
      return 'datasets';
    case 'evalDatasets':
      return 'datasets and protocol';
    case 'subsampleClasses':
      return 'protocol: base-to-novel';
    case 'root':
      return 'base.dataRoot';
    case 'shots':
      return 'shots';
    case 'seed':
      return 'seeds';
    default:
      return `base.${field}`;
  }
}

/** The methods the sweep trains; reports a missing method where a cell would have none. */
function sweepMethods(file: SweepFile, issues: SweepIssue[]): Set<Method> {
  const methods = new Set<Method>();
  const base = file.base.method as Method | undefined;
  if (base) methods.add(base);
  const vary = file.vary;
  const expectation = `expected one of ${METHODS.join(', ')}`;
  if (vary?.mode === 'explicit') {
    vary.variations.forEach((variation, i) => {
      const method = variation.method as Method | undefined;
      if (method) methods.add(method);
      else if (!base)
        issues.push({
          path: `vary.variations[${i}].method`,
          message: `${expectation} (base.method is not set), got nothing`,
        });
    });
    return methods;
  }
  const axis = vary ? axisValues(vary, 'method') : [];
  for (const method of axis) methods.add(method as Method);
  const everyCellHasOne = axis.length > 0 && vary?.mode !== 'ablation';
  if (!base && !everyCellHasOne) {
    const why = vary?.mode === 'ablation' ? ' (an ablation varies from the base, so the base needs one)' : '';
    issues.push({ path: 'base.method', message: `${expectation}${why}, got nothing` });
  }
  return methods;
}

/** An axis or base value that no method of the sweep reads is a mistake (e.g. a CAVPT ablation of CoOp). */
function ineffectiveAxes(file: SweepFile, methods: Set<Method>): SweepIssue[] {
  if (methods.size === 0) return [];
  const issues: SweepIssue[] = [];
  const check = (key: AxisKey, path: string) => {
    const def: AxisDef = AXES[key];
    if (def.methods.some((m) => methods.has(m))) return;
    issues.push({
      path,
      message: `expected a setting used by this sweep's methods (${[...methods].join(', ')}), got ${key}, which only ${def.methods.join(', ')} use${def.methods.length === 1 ? 's' : ''}`,
    });
  };
  for (const key of Object.keys(assignmentsOf(file.base as Record<string, unknown>)) as AxisKey[]) {
    if (key !== 'method') check(key, `base.${key}`);
  }
  const vary = file.vary;
  if (vary?.mode === 'explicit') {
    vary.variations.forEach((variation, i) => {
      for (const key of Object.keys(assignmentsOf(variation as Record<string, unknown>)) as AxisKey[]) {
        const method = (variation.method ?? file.base.method) as Method | undefined;
        if (key !== 'method' && method && !(AXES[key] as AxisDef).methods.includes(method)) {
          issues.push({
            path: `vary.variations[${i}].${key}`,
            message: `expected a setting that ${method} uses, got ${key}, which only ${(AXES[key] as AxisDef).methods.join(', ')} use`,
          });
        }
      }
    });
  } else if (vary) {
    for (const key of varyAxes(vary)) if (key !== 'method') check(key, `vary.${key}`);
  }
  return issues;
}

function sizeIssues(file: SweepFile, datasetCount: number, options: SizeOptions): SweepIssue[] {
  const limit = options.limit ?? DEFAULT_TRIAL_LIMIT;
  const variations = variationCount(file.vary);
  const total = variations * datasetCount * file.shots.length * file.seeds.length;
  const breakdown = `${fmt(variations)} variation${variations === 1 ? '' : 's'} × ${datasetCount} datasets × ${file.shots.length} shots × ${file.seeds.length} seeds`;
  if (options.force && total > HARD_TRIAL_LIMIT) {
    return [
      {
        path: '(expansion)',
        message: `expected at most ${fmt(HARD_TRIAL_LIMIT)} trials even with --force, got ${fmt(total)} (${breakdown})`,
      },
    ];
  }
  if (!options.force && total > limit) {
    const cap = total > HARD_TRIAL_LIMIT ? `; --force allows up to ${fmt(HARD_TRIAL_LIMIT)}` : '';
    return [
      {
        path: '(expansion)',
        message: `expected at most ${fmt(limit)} trials without --force, got ${fmt(total)} (${breakdown})${cap}`,
      },
    ];
  }
  return [];
}

function fmt(n: number): string {
  return Number.isSafeInteger(n) ? n.toLocaleString('en-US') : n.toExponential(2);
}

interface Located {
  path: string;
  message: string;
  cells: number;
  example: string;
}

/**
 * Every resolved cell's problems, in cell order, each at the sweep-file key that set the value and merged with the
 * same problem of other cells. `model`: the sizes of `base.model` when they could be read, for the model-dependent
 * rules; without them those are left to the trainer.
 */
export function cellIssues(
  file: SweepFile,
  cells: readonly ResolvedCell[],
  model: ModelSizes | undefined,
): SweepIssue[] {
  const problems = new Map<string, Located>();
  for (const cell of cells) {
    if (!cell.outcome.ok) {
      recordRejection(problems, cell.outcome.error, file, cell);
      continue;
    }
    // The cell is resolved after the resets, so a value the method never reads cannot make it fail.
    for (const problem of trialProblems(cell.outcome.config, model)) locateProblem(problems, problem, file, cell);
  }
  return [...problems.values()].map((p) => ({
    path: p.path,
    message: `${p.message} (in ${p.cells} cell${p.cells === 1 ? '' : 's'}, e.g. ${p.example})`,
  }));
}

/** Map a trainer-schema rejection back to the sweep-file key that caused it. */
function recordRejection(problems: Map<string, Located>, err: unknown, file: SweepFile, cell: ResolvedCell): void {
  const messages = err instanceof TrialConfigError ? err.issues : [err instanceof Error ? err.message : String(err)];
  for (const text of messages) {
    const sep = text.indexOf(': ');
    const trialPath = sep > 0 ? text.slice(0, sep) : '';
    const detail = sep > 0 ? text.slice(sep + 2) : text;
    const message = `expected a value the trainer accepts, got a rejection from its schema: ${trialPath ? `${trialPath}: ` : ''}${detail}`;
    locateProblem(problems, { path: trialPath, message }, file, cell);
  }
}

/** Report a problem of a trial-config path at the sweep-file key that set it, merged with the same one elsewhere. */
function locateProblem(
  problems: Map<string, Located>,
  problem: TrialProblem,
  file: SweepFile,
  cell: ResolvedCell,
): void {
  const path = sweepPathFor(problem.path, file, cell);
  const key = `${path}\u0000${problem.message}`;
  const known = problems.get(key);
  if (known) known.cells += 1;
  else problems.set(key, { path, message: problem.message, cells: 1, example: cell.context });
}

function sweepPathFor(trialPath: string, file: SweepFile, cell: ResolvedCell): string {
  const axis = (Object.keys(AXES) as AxisKey[]).find((key) => AXES[key].target === trialPath);
  if (axis && cell.variation[axis] !== undefined) {
    return file.vary?.mode === 'explicit' ? `vary.variations[${cell.v}].${axis}` : `vary.${axis}`;
  }
  if (axis && (file.base as Record<string, unknown>)[axis] !== undefined) return `base.${axis}`;
  if (trialPath && file.base.trial && hasPath(file.base.trial, trialPath.split('.'))) return `base.trial.${trialPath}`;
  // A default that does not fit (the text context of a small model) is fixed where the sweep vocabulary sets it.
  if (axis) return `base.${axis}`;
  if (file.base.preset === 'none') return 'base.preset';
  return trialPath ? `base.trial.${trialPath}` : '(expansion)';
}

function hasPath(obj: Record<string, unknown>, path: string[]): boolean {
  let node: unknown = obj;
  for (const part of path) {
    if (typeof node !== 'object' || node === null || !(part in node)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return true;
}
