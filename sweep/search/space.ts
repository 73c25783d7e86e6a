import { type Assignment, AXES, type AxisKey, type AxisValue } from '../axes.ts';
import type { RandomRange, TpeSpec } from '../schema.ts';
import { varyAxes } from '../schema.ts';
import type { Params, SearchDimension } from './tpe.ts';

/**
 * A TPE search's `space` as the sampler's dimensions, in the axis list's order (sweep/axes.ts), which fixes the order
 * of the sampler's draws whatever the file's key order: a list is categorical, a range is an integer or
 * real dimension by the axis's kind (sweep/axes.ts), on its scale. Pure.
 */
export function searchDimensions(spec: TpeSpec): SearchDimension[] {
  return spaceAxes(spec).map((key) => {
    const value = (spec.space as Record<string, unknown>)[key] as AxisValue[] | RandomRange;
    if (Array.isArray(value)) return { kind: 'categorical', key, values: value };
    return {
      kind: AXES[key].kind === 'int' ? 'int' : 'float',
      key,
      min: value.min,
      max: value.max,
      scale: value.scale,
    };
  });
}

/** The axes a TPE search draws, in the axis list's order. */
export function spaceAxes(spec: TpeSpec): AxisKey[] {
  return varyAxes(spec.space as Parameters<typeof varyAxes>[0]);
}

/** A suggestion's parameters as sweep-file assignments. */
export function toAssignment(params: Params): Assignment {
  const out: Assignment = {};
  for (const [key, value] of Object.entries(params)) out[key as AxisKey] = value;
  return out;
}

/**
 * The corners a launch checks before any suggestion exists: every axis at its lowest, then at its highest value (a
 * list's first and last), so a range the trainer would refuse is reported with line numbers instead of as a failed
 * trial mid-search.
 */
export function probeAssignments(spec: TpeSpec): Assignment[] {
  const low: Assignment = {};
  const high: Assignment = {};
  for (const dim of searchDimensions(spec)) {
    if (dim.kind === 'categorical') {
      low[dim.key as AxisKey] = dim.values[0]!;
      high[dim.key as AxisKey] = dim.values[dim.values.length - 1]!;
    } else {
      low[dim.key as AxisKey] = dim.min;
      high[dim.key as AxisKey] = dim.max;
    }
  }
  return [low, high];
}
