import { averageOver, type CellReport, cellStats, type Factor, type FactorValue } from '../db/ablation.ts';
import type { Queryable } from '../db/migrate.ts';
import { sweepFactorValues } from './queries.ts';

/**
 * The paper's ablation views, aggregated on the server with db/ablation.ts. Error bars are the sample std over seeds
 * (absent for a cell with fewer than two seeds).
 */

export class ViewError extends Error {}

interface LineView {
  kind: 'line';
  title: string;
  x: Factor;
}
interface HeatmapView {
  kind: 'heatmap';
  title: string;
}
interface BarView {
  kind: 'bar';
  title: string;
}

const VIEWS = {
  fewshot: { kind: 'line', title: 'Few-shot accuracy', x: 'shots' },
  'cavpt-depth': { kind: 'line', title: 'CAVPT depth (layers)', x: 'cavptLayers' },
  'cavpt-length': { kind: 'line', title: 'CAVPT length', x: 'cavptLength' },
  kn: { kind: 'line', title: 'K_N sensitivity', x: 'kN' },
  lr: { kind: 'line', title: 'Learning-rate sensitivity', x: 'lr' },
  'alpha-beta': { kind: 'heatmap', title: 'α × β' },
  dg: { kind: 'bar', title: 'Domain generalisation' },
} as const satisfies Record<string, LineView | HeatmapView | BarView>;

export type ViewName = keyof typeof VIEWS;
export const VIEW_NAMES = Object.keys(VIEWS) as ViewName[];

export interface ViewPoint {
  x: FactorValue;
  y?: FactorValue;
  mean: number;
  /** Sample std over seeds; for the dataset average, propagated from the per-dataset stds. */
  std: number | null;
  n: number;
  expectedN: number;
}
export interface ViewSeries {
  name: string;
  points: ViewPoint[];
}
export interface ViewPanel {
  title: string;
  series: ViewSeries[];
}
export interface ViewResult {
  view: ViewName;
  kind: 'line' | 'heatmap' | 'bar';
  title: string;
  x: string;
  y?: string;
  panels: ViewPanel[];
  /** Planned cells without any result (left out of the charts). */
  missing: number;
}

interface SweepShape {
  values: Record<string, Array<string | number>>;
  varying: (factor: string) => boolean;
}

async function sweepShape(db: Queryable, sweepId: string): Promise<SweepShape> {
  const values = await sweepFactorValues(db, sweepId);
  return { values, varying: (factor) => (values[factor]?.length ?? 0) > 1 };
}

/** Views whose factor varies in the sweep. */
export async function availableViews(db: Queryable, sweepId: string): Promise<ViewName[]> {
  const shape = await sweepShape(db, sweepId);
  const dg = await db.query<{ dg: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM "Trial" WHERE "sweepId" = $1 AND cardinality("evalDatasets") > 1) AS dg`,
    [sweepId],
  );
  return VIEW_NAMES.filter((name) => isAvailable(name, shape, dg.rows[0]?.dg === true));
}

function isAvailable(name: ViewName, shape: SweepShape, dg: boolean): boolean {
  const view = VIEWS[name];
  if (view.kind === 'line') return shape.varying(view.x);
  if (view.kind === 'heatmap') return shape.varying('alpha') || shape.varying('beta');
  return dg;
}

export async function computeView(db: Queryable, sweepId: string, name: ViewName): Promise<ViewResult> {
  const available = await availableViews(db, sweepId);
  if (!available.includes(name)) {
    throw new ViewError(
      `view ${name} needs a factor this sweep did not vary; available views: ${available.join(', ') || '(none)'}`,
    );
  }
  const view = VIEWS[name];
  // Series are per method; cellStats adds whatever else varies inside a point (db/ablation.ts), so none pools settings.
  const series: Factor[] = ['method'];
  if (view.kind === 'line') return lineView(db, sweepId, name, view, series);
  if (view.kind === 'heatmap') return heatmapView(db, sweepId, name, view.title, series);
  return dgView(db, sweepId, name, view.title, series);
}

const seriesName = (key: Record<string, FactorValue>, factors: Factor[]) =>
  factors.map((factor) => (factor === 'method' ? String(key[factor]) : `${factor}=${key[factor]}`)).join(' ');

/** Groups cells into named series, keeping cells in the report's order (sorted by x). */
function groupSeries<T extends { key: Record<string, FactorValue> }>(
  cells: T[],
  seriesFactors: Factor[],
  point: (cell: T) => ViewPoint | null,
): ViewSeries[] {
  const series = new Map<string, ViewSeries>();
  for (const cell of cells) {
    const name = seriesName(cell.key, seriesFactors);
    const entry = series.get(name) ?? { name, points: [] };
    const value = point(cell);
    if (value !== null) entry.points.push(value);
    series.set(name, entry);
  }
  return [...series.values()];
}

async function lineView(
  db: Queryable,
  sweepId: string,
  name: ViewName,
  view: LineView,
  requested: Factor[],
): Promise<ViewResult> {
  const report = await cellStats(db, { sweepIds: [sweepId], factors: [view.x, ...requested, 'dataset'] });
  const seriesFactors = [...requested, ...report.added];
  const stdOf = propagatedStd(report);
  const average = averageOver(report, 'dataset');
  const panels: ViewPanel[] = [
    {
      title: 'Average over datasets',
      series: groupSeries(average, seriesFactors, (cell) =>
        cell.mean === null
          ? null
          : {
              x: cell.key[view.x] ?? null,
              mean: cell.mean,
              std: stdOf(cell.key),
              n: cell.n,
              expectedN: cell.expectedN,
            },
      ),
    },
  ];
  const datasets = [...new Set(report.cells.map((cell) => String(cell.key.dataset)))];
  for (const dataset of datasets) {
    const cells = report.cells.filter((cell) => cell.key.dataset === dataset);
    panels.push({
      title: dataset,
      series: groupSeries(cells, seriesFactors, (cell) =>
        cell.mean === null
          ? null
          : { x: cell.key[view.x] ?? null, mean: cell.mean, std: cell.stdSample, n: cell.n, expectedN: cell.expectedN },
      ),
    });
  }
  return { view: name, kind: 'line', title: view.title, x: view.x, panels, missing: report.missing.length };
}

/**
 * Std of the dataset average, propagated from the per-dataset sample stds as if datasets were independent:
 * sqrt(sum std_d²) / D over the datasets with results; null when any of them has fewer than two seeds.
 */
function propagatedStd(report: CellReport): (key: Record<string, FactorValue>) => number | null {
  const rest = report.factors.filter((factor) => factor !== 'dataset');
  const groups = new Map<string, Array<number | null>>();
  for (const cell of report.cells) {
    if (cell.mean === null) continue;
    const id = JSON.stringify(rest.map((factor) => cell.key[factor] ?? null));
    groups.set(id, [...(groups.get(id) ?? []), cell.stdSample]);
  }
  return (key) => {
    const stds = groups.get(JSON.stringify(rest.map((factor) => key[factor] ?? null))) ?? [];
    if (stds.length === 0 || stds.some((std) => std === null)) return null;
    return Math.sqrt(stds.reduce((sum: number, std) => sum + (std ?? 0) ** 2, 0)) / stds.length;
  };
}

async function heatmapView(
  db: Queryable,
  sweepId: string,
  name: ViewName,
  title: string,
  requested: Factor[],
): Promise<ViewResult> {
  const report = await cellStats(db, {
    sweepIds: [sweepId],
    factors: ['alpha', 'beta', ...requested, 'dataset'],
  });
  const seriesFactors = [...requested, ...report.added];
  const stdOf = propagatedStd(report);
  const series = groupSeries(averageOver(report, 'dataset'), seriesFactors, (cell) =>
    cell.mean === null
      ? null
      : {
          x: cell.key.alpha ?? null,
          y: cell.key.beta ?? null,
          mean: cell.mean,
          std: stdOf(cell.key),
          n: cell.n,
          expectedN: cell.expectedN,
        },
  );
  return {
    view: name,
    kind: 'heatmap',
    title,
    x: 'alpha',
    y: 'beta',
    panels: series.map((entry) => ({ title: `${entry.name} (average over datasets)`, series: [entry] })),
    missing: report.missing.length,
  };
}

async function dgView(
  db: Queryable,
  sweepId: string,
  name: ViewName,
  title: string,
  requested: Factor[],
): Promise<ViewResult> {
  const report = await cellStats(db, { sweepIds: [sweepId], factors: ['evalDataset', ...requested] });
  const seriesFactors = [...requested, ...report.added];
  const series = groupSeries(report.cells, seriesFactors, (cell) =>
    cell.mean === null
      ? null
      : { x: cell.key.evalDataset ?? null, mean: cell.mean, std: cell.stdSample, n: cell.n, expectedN: cell.expectedN },
  );
  return {
    view: name,
    kind: 'bar',
    title,
    x: 'evalDataset',
    panels: [{ title: 'Source and target datasets', series }],
    missing: report.missing.length,
  };
}
