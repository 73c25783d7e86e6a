import { PythonRandom } from '../data/python-random.ts';
import { unreadSettings } from '../dpt/methods/registry.ts';
import { type Method, parseTrialConfig, setPath, type TrialConfig } from '../dpt/trial-config.ts';
import { type Assignment, AXES, type AxisDef, type AxisKey, type AxisValue } from './axes.ts';
import { canonicalJson, identityView } from './canonical.ts';
import type { DatasetCell } from './datasets.ts';
import { type TrialFactors, trialFactors } from './factors.ts';
import type { SweepIssue } from './issues.ts';
import { protocolOf } from './protocol.ts';
import { assignmentsOf, axisValues, type RandomRange, type SweepFile, type VarySpec, varyAxes } from './schema.ts';

/**
 * Expansion of a validated sweep file (validate.ts `fileIssues` found nothing) into fully resolved trial configs, one
 * per method × dataset × shots × seed × variation, in that nesting (seeds innermost). Pure: no Node built-ins.
 *
 * Resolution order per cell: the trainer's defaults → the preset's schedule for (dataset, shots) → `base.trial` →
 * `base` assignments → the variation's assignments → fields the method does not use reset to their defaults (so a
 * CAVPT axis does not split identical CoOp trials). `resolveCells` stops there, so that validate.ts `cellIssues` can
 * check every cell before `expandTrials` crosses them with the seeds and drops identical configs (an ablation's base
 * cell is shared by all its axes).
 */

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

/** One (dataset, shots, variation) of the sweep, resolved for its first seed. */
export interface ResolvedCell {
  /** the variation's assignments */
  variation: Assignment;
  /** its index into the variations */
  v: number;
  /** names the cell in a problem's message: `dpt on eurosat, 1 shots, variation 3` */
  context: string;
  /** the config after the unused-field resets, or what the trainer's schema threw */
  outcome: { ok: true; config: TrialConfig } | { ok: false; error: unknown };
}

/** The variation list; only called once the count is known to be within limits. */
export function materialiseVariations(vary: VarySpec | undefined): Assignment[] {
  if (!vary) return [{}];
  switch (vary.mode) {
    case 'grid': {
      let cells: Assignment[] = [{}];
      for (const key of varyAxes(vary)) {
        cells = cells.flatMap((cell) => axisValues(vary, key).map((value) => ({ ...cell, [key]: value })));
      }
      return cells;
    }
    case 'ablation': {
      const arms: Assignment[] = [{}];
      for (const key of varyAxes(vary)) for (const value of axisValues(vary, key)) arms.push({ [key]: value });
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

/** Every cell in plan order (datasets outermost, then shots, then variations); one that does not resolve is kept. */
export function resolveCells(file: SweepFile, datasets: DatasetCell[], variations: Assignment[]): ResolvedCell[] {
  const cells: ResolvedCell[] = [];
  const defaults = new Map<string, TrialConfig>();
  const baseAssign = assignmentsOf(file.base as Record<string, unknown>);
  for (const cell of datasets) {
    for (const shots of file.shots) {
      variations.forEach((variation, v) => {
        const method = (variation.method ?? baseAssign.method) as Method;
        const context = `${method} on ${cell.dataset}, ${shots} shots${variations.length > 1 ? `, variation ${v}` : ''}`;
        try {
          const raw = rawTrial(file, cell, shots, method, file.base.trial);
          for (const [key, value] of Object.entries({ ...baseAssign, ...variation })) {
            if (key !== 'method') setPath(raw, AXES[key as AxisKey].target, value);
          }
          const parsed = parseTrialConfig(raw);
          const config = resetUnused(parsed, defaultsFor(defaults, file, cell, shots, method));
          cells.push({ variation, v, context, outcome: { ok: true, config } });
        } catch (error) {
          cells.push({ variation, v, context, outcome: { ok: false, error } });
        }
      });
    }
  }
  return cells;
}

/** The resolved cells × the seeds, seeds innermost; a config identical to an earlier trial's is dropped. */
export function expandTrials(
  cells: readonly ResolvedCell[],
  seeds: readonly number[],
): Pick<SweepPlan, 'trials' | 'duplicates' | 'distinctCells'> {
  const trials: ExpandedTrial[] = [];
  const seen = new Set<string>();
  const cellsSeen = new Set<string>();
  let duplicates = 0;
  for (const cell of cells) {
    if (!cell.outcome.ok) continue;
    const resolved = cell.outcome.config;
    cellsSeen.add(canonicalJson({ ...identityView(resolved), seed: null }));
    for (const seed of seeds) {
      const config: TrialConfig = { ...resolved, seed };
      const key = canonicalJson(identityView(config));
      if (seen.has(key)) {
        duplicates += 1;
        continue;
      }
      seen.add(key);
      trials.push({ index: trials.length, variation: cell.v, config, factors: trialFactors(config) });
    }
  }
  return { trials, duplicates, distinctCells: cellsSeen.size };
}

function rawTrial(
  file: SweepFile,
  cell: DatasetCell,
  shots: number,
  method: Method,
  trial: Record<string, unknown> | undefined,
): Record<string, unknown> {
  // JSON round trip: a deep copy of the plain data the YAML gave.
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
    subsampleClasses: protocolOf(file.protocol).name === 'base-to-novel' ? 'base' : 'all',
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
  // What the method's module does not list (dpt/methods/) cannot change its training: reset to the defaults so that
  // such values cannot split identical trials.
  const fields = unreadSettings(config.method);
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
