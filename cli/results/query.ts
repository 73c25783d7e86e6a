import { cellStats, FACTOR_NAMES, type Factor } from '../../db/ablation.ts';
import type { Queryable } from '../../db/migrate.ts';
import { UserError } from '../errors.ts';
import { buildPivot, type Pivot } from './pivot.ts';
import { factorValues, resolveSweeps, UnknownSweepError, variedFactors } from './sweeps.ts';
import { isViewName, VIEW_NAMES, VIEWS, type ViewDefinition } from './views.ts';

export const METRICS = ['top1'] as const;

export interface ResultsRequest {
  sweeps: string[];
  view?: string | undefined;
  by?: string[] | undefined;
  metric?: string | undefined;
  split?: string | undefined;
}

export interface ResultsAnswer {
  pivot: Pivot;
  caption: string;
  view: ViewDefinition | null;
}

/** Factors that are never rows of the default table: the replicate axis and the column axes. */
const NOT_DEFAULT_ROWS: Factor[] = ['dataset', 'evalDataset', 'sweep'];

/**
 * Resolves sweeps, view and row factors, runs the seed aggregation of db/ablation.ts and pivots it. Bad input fails
 * with a one-line UserError that lists what exists.
 */
export async function resultsPivot(db: Queryable, request: ResultsRequest): Promise<ResultsAnswer> {
  const metric = request.metric ?? 'top1';
  if (!(METRICS as readonly string[]).includes(metric))
    throw new UserError(`unknown metric ${metric}; valid metrics: ${METRICS.join(', ')}`);
  if (request.view !== undefined && !isViewName(request.view))
    throw new UserError(`unknown view ${request.view}; valid views: ${VIEW_NAMES.join(', ')}`);
  const view = request.view === undefined ? null : VIEWS[request.view as keyof typeof VIEWS];
  const by = request.by?.map((name) => name.trim()).filter((name) => name !== '');
  for (const name of by ?? []) {
    if (!(FACTOR_NAMES as string[]).includes(name))
      throw new UserError(`unknown factor ${name} in --by; valid factors: ${FACTOR_NAMES.join(', ')}`);
  }

  const sweeps = await resolveSweeps(db, request.sweeps).catch((err: unknown) => {
    throw err instanceof UnknownSweepError ? new UserError(err.message) : err;
  });
  const sweepIds = sweeps.map((sweep) => sweep.id);
  const values = await factorValues(db, sweepIds);
  const varied = variedFactors(values, NOT_DEFAULT_ROWS);
  const sweepNames = sweeps.map((sweep) => sweep.name).join(', ');
  const variesText = varied.length === 0 ? 'nothing but seeds and datasets' : varied.join(', ');

  if (view && !view.varies.some((factor) => (values.get(factor) ?? []).length > 1)) {
    const described = view.varies
      .map((factor) => `${factor} ${describeValues(values.get(factor) ?? [])}`)
      .join(' and ');
    throw new UserError(
      `view ${view.name} needs ${view.varies.join(' or ')} to vary, but in ${sweepNames} ${described}; the sweep varies: ${variesText}`,
    );
  }

  if (view?.column === 'evalDataset') {
    const sources = values.get('dataset') ?? [];
    const targets = (values.get('evalDataset') ?? []).filter((value) => !sources.includes(value));
    if (targets.length === 0)
      throw new UserError(
        `view ${view.name} needs evalDataset targets besides the source datasets, but every trial of ${sweepNames} evaluates only on its own dataset; the sweep varies: ${variesText}`,
      );
  }
  const column: Factor = view?.column ?? 'dataset';
  const rowFactors = (by as Factor[] | undefined) ?? (view ? [...view.rows] : varied);
  if (rowFactors.includes(column))
    throw new UserError(`${column} is the column factor of this table; --by takes other factors`);
  if (new Set(rowFactors).size !== rowFactors.length) throw new UserError('--by names a factor twice');

  const report = await cellStats(db, {
    sweepIds,
    factors: [...rowFactors, column],
    where: view?.where ?? {},
    split: request.split ?? 'test',
  });
  const pivot = buildPivot(report, {
    rowFactors,
    column,
    average: view?.average ?? 'all',
    // Domain generalization puts the source datasets first and averages the targets only.
    leadingColumns: column === 'evalDataset' ? (values.get('dataset') ?? []) : [],
  });
  const caption = `top-1 accuracy (%) on the ${request.split ?? 'test'} split of ${sweepNames}${view ? ` — ${view.title}` : ''}`;
  return { pivot, caption, view };
}

function describeValues(list: unknown[]): string {
  if (list.length === 0) return 'has no trials';
  if (list.every((value) => value === null)) return 'is not set';
  return `has only the value ${list.map(String).join(', ')}`;
}
