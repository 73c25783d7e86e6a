import { PythonRandom } from '../data/python-random.ts';
import { type ModelSizes, type TrialProblem, trialProblems } from '../dpt/trainable.ts';
import {
  METHODS,
  type Method,
  parseTrialConfig,
  setPath,
  type TrialConfig,
  TrialConfigError,
} from '../dpt/trial-config.ts';
import { type Assignment, AXES, type AxisDef, type AxisKey, type AxisValue } from './axes.ts';
import { canonicalJson, identityView } from './canonical.ts';
import { type DatasetCell, datasetSizes, resolveDatasets } from './datasets.ts';
import { type TrialFactors, trialFactors } from './factors.ts';
import { SweepFileError, type SweepIssue } from './issues.ts';
import { assignmentsOf, parseSweepText, type RandomRange, type SweepFile, type VarySpec, varyAxes } from './schema.ts';

/**
 * Expansion of a validated sweep file into fully resolved trial configs, one per
 * method × dataset × shots × seed × variation, in that nesting (seeds innermost). Pure: no Node built-ins.
 *
 * Resolution order per trial: the trainer's defaults → the preset's schedule for (dataset, shots) → `base.trial` →
 * `base` assignments → the variation's assignments → fields the method does not use reset to their defaults (so a
 * CAVPT axis does not split identical CoOp trials) → identical configs deduplicated (an ablation's base cell is
 * shared by all its axes).
 * The size is computed before anything is materialised: above `limit` trials (default 10,000) the plan is refused
 * unless `force`, and nothing above HARD_TRIAL_LIMIT is ever materialised.
 */

export const DEFAULT_TRIAL_LIMIT = 10_000;
export const HARD_TRIAL_LIMIT = 1_000_000;

export interface PlanOptions {
  force?: boolean;
  limit?: number;
  /**
   * Sizes of `base.model` when they could be read (sweep/load.ts does): with them every cell is also checked against
   * the model (CAVPT depth, VPT layers, text context length); without, those checks are left to the trainer.
   */
  model?: ModelSizes;
}

export interface ExpandedTrial {
  /** position in the plan (stable for a given file) */
  index: number;
  /** index into `SweepPlan.variations` of the variation that produced it (the first one, when deduplicated) */
  variation: number;
  config: TrialConfig;
  factors: TrialFactors;
}

export interface SweepPlan {
  file: SweepFile;
  datasets: DatasetCell[];
  /** the variations in order: grid cells, ablation arms (base first), explicit entries or random draws */
  variations: Assignment[];
  trials: ExpandedTrial[];
  /** variations × datasets × shots × seeds, before deduplication */
  upperBound: number;
  /** trials dropped because an earlier trial of the sweep resolved to the same config */
  duplicates: number;
  /** distinct resolved configs when the seed is ignored */
  distinctCells: number;
  warnings: SweepIssue[];
}

/** Trainer fields each method never reads (docs/method.md §1): reset to defaults so they cannot split equal trials. */
const UNUSED_FIELDS: Record<Method, readonly string[]> = {
  zeroshot: ['text', 'vpt', 'cavpt', 'loss', 'optim'],
  coop: ['vpt', 'cavpt', 'loss', 'optim.lrVisual', 'optim.lrWarmupEpochs'],
  vpt: ['text', 'cavpt', 'loss', 'optim.lrText', 'optim.textLrWarmupEpochs'],
  vlp: ['cavpt', 'loss.alpha'],
  dpt: [],
};

/** Fields the sweep itself sets on every trial; `base.trial` may not set them. */
const SWEEP_OWNED_FIELDS = ['method', 'dataset', 'root', 'shots', 'seed', 'model', 'preset', 'evalDatasets'] as const;

/** Number of variations, computed without materialising them. */
export function variationCount(vary: VarySpec | undefined): number {
  if (!vary) return 1;
  switch (vary.mode) {
    case 'grid':
      return varyAxes(vary).reduce((n, key) => n * listOf(vary, key).length, 1);
    case 'ablation':
      return varyAxes(vary).reduce((n, key) => n + listOf(vary, key).length, 1);
    case 'explicit':
      return vary.variations.length;
    case 'random':
      return vary.n;
  }
}

/** variations × datasets × shots × seeds: the number of trials before deduplication. */
export function countUpperBound(file: SweepFile): number {
  const datasets = resolveDatasets(file.datasets).cells.length;
  return variationCount(file.vary) * datasets * file.shots.length * file.seeds.length;
}

/** Parse, validate and expand a sweep file's text; throws SweepFileError with every problem found. */
export function planSweepText(text: string, source = 'sweep file', options: PlanOptions = {}): SweepPlan {
  return planSweep(parseSweepText(text, source), options, source);
}

export function planSweep(file: SweepFile, options: PlanOptions = {}, source = 'sweep file'): SweepPlan {
  const issues: SweepIssue[] = [];
  const datasets = resolveDatasets(file.datasets).cells;
  issues.push(...varyIssues(file.vary));
  issues.push(...baseTrialIssues(file));
  const methods = sweepMethods(file, issues);
  issues.push(...presetNoneIssues(file, methods));
  issues.push(...ineffectiveAxes(file, methods));
  issues.push(...sizeIssues(file, datasets.length, options));
  if (issues.length > 0) throw new SweepFileError(issues, source);

  const variations = materialiseVariations(file.vary);
  const plan = resolveTrials(file, datasets, variations, source, options.model);
  return plan;
}

function listOf(vary: VarySpec, key: AxisKey): AxisValue[] {
  const value = (vary as Record<string, unknown>)[key];
  return Array.isArray(value) ? (value as AxisValue[]) : [];
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
    case 'evalDatasets':
      return 'datasets';
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
  const axis = vary ? listOf(vary, 'method') : [];
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

function sizeIssues(file: SweepFile, datasetCount: number, options: PlanOptions): SweepIssue[] {
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

/** The variation list; only called once the count is known to be within limits. */
export function materialiseVariations(vary: VarySpec | undefined): Assignment[] {
  if (!vary) return [{}];
  switch (vary.mode) {
    case 'grid': {
      let cells: Assignment[] = [{}];
      for (const key of varyAxes(vary)) {
        cells = cells.flatMap((cell) => listOf(vary, key).map((value) => ({ ...cell, [key]: value })));
      }
      return cells;
    }
    case 'ablation': {
      const arms: Assignment[] = [{}];
      for (const key of varyAxes(vary)) for (const value of listOf(vary, key)) arms.push({ [key]: value });
      return arms;
    }
    case 'explicit':
      return vary.variations.map((variation) => assignmentsOf(variation as Record<string, unknown>));
    case 'random':
      return randomVariations(vary);
  }
}

/**
 * `n` draws from CPython's `random.Random(seed)` (data/python-random.ts), one value per axis in file order per draw:
 * a list → `choice`; an integer range → `randint(min, max)`; a number range → `uniform(min, max)`; a log range →
 * exp(uniform(ln min, ln max)), rounded for integer axes. Same seed, same file → same variations.
 */
function randomVariations(vary: Extract<VarySpec, { mode: 'random' }>): Assignment[] {
  const rng = new PythonRandom(vary.seed);
  const axes = varyAxes(vary);
  const out: Assignment[] = [];
  for (let i = 0; i < vary.n; i++) {
    const draw: Assignment = {};
    for (const key of axes) {
      const spec = (vary as Record<string, unknown>)[key] as AxisValue[] | RandomRange;
      draw[key] = Array.isArray(spec) ? spec[rng.randbelow(spec.length)]! : sampleRange(rng, AXES[key], spec);
    }
    out.push(draw);
  }
  return out;
}

function sampleRange(rng: PythonRandom, def: AxisDef, range: RandomRange): number {
  if (range.scale === 'log') {
    const x = Math.exp(rng.uniform(Math.log(range.min), Math.log(range.max)));
    const v = def.kind === 'int' ? Math.round(x) : x;
    return Math.min(range.max, Math.max(range.min, v));
  }
  return def.kind === 'int' ? rng.randint(range.min, range.max) : rng.uniform(range.min, range.max);
}

interface Located {
  path: string;
  message: string;
  cells: number;
  example: string;
}

function resolveTrials(
  file: SweepFile,
  datasets: DatasetCell[],
  variations: Assignment[],
  source: string,
  model: ModelSizes | undefined,
): SweepPlan {
  const trials: ExpandedTrial[] = [];
  const seen = new Set<string>();
  const cellsSeen = new Set<string>();
  const problems = new Map<string, Located>();
  const warnings = new WarningCollector();
  const defaults = new Map<string, TrialConfig>();
  const baseAssign = assignmentsOf(file.base as Record<string, unknown>);
  let duplicates = 0;

  for (const cell of datasets) {
    for (const shots of file.shots) {
      variations.forEach((variation, v) => {
        const method = (variation.method ?? baseAssign.method) as Method;
        const context = `${method} on ${cell.dataset}, ${shots} shots${variations.length > 1 ? `, variation ${v}` : ''}`;
        let resolved: TrialConfig;
        try {
          const raw = rawTrial(file, cell, shots, method, file.base.trial);
          for (const [key, value] of Object.entries({ ...baseAssign, ...variation })) {
            if (key !== 'method') setPath(raw, AXES[key as AxisKey].target, value);
          }
          resolved = parseTrialConfig(raw);
          const reference = defaultsFor(defaults, file, cell, shots, method);
          resolved = resetUnused(resolved, reference);
        } catch (err) {
          recordProblem(problems, err, file, variation, v, context);
          return;
        }
        // Checked after the resets, so a value the method never reads cannot make its cell fail.
        const unrunnable = trialProblems(resolved, model);
        if (unrunnable.length > 0) {
          for (const problem of unrunnable) locateProblem(problems, problem, file, variation, v, context);
          return;
        }
        warnings.inspect(resolved);
        const cellKey = canonicalJson({ ...identityView(resolved), seed: null });
        cellsSeen.add(cellKey);
        for (const seed of file.seeds) {
          const config: TrialConfig = { ...resolved, seed };
          const key = canonicalJson(identityView(config));
          if (seen.has(key)) {
            duplicates += 1;
            continue;
          }
          seen.add(key);
          trials.push({ index: trials.length, variation: v, config, factors: trialFactors(config) });
        }
      });
    }
  }
  if (problems.size > 0) {
    throw new SweepFileError(
      [...problems.values()].map((p) => ({
        path: p.path,
        message: `${p.message} (in ${p.cells} cell${p.cells === 1 ? '' : 's'}, e.g. ${p.example})`,
      })),
      source,
    );
  }
  return {
    file,
    datasets,
    variations,
    trials,
    upperBound: variations.length * datasets.length * file.shots.length * file.seeds.length,
    duplicates,
    distinctCells: cellsSeen.size,
    warnings: warnings.issues(),
  };
}

function rawTrial(
  file: SweepFile,
  cell: DatasetCell,
  shots: number,
  method: Method,
  trial: Record<string, unknown> | undefined,
): Record<string, unknown> {
  // JSON round trip: a deep copy that works inside Temporal's workflow sandbox too.
  const raw: Record<string, unknown> = trial ? JSON.parse(JSON.stringify(trial)) : {};
  Object.assign(raw, {
    method,
    dataset: cell.dataset,
    root: file.base.dataRoot,
    shots,
    seed: file.seeds[0],
    model: file.base.model,
    preset: file.base.preset,
    evalDatasets: [...cell.evalDatasets],
  });
  return raw;
}

function defaultsFor(
  cache: Map<string, TrialConfig>,
  file: SweepFile,
  cell: DatasetCell,
  shots: number,
  method: Method,
): TrialConfig {
  const key = `${cell.dataset}\u0000${shots}\u0000${method}`;
  let config = cache.get(key);
  if (!config) {
    // The paper preset supplies the schedule even when the sweep's preset is 'none', so resets always resolve.
    config = parseTrialConfig({ ...rawTrial(file, cell, shots, method, undefined), preset: 'paper' });
    cache.set(key, config);
  }
  return config;
}

function resetUnused(config: TrialConfig, reference: TrialConfig): TrialConfig {
  const fields = UNUSED_FIELDS[config.method];
  if (fields.length === 0) return config;
  const out = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  for (const field of fields) {
    const path = field.split('.');
    let from: unknown = reference;
    for (const part of path) from = (from as Record<string, unknown>)[part];
    setPath(out, field, JSON.parse(JSON.stringify(from)));
  }
  return out as TrialConfig;
}

/** Map a trainer-schema rejection back to the sweep-file key that caused it; identical problems are merged. */
function recordProblem(
  problems: Map<string, Located>,
  err: unknown,
  file: SweepFile,
  variation: Assignment,
  v: number,
  context: string,
): void {
  const messages = err instanceof TrialConfigError ? err.issues : [err instanceof Error ? err.message : String(err)];
  for (const text of messages) {
    const sep = text.indexOf(': ');
    const trialPath = sep > 0 ? text.slice(0, sep) : '';
    const detail = sep > 0 ? text.slice(sep + 2) : text;
    const message = `expected a value the trainer accepts, got a rejection from its schema: ${trialPath ? `${trialPath}: ` : ''}${detail}`;
    locateProblem(problems, { path: trialPath, message }, file, variation, v, context);
  }
}

/** Report a problem of a trial-config path at the sweep-file key that set it, merged with the same one elsewhere. */
function locateProblem(
  problems: Map<string, Located>,
  problem: TrialProblem,
  file: SweepFile,
  variation: Assignment,
  v: number,
  context: string,
): void {
  const path = sweepPathFor(problem.path, file, variation, v);
  const key = `${path}\u0000${problem.message}`;
  const known = problems.get(key);
  if (known) known.cells += 1;
  else problems.set(key, { path, message: problem.message, cells: 1, example: context });
}

function sweepPathFor(trialPath: string, file: SweepFile, variation: Assignment, v: number): string {
  const axis = (Object.keys(AXES) as AxisKey[]).find((key) => AXES[key].target === trialPath);
  if (axis && variation[axis] !== undefined) {
    return file.vary?.mode === 'explicit' ? `vary.variations[${v}].${axis}` : `vary.${axis}`;
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

/** Legal but probably unintended settings, reported once each. */
class WarningCollector {
  private warmup = new Set<string>();
  private capped = new Map<string, Set<number>>();

  inspect(config: TrialConfig): void {
    if ((config.method === 'dpt' || config.method === 'vlp') && config.loss.warmupEpochs >= config.optim.epochs) {
      this.warmup.add(`${config.dataset} (C=${config.loss.warmupEpochs}, epochs=${config.optim.epochs})`);
    }
    if (config.method === 'dpt') {
      const classes = datasetSizes(config.dataset).classes;
      if (config.cavpt.kN > classes) {
        const set = this.capped.get(config.dataset) ?? new Set<number>();
        set.add(config.cavpt.kN);
        this.capped.set(config.dataset, set);
      }
    }
  }

  issues(): SweepIssue[] {
    const out: SweepIssue[] = [];
    if (this.warmup.size > 0) {
      out.push({
        path: 'warmupEpochs',
        message: `the general-knowledge warm-up covers every epoch, so the final loss is never used: ${[...this.warmup].join('; ')}`,
      });
    }
    if (this.capped.size > 0) {
      const parts = [...this.capped].map(
        ([dataset, values]) =>
          `${dataset} (${datasetSizes(dataset).classes} classes) at ${[...values].sort((a, b) => a - b).join(', ')}`,
      );
      out.push({
        path: 'cavpt.length (K_N)',
        message: `K_N above a dataset's class count acts as the class count (min(K_N, classes)), so these trials repeat the capped setting: ${parts.join('; ')}`,
      });
    }
    return out;
  }
}
