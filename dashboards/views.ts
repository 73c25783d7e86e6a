import {
  averageOver,
  type CellReport,
  cellStats,
  FACTOR_NAMES,
  type Factor,
  type FactorValue,
  propagatedStd,
} from '../db/ablation.ts';
import type { Queryable } from '../db/migrate.ts';
import { baseToNovelPivot } from '../db/results/base-to-novel.ts';
import { factorValues, resolveSweeps } from '../db/results/sweeps.ts';
import { METHOD_ORDER, supportedViews, VIEWS, type ViewChart, type ViewName } from '../db/results/views.ts';
import { compareSeries, differingFactors, seriesName } from './series.ts';

/**
 * The paper's ablation views as charts, aggregated on the server with db/ablation.ts. The view list (names, titles, x
 * factor, which sweeps support a view) is the tables' own, db/results/views.ts. Error bars are the sample std over
 * seeds (absent for a cell with fewer than two seeds).
 */

export { VIEW_NAMES, type ViewName } from '../db/results/views.ts';

export class ViewError extends Error {}

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
  /** The method and the factors that differ between the view's series (dashboards/series.ts). */
  name: string;
  /** For its colour (the colours follow the method order of GET /api/sweeps/:id). */
  method: string | null;
  /** Every factor that keys the series, differing or not. */
  key: Record<string, FactorValue>;
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

/** The factors that decide whether a view is supported (db/results/views.ts supportedViews). */
function factorsDeciding(view: ViewName): Factor[] {
  const chart: ViewChart = VIEWS[view].chart;
  if (chart.kind === 'heatmap') return ['alpha', 'beta'];
  if (chart.kind === 'bar') return chart.x === 'classSubset' ? ['classSubset'] : ['dataset', 'evalDataset'];
  return chart.x === 'kN' || chart.x === 'cavptLength' ? ['kN', 'cavptLength'] : [chart.x];
}

/**
 * The views a sweep supports (db/results/views.ts supportedViews), in list order, less one of CAVPT length and K_N
 * when they are the same knob here: both columns come from cavpt.kN (sweep/axes.ts), so a sweep of `cavpt.length`
 * also moves kN, one to one, and the two charts would be the same. The one the sweep file names stays. With `only`,
 * just whether that view is (reading only the factors that decide it).
 */
export async function availableViews(db: Queryable, sweepId: string, only?: ViewName): Promise<ViewName[]> {
  const [values, sweeps] = await Promise.all([
    factorValues(db, [sweepId], only === undefined ? FACTOR_NAMES : factorsDeciding(only)),
    resolveSweeps(db, [sweepId]),
  ]);
  const asked = (list: ViewName[]) => list.filter((view) => only === undefined || view === only);
  const views = supportedViews(
    values,
    sweeps.map((sweep) => sweep.protocol),
  );
  if (!views.includes('cavpt-length') || !views.includes('kn')) return asked(views);
  const { rows } = await db.query<{ pairs: number; kn: number; length: number; vary: unknown }>(
    `SELECT count(DISTINCT ("kN", "cavptLength"))::int AS pairs, count(DISTINCT "kN")::int AS kn,
            count(DISTINCT "cavptLength")::int AS length, (SELECT s."spec" -> 'vary' FROM "Sweep" s WHERE s."id" = $1) AS vary
       FROM "Trial" WHERE "sweepId" = $1 AND "kN" IS NOT NULL`,
    [sweepId],
  );
  const row = rows[0];
  if (row === undefined || row.pairs !== row.kn || row.pairs !== row.length) return asked(views);
  const namesKn = /"kN"/.test(JSON.stringify(row.vary ?? null));
  return asked(views.filter((view) => view !== (namesKn ? 'cavpt-length' : 'kn')));
}

export async function computeView(db: Queryable, sweepId: string, name: ViewName): Promise<ViewResult> {
  if (!(await availableViews(db, sweepId, name)).includes(name)) {
    const available = await availableViews(db, sweepId);
    throw new ViewError(
      `view ${name} needs a factor this sweep did not vary; available views: ${available.join(', ') || '(none)'}`,
    );
  }
  const chart = VIEWS[name].chart;
  // Series are per method; cellStats adds whatever else varies inside a point (db/ablation.ts), so none pools settings.
  const requested: Factor[] = ['method'];
  const built =
    chart.kind === 'line'
      ? await lineView(db, sweepId, chart.x, requested)
      : chart.kind === 'heatmap'
        ? await heatmapView(db, sweepId, requested)
        : chart.x === 'classSubset'
          ? await baseToNovelView(db, sweepId, requested)
          : await dgView(db, sweepId, requested);
  const panels = nameSeries(built.panels, built.seriesFactors);
  return {
    view: name,
    kind: chart.kind,
    title: chart.title,
    x: chart.x,
    ...('y' in chart ? { y: chart.y } : {}),
    panels:
      chart.kind === 'heatmap'
        ? panels.map((panel) => ({ ...panel, title: `${panel.series[0]?.name ?? 'all'} (average over datasets)` }))
        : panels,
    missing: built.missing,
  };
}

interface Built {
  panels: Array<{ title: string; series: Array<Omit<ViewSeries, 'name'>> }>;
  seriesFactors: Factor[];
  missing: number;
}

/** Names every series by the factors that differ across all the view's series, and sorts them (dashboards/series.ts). */
function nameSeries(panels: Built['panels'], factors: Factor[]): ViewPanel[] {
  const differing = differingFactors(
    panels.flatMap((panel) => panel.series),
    factors,
  );
  const order = compareSeries(METHOD_ORDER, factors);
  return panels.map((panel) => ({
    title: panel.title,
    series: [...panel.series].sort(order).map((entry) => ({ name: seriesName(entry.key, differing), ...entry })),
  }));
}

/**
 * Groups cells into series keyed by `seriesFactors`, keeping cells in the report's order (sorted by x). A cell whose
 * x (or y) is null belongs to trials the view's factor does not apply to (zero-shot in a CAVPT view): it is left out,
 * and so is a series left without cells.
 */
function groupSeries<T extends { key: Record<string, FactorValue> }>(
  cells: T[],
  seriesFactors: Factor[],
  axes: Factor[],
  point: (cell: T) => ViewPoint | null,
): Array<Omit<ViewSeries, 'name'>> {
  const series = new Map<string, Omit<ViewSeries, 'name'>>();
  for (const cell of cells) {
    if (axes.some((axis) => (cell.key[axis] ?? null) === null)) continue;
    const key = Object.fromEntries(seriesFactors.map((factor) => [factor, cell.key[factor] ?? null]));
    const id = JSON.stringify(seriesFactors.map((factor) => key[factor]));
    const method = key.method;
    const entry = series.get(id) ?? { method: typeof method === 'string' ? method : null, key, points: [] };
    const value = point(cell);
    if (value !== null) entry.points.push(value);
    series.set(id, entry);
  }
  return [...series.values()];
}

async function lineView(db: Queryable, sweepId: string, x: Factor, requested: Factor[]): Promise<Built> {
  const report = await cellStats(db, { sweepIds: [sweepId], factors: [x, ...requested, 'dataset'] });
  const seriesFactors = [...requested, ...report.added];
  const stdOf = datasetAverageStd(report);
  const average = averageOver(report, 'dataset');
  const panels: Built['panels'] = [
    {
      title: 'Average over datasets',
      series: groupSeries(average, seriesFactors, [x], (cell) =>
        cell.mean === null
          ? null
          : {
              x: cell.key[x] ?? null,
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
      series: groupSeries(cells, seriesFactors, [x], (cell) =>
        cell.mean === null
          ? null
          : { x: cell.key[x] ?? null, mean: cell.mean, std: cell.stdSample, n: cell.n, expectedN: cell.expectedN },
      ),
    });
  }
  return { panels, seriesFactors, missing: report.missing.length };
}

/** Std of the dataset average per key, propagated from the per-dataset sample stds (db/ablation.ts propagatedStd). */
function datasetAverageStd(report: CellReport): (key: Record<string, FactorValue>) => number | null {
  const rest = report.factors.filter((factor) => factor !== 'dataset');
  const groups = new Map<string, Array<number | null>>();
  for (const cell of report.cells) {
    if (cell.mean === null) continue;
    const id = JSON.stringify(rest.map((factor) => cell.key[factor] ?? null));
    groups.set(id, [...(groups.get(id) ?? []), cell.stdSample]);
  }
  return (key) => propagatedStd(groups.get(JSON.stringify(rest.map((factor) => key[factor] ?? null))) ?? []);
}

async function heatmapView(db: Queryable, sweepId: string, requested: Factor[]): Promise<Built> {
  const report = await cellStats(db, {
    sweepIds: [sweepId],
    factors: ['alpha', 'beta', ...requested, 'dataset'],
  });
  const seriesFactors = [...requested, ...report.added];
  const stdOf = datasetAverageStd(report);
  const series = groupSeries(averageOver(report, 'dataset'), seriesFactors, ['alpha', 'beta'], (cell) =>
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
  // One heatmap per series; computeView titles each panel by its series' name once names are known.
  return {
    panels: series.map((entry) => ({ title: '', series: [entry] })),
    seriesFactors,
    missing: report.missing.length,
  };
}

async function dgView(db: Queryable, sweepId: string, requested: Factor[]): Promise<Built> {
  const report = await cellStats(db, { sweepIds: [sweepId], factors: ['evalDataset', ...requested] });
  const seriesFactors = [...requested, ...report.added];
  const series = groupSeries(report.cells, seriesFactors, ['evalDataset'], (cell) =>
    cell.mean === null
      ? null
      : { x: cell.key.evalDataset ?? null, mean: cell.mean, std: cell.stdSample, n: cell.n, expectedN: cell.expectedN },
  );
  return {
    panels: [{ title: 'Source and target datasets', series }],
    seriesFactors,
    missing: report.missing.length,
  };
}

/**
 * Base, novel and HM per series, one panel for the dataset average and one per dataset: the bars of the base-to-novel
 * table (db/results/base-to-novel.ts, which computes them), so the chart and the table cannot disagree.
 */
async function baseToNovelView(db: Queryable, sweepId: string, requested: Factor[]): Promise<Built> {
  const report = await cellStats(db, { sweepIds: [sweepId], factors: [...requested, 'dataset', 'classSubset'] });
  const seriesFactors = [...requested, ...report.added];
  const pivot = baseToNovelPivot(report, seriesFactors);
  const panels = new Map<string, Built['panels'][number]>();
  for (const row of pivot.rows) {
    const dataset = String(row.key[0]);
    const panel = panels.get(dataset) ?? {
      title: dataset === 'average' ? 'Average over datasets' : dataset,
      series: [],
    };
    const key = Object.fromEntries(seriesFactors.map((factor, i) => [factor, row.key[i + 1] ?? null]));
    const points = row.entries.flatMap((entry, i) =>
      entry && entry.mean !== null
        ? [{ x: pivot.columns[i] ?? null, mean: entry.mean, std: entry.std, n: entry.n, expectedN: entry.expectedN }]
        : [],
    );
    panel.series.push({ method: typeof key.method === 'string' ? key.method : null, key, points });
    panels.set(dataset, panel);
  }
  return { panels: [...panels.values()], seriesFactors, missing: report.missing.length };
}
