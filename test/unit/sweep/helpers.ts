import type { SweepPlan } from '../../../sweep/expand.ts';
import { type PlanOptions, planSweepText } from '../../../sweep/plan.ts';

/** A sweep file from parts, so each test states only what it is about. */
export function sweepYaml(parts: {
  base?: string;
  datasets?: string;
  shots?: string;
  seeds?: string;
  vary?: string;
}): string {
  return [
    'name: test-sweep',
    'base:',
    parts.base ?? '  method: dpt',
    '  model: ./models/clip',
    '  dataRoot: ./data',
    `datasets: ${parts.datasets ?? '[eurosat]'}`,
    `shots: ${parts.shots ?? '[1]'}`,
    `seeds: ${parts.seeds ?? '[1]'}`,
    parts.vary ?? '',
  ].join('\n');
}

export function plan(parts: Parameters<typeof sweepYaml>[0], options?: PlanOptions): SweepPlan {
  return planSweepText(sweepYaml(parts), 'test', options);
}
