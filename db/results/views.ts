import type { Factor, FactorValue } from '../ablation.ts';

/**
 * The paper's table layouts, shared by the CLI (`dpt-sweep results --view`) and the dashboard. A view is a pivot:
 * row factors, one column factor, optional filters; `varies` lists the factors of which at least one must take more
 * than one value in the sweep, otherwise the view has nothing to compare.
 */
export interface ViewDefinition {
  name: string;
  title: string;
  rows: Factor[];
  column: Factor;
  where: Partial<Record<Factor, FactorValue[]>>;
  varies: Factor[];
  /**
   * Which columns the "average" column averages: every column, only the ones that are not a source dataset (domain
   * generalization averages the target sets), or none.
   */
  average: 'all' | 'targets' | 'none';
}

export const VIEWS = {
  fewshot: {
    name: 'fewshot',
    title: 'Few-shot classification: method × shots per dataset and averaged',
    rows: ['method', 'shots'],
    column: 'dataset',
    where: {},
    varies: ['method', 'shots'],
    average: 'all',
  },
  'cavpt-depth': {
    name: 'cavpt-depth',
    title: 'CAVPT depth: mode × number of layers with class-aware prompts',
    rows: ['cavptMode', 'cavptLayers'],
    column: 'dataset',
    where: {},
    varies: ['cavptMode', 'cavptLayers'],
    average: 'all',
  },
  'cavpt-length': {
    name: 'cavpt-length',
    title: 'CAVPT length: number of class-aware visual prompt tokens',
    rows: ['cavptLength'],
    column: 'dataset',
    where: {},
    varies: ['cavptLength'],
    average: 'all',
  },
  kn: {
    name: 'kn',
    title: 'K_N sensitivity: number of text prompts fed to CAVPT',
    rows: ['kN'],
    column: 'dataset',
    where: {},
    varies: ['kN'],
    average: 'all',
  },
  'alpha-beta': {
    name: 'alpha-beta',
    title: 'Loss weights: α × β',
    rows: ['alpha', 'beta'],
    column: 'dataset',
    where: {},
    varies: ['alpha', 'beta'],
    average: 'all',
  },
  lr: {
    name: 'lr',
    title: 'Learning-rate sensitivity (visual prompts)',
    rows: ['lr'],
    column: 'dataset',
    where: {},
    varies: ['lr'],
    average: 'all',
  },
  dg: {
    name: 'dg',
    title: 'Domain generalization: source dataset and the domain-shifted target sets',
    rows: ['method'],
    column: 'evalDataset',
    where: {},
    varies: ['evalDataset'],
    average: 'targets',
  },
} as const satisfies Record<string, ViewDefinition>;

export type ViewName = keyof typeof VIEWS;
export const VIEW_NAMES = Object.keys(VIEWS) as ViewName[];

export function isViewName(name: string): name is ViewName {
  return Object.hasOwn(VIEWS, name);
}
