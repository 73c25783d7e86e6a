import type { ProtocolName } from '../../sweep/protocol.ts';
import type { Factor, FactorValue } from '../ablation.ts';

export { METHOD_ORDER } from '../../sweep/factors.ts';

/**
 * The paper's layouts, one list for the CLI's tables (`dpt-sweep results --view`) and the dashboard's charts, so a view
 * that has a chart also has its table. A view is a pivot: row factors, one column factor, optional filters; `varies`
 * lists the factors of which at least one must take more than one value for `results --view` to accept it. `chart`
 * says how the dashboard draws it: a line over factor `x`, the α × β heatmap, or the domain-generalization bars.
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
  chart: ViewChart;
  /** The protocols whose sweeps have this view; absent = every protocol. */
  protocols?: readonly ProtocolName[];
}

export type ViewChart =
  | { kind: 'line'; title: string; x: Factor }
  | { kind: 'heatmap'; title: string; x: 'alpha'; y: 'beta' }
  | { kind: 'bar'; title: string; x: 'evalDataset' | 'classSubset' };

export const VIEWS = {
  fewshot: {
    name: 'fewshot',
    title: 'Few-shot classification: method × shots per dataset and averaged',
    rows: ['method', 'shots'],
    column: 'dataset',
    where: {},
    varies: ['method', 'shots'],
    average: 'all',
    chart: { kind: 'line', title: 'Few-shot accuracy', x: 'shots' },
  },
  'cavpt-depth': {
    name: 'cavpt-depth',
    title: 'CAVPT depth: mode × number of layers with class-aware prompts',
    rows: ['cavptMode', 'cavptLayers'],
    column: 'dataset',
    where: {},
    varies: ['cavptMode', 'cavptLayers'],
    average: 'all',
    chart: { kind: 'line', title: 'CAVPT depth (layers)', x: 'cavptLayers' },
  },
  'cavpt-length': {
    name: 'cavpt-length',
    title: 'CAVPT length: number of class-aware visual prompt tokens',
    rows: ['cavptLength'],
    column: 'dataset',
    where: {},
    varies: ['cavptLength'],
    average: 'all',
    chart: { kind: 'line', title: 'CAVPT length', x: 'cavptLength' },
  },
  kn: {
    name: 'kn',
    title: 'K_N sensitivity: number of text prompts fed to CAVPT',
    rows: ['kN'],
    column: 'dataset',
    where: {},
    varies: ['kN'],
    average: 'all',
    chart: { kind: 'line', title: 'K_N sensitivity', x: 'kN' },
  },
  'alpha-beta': {
    name: 'alpha-beta',
    title: 'Loss weights: α × β',
    rows: ['alpha', 'beta'],
    column: 'dataset',
    where: {},
    varies: ['alpha', 'beta'],
    average: 'all',
    chart: { kind: 'heatmap', title: 'α × β', x: 'alpha', y: 'beta' },
  },
  lr: {
    name: 'lr',
    title: 'Learning-rate sensitivity (visual prompts)',
    rows: ['lr'],
    column: 'dataset',
    where: {},
    varies: ['lr'],
    average: 'all',
    chart: { kind: 'line', title: 'Learning-rate sensitivity', x: 'lr' },
  },
  dg: {
    name: 'dg',
    title: 'Domain generalization: source dataset and the domain-shifted target sets',
    rows: ['method'],
    column: 'evalDataset',
    where: {},
    varies: ['evalDataset'],
    average: 'targets',
    chart: { kind: 'bar', title: 'Domain generalisation', x: 'evalDataset' },
    // A few-shot sweep that lists the domain-shift group has these targets too.
    protocols: ['few-shot', 'domain-generalization'],
  },
  'cross-dataset': {
    name: 'cross-dataset',
    title: 'Cross-dataset transfer: the source dataset and the other datasets the prompts are evaluated on',
    rows: ['method'],
    column: 'evalDataset',
    where: {},
    varies: ['evalDataset'],
    average: 'targets',
    chart: { kind: 'bar', title: 'Cross-dataset transfer', x: 'evalDataset' },
    protocols: ['cross-dataset'],
  },
  'base-to-novel': {
    name: 'base-to-novel',
    title: 'Base-to-novel generalization: base and novel classes and their harmonic mean, per dataset and averaged',
    rows: ['method'],
    column: 'classSubset',
    where: {},
    varies: ['classSubset'],
    average: 'none',
    chart: { kind: 'bar', title: 'Base-to-novel generalization', x: 'classSubset' },
    protocols: ['base-to-novel'],
  },
} as const satisfies Record<string, ViewDefinition>;

/** The view a protocol's tables open with (the default table of `results` and the dashboard); none for few-shot. */
export const PROTOCOL_VIEWS: Readonly<Record<ProtocolName, ViewName | null>> = {
  'few-shot': null,
  'base-to-novel': 'base-to-novel',
  'cross-dataset': 'cross-dataset',
  'domain-generalization': 'dg',
};

export type ViewName = keyof typeof VIEWS;
export const VIEW_NAMES = Object.keys(VIEWS) as ViewName[];

export function isViewName(name: string): name is ViewName {
  return Object.hasOwn(VIEWS, name);
}

/** Evaluation datasets that are not a source dataset of the trials: the domain-generalization targets. */
export function evalTargets(values: Map<Factor, FactorValue[]>): FactorValue[] {
  const sources = values.get('dataset') ?? [];
  return (values.get('evalDataset') ?? []).filter((value) => !sources.includes(value));
}

const nonNull = (values: Map<Factor, FactorValue[]>, factor: Factor) =>
  new Set((values.get(factor) ?? []).filter((value) => value !== null)).size;

/**
 * The views a set of trials supports, in list order, from the distinct values each factor takes over them (null
 * included, as db/results/sweeps.ts factorValues gives them): a line view when its x factor takes at least two
 * non-null values (else its chart has one point per series), the heatmap when α and β both do, domain
 * generalization when some trial is evaluated on a target besides the source datasets. Stricter than `varies`, so
 * every supported view is one `results --view` accepts.
 */
export function supportedViews(
  values: Map<Factor, FactorValue[]>,
  protocols: readonly ProtocolName[] = ['few-shot'],
): ViewName[] {
  return VIEW_NAMES.filter((name) => {
    const view: ViewDefinition = VIEWS[name];
    if (view.protocols && !protocols.every((protocol) => view.protocols?.includes(protocol))) return false;
    const chart: ViewChart = view.chart;
    if (chart.kind === 'line') return nonNull(values, chart.x) >= 2;
    if (chart.kind === 'heatmap') return nonNull(values, 'alpha') >= 2 && nonNull(values, 'beta') >= 2;
    if (chart.x === 'classSubset') return (values.get('classSubset') ?? []).includes('novel');
    return evalTargets(values).length > 0;
  });
}
