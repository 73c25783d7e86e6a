import { METHODS, methodDef, readsSetting } from '../dpt/methods/registry.ts';
import type { Method, TrialConfig } from '../dpt/trial-config.ts';
import { AXES, type AxisColumn, type AxisDef, type AxisKey } from './axes.ts';
import { trainedClassCount } from './protocol.ts';

/**
 * THE list of a trial's factors: every setting a sweep can set or vary, stored as a typed column of "Trial" (one
 * column per factor, db/README.md says why) so that ablation queries group and filter by columns instead of digging
 * in JSON. Everything that names factors derives from this list: the columns `planTrials` writes
 * (db/repositories.ts), the factor table of the ablation queries (db/ablation.ts), `results --by`, the dashboard's
 * trial columns, filters and series, export's columns; test/unit/sweep/factors.test.ts checks prisma/schema.prisma
 * against it.
 *
 * The first five are set by the sweep's own keys (method, datasets, model, shots, protocol); the rest are the sweep axes
 * (sweep/axes.ts), each stored in its `column`. A factor the trial's method does not read is null, which keeps "not
 * applicable" apart from every real value. The seed is a replicate, never a factor. Pure.
 */
/** Every method in the paper's order (the method registry's): tables and charts list and colour methods by it. */
export const METHOD_ORDER: readonly string[] = METHODS;

export type FactorType = 'text' | 'int' | 'float8';
export type FactorValue = string | number | null;
export type TrialFactorName = 'dataset' | 'backbone' | 'shots' | 'subsampleClasses' | AxisColumn;

/**
 * Ascending factor values as PostgreSQL orders them under the C collation: numbers by value, text by code point (the
 * same as by UTF-16 unit outside the astral planes), null first unless `nulls` says last.
 */
export function compareFactorValues(a: FactorValue, b: FactorValue, nulls: 'first' | 'last' = 'first'): number {
  if (a === b) return 0;
  if (a === null || b === null) return (a === null) === (nulls === 'first') ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

export interface FactorDef {
  name: TrialFactorName;
  type: FactorType;
  /** The sweep-file key that sets it, when it is an axis. */
  axis: AxisKey | null;
  /** Null only where the method does not read the setting (axes); method, dataset, backbone and shots never are. */
  nullable: boolean;
  /** What a planned trial that does not give it gets (the column's default), for one that is never null. */
  defaultValue?: string;
  valueOf(config: TrialConfig): FactorValue;
}

/** Axis values stored as something other than the configured value. */
const STORED_AS: Partial<Record<AxisKey, (config: TrialConfig) => FactorValue>> = {
  // A method that trains only text prompts (CoOp) has one learning rate, which stands in the learning-rate column too.
  lr: ({ method, optim }) =>
    readsSetting(method, 'optim.lrVisual')
      ? optim.lrVisual
      : readsSetting(method, 'optim.lrText')
        ? optim.lrText
        : null,
  // The trainer uses K = min(K_N, classes it trains on) class-aware prompts (dpt/trial-config.ts, cavpt.kN); K_N as configured is
  // the kN column.
  'cavpt.length': (config) =>
    methodDef(config.method).classAware
      ? Math.min(config.cavpt.kN, trainedClassCount(config.dataset, config.subsampleClasses))
      : null,
};

/** The CLIP weights' folder name, e.g. "clip-vit-base-patch32" for /models/clip-vit-base-patch32/. */
export function backboneOf(model: string): string {
  const parts = model.split(/[\\/]+/).filter((part) => part !== '');
  return parts[parts.length - 1] ?? model;
}

function axisFactor(key: AxisKey): FactorDef {
  const def: AxisDef = AXES[key];
  const path = def.target.split('.');
  const configured = (config: TrialConfig): FactorValue => {
    if (!def.methods.includes(config.method)) return null;
    let node: unknown = config;
    for (const part of path) node = (node as Record<string, unknown>)[part];
    return node as FactorValue;
  };
  return {
    name: def.column as AxisColumn,
    type: def.kind === 'enum' ? 'text' : def.kind === 'int' ? 'int' : 'float8',
    axis: key,
    nullable: key !== 'method',
    valueOf: STORED_AS[key] ?? configured,
  };
}

const method = axisFactor('method');
export const FACTOR_DEFS: readonly FactorDef[] = [
  method,
  { name: 'dataset', type: 'text', axis: null, nullable: false, valueOf: (config) => config.dataset },
  { name: 'backbone', type: 'text', axis: null, nullable: false, valueOf: (config) => backboneOf(config.model) },
  { name: 'shots', type: 'int', axis: null, nullable: false, valueOf: (config) => config.shots },
  // Set by the sweep's protocol (base-to-novel trains on the base classes), so that no table pools the two.
  {
    name: 'subsampleClasses',
    type: 'text',
    axis: null,
    nullable: false,
    defaultValue: 'all',
    valueOf: (config) => config.subsampleClasses,
  },
  ...(Object.keys(AXES) as AxisKey[]).filter((key) => key !== 'method').map(axisFactor),
];

export const TRIAL_FACTOR_NAMES: readonly TrialFactorName[] = FACTOR_DEFS.map((def) => def.name);

export function factorDef(name: TrialFactorName): FactorDef {
  const def = FACTOR_DEFS.find((entry) => entry.name === name);
  if (def === undefined) throw new Error(`no factor ${name}`);
  return def;
}

/** A factor by its column name or by its sweep-file key (`vpt.length` → vptLength). */
export function factorNamed(name: string): TrialFactorName | undefined {
  return FACTOR_DEFS.find((def) => def.name === name || def.axis === name)?.name;
}

export type TrialFactors = Record<TrialFactorName, FactorValue> & {
  method: Method;
  dataset: string;
  backbone: string;
  shots: number;
  subsampleClasses: string;
  seed: number;
};

export function trialFactors(config: TrialConfig): TrialFactors {
  const values = Object.fromEntries(FACTOR_DEFS.map((def) => [def.name, def.valueOf(config)]));
  return { ...values, seed: config.seed } as TrialFactors;
}
