import { factorNamed } from '../../sweep/factors.ts';
import type { ProtocolName } from '../../sweep/protocol.ts';
import { cellStats, FACTOR_NAMES, type Factor, PoolingError } from '../ablation.ts';
import type { Queryable } from '../migrate.ts';
import { BASE_TO_NOVEL_NOTE, baseToNovelPivot } from './base-to-novel.ts';
import { buildPivot, type Pivot } from './pivot.ts';
import { loadAnchors } from './published.ts';
import { markPublished, type PublishedSource } from './published-marks.ts';
import { seedNote } from './seed-policy.ts';
import { factorValues, type ResolvedSweep, resolveSweeps, UnknownSweepError, variedFactors } from './sweeps.ts';
import { evalTargets, isViewName, PROTOCOL_VIEWS, VIEW_NAMES, VIEWS, type ViewDefinition } from './views.ts';

export const METRICS = ['top1'] as const;

/**
 * A request the results tables cannot answer (unknown view, factor or sweep, a view the sweeps do not vary, settings
 * that would be pooled): one line that lists what exists. The CLI shows it as a UserError, the dashboard as a 400.
 */
export class ResultsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultsError';
  }
}

export interface ResultsRequest {
  sweeps: string[];
  view?: string | undefined;
  by?: string[] | undefined;
  metric?: string | undefined;
  split?: string | undefined;
  /** set the published numbers (published/anchors.yaml) beside the cells they match */
  published?: boolean | undefined;
}

export interface ResultsAnswer {
  pivot: Pivot;
  caption: string;
  view: ViewDefinition | null;
  protocol: ProtocolName;
  /** the lines under the table: its seeds and their warnings (db/results/seed-policy.ts), then the table's own */
  notes: string[];
  /** the sources of the published numbers shown, numbered as the entries refer to them */
  sources: PublishedSource[];
}

/** Factors that are never rows of the default table: the replicate axis and the column axes. */
const NOT_DEFAULT_ROWS: Factor[] = ['dataset', 'evalDataset', 'sweep'];

/**
 * Resolves sweeps, view and row factors, runs the seed aggregation of db/ablation.ts and pivots it. Bad input fails
 * with a one-line ResultsError that lists what exists.
 */
export async function resultsPivot(db: Queryable, request: ResultsRequest): Promise<ResultsAnswer> {
  const metric = request.metric ?? 'top1';
  if (!(METRICS as readonly string[]).includes(metric))
    throw new ResultsError(`unknown metric ${metric}; valid metrics: ${METRICS.join(', ')}`);
  if (request.view !== undefined && !isViewName(request.view))
    throw new ResultsError(`unknown view ${request.view}; valid views: ${VIEW_NAMES.join(', ')}`);
  let view: ViewDefinition | null = request.view === undefined ? null : VIEWS[request.view as keyof typeof VIEWS];
  const by = request.by
    ?.map((name) => name.trim())
    .filter((name) => name !== '')
    .map((name): Factor => {
      const factor = (FACTOR_NAMES as string[]).includes(name) ? (name as Factor) : factorNamed(name);
      if (factor === undefined)
        throw new ResultsError(
          `unknown factor ${name} in --by; valid factors: ${FACTOR_NAMES.join(', ')} (or a sweep-file key such as vpt.length)`,
        );
      return factor;
    });

  const sweeps = await resolveSweeps(db, request.sweeps).catch((err: unknown) => {
    throw err instanceof UnknownSweepError ? new ResultsError(err.message) : err;
  });
  const sweepIds = sweeps.map((sweep) => sweep.id);
  const protocol = oneProtocol(sweeps);
  // A protocol other than few-shot opens with its own layout; --by alone keeps the plain per-dataset table.
  if (view === null && request.view === undefined && by === undefined) {
    const name = PROTOCOL_VIEWS[protocol];
    if (name !== null) view = VIEWS[name];
  }
  if (view?.protocols && !view.protocols.includes(protocol))
    throw new ResultsError(
      `view ${view.name} is for protocol ${view.protocols.join(' or ')}, but ${sweeps.map((s) => s.name).join(', ')} ${sweeps.length === 1 ? 'is' : 'are'} ${protocol}`,
    );
  const baseToNovel = view?.name === 'base-to-novel';
  const column: Factor = view?.column ?? 'dataset';
  // Without --by or a view the rows are whatever the sweeps vary inside a dataset column (cellStats adds them).
  const asked = by ?? (view ? [...view.rows] : []);
  if (asked.includes(column))
    throw new ResultsError(`${column} is the column factor of this table; --by takes other factors`);
  if (baseToNovel && asked.includes('dataset'))
    throw new ResultsError('dataset heads the rows of the base-to-novel table already; --by takes other factors');
  if (new Set(asked).size !== asked.length) throw new ResultsError('--by names a factor twice');

  // The aggregation does not depend on the checks below, so it runs while they read the factor values; when a check
  // refuses, its error is the answer and the aggregation's outcome is dropped.
  const aggregated = cellStats(db, {
    sweepIds,
    factors: baseToNovel ? [...asked, 'dataset', column] : [...asked, column],
    where: view?.where ?? {},
    split: request.split ?? 'test',
  }).catch((err: unknown) => {
    throw err instanceof PoolingError ? new ResultsError(err.message) : err;
  });
  aggregated.catch(() => undefined);
  const values = await factorValues(db, sweepIds);
  const varied = variedFactors(values, NOT_DEFAULT_ROWS);
  const sweepNames = sweeps.map((sweep) => sweep.name).join(', ');
  const variesText = varied.length === 0 ? 'nothing but seeds and datasets' : varied.join(', ');

  if (view && !view.varies.some((factor) => (values.get(factor) ?? []).length > 1)) {
    const described = view.varies
      .map((factor) => `${factor} ${describeValues(values.get(factor) ?? [])}`)
      .join(' and ');
    throw new ResultsError(
      `view ${view.name} needs ${view.varies.join(' or ')} to vary, but in ${sweepNames} ${described}; the sweep varies: ${variesText}`,
    );
  }

  if (view?.column === 'evalDataset') {
    if (evalTargets(values).length === 0)
      throw new ResultsError(
        `view ${view.name} needs evalDataset targets besides the source datasets, but every trial of ${sweepNames} evaluates only on its own dataset; the sweep varies: ${variesText}`,
      );
  }
  const report = await aggregated;
  const rowFactors = [...asked, ...report.added];
  // Sweeps side by side in the order they were asked for.
  const orders = { sweep: sweeps.map((sweep) => sweep.name) };
  const pivot = baseToNovel
    ? baseToNovelPivot(report, rowFactors, orders)
    : buildPivot(report, {
        rowFactors,
        column,
        average: view?.average ?? 'all',
        // Transfer tables put the source datasets first and average the targets only.
        leadingColumns: column === 'evalDataset' ? (values.get('dataset') ?? []) : [],
        orders,
      });
  const notes = [...seedNote(report).lines, ...(baseToNovel ? [BASE_TO_NOVEL_NOTE] : [])];
  const sources = request.published
    ? markPublished(pivot, {
        anchors: loadAnchors(),
        protocol: column === 'evalDataset' && protocol === 'few-shot' ? 'domain-generalization' : protocol,
        constants: values,
      })
    : [];
  // Rows the request did not name are said, so that nobody mistakes them for the view's own.
  const extra =
    asked.length > 0 && report.added.length > 0
      ? ` (rows also split by ${report.added.join(', ')}, which ${report.added.length === 1 ? 'varies' : 'vary'} within them)`
      : '';
  // Another layout of a base-to-novel sweep scores each trial on the classes it trained on.
  const classes = protocol === 'base-to-novel' && !baseToNovel ? ', each trial on its base classes' : '';
  const caption = `top-1 accuracy (%) on the ${request.split ?? 'test'} split of ${sweepNames}${classes}${view ? ` — ${view.title}` : ''}${extra}`;
  return { pivot, caption, view, protocol, notes, sources };
}

/** Tables do not mix protocols: base-to-novel's classes or a transfer's targets do not compare with few-shot cells. */
function oneProtocol(sweeps: ResolvedSweep[]): ProtocolName {
  const protocols = [...new Set(sweeps.map((sweep) => sweep.protocol))];
  if (protocols.length > 1)
    throw new ResultsError(
      `cannot put sweeps of different protocols in one table (${sweeps.map((s) => `${s.name}: ${s.protocol}`).join(', ')}); ask for them one protocol at a time`,
    );
  return protocols[0] ?? 'few-shot';
}

function describeValues(list: unknown[]): string {
  if (list.length === 0) return 'has no trials';
  if (list.every((value) => value === null)) return 'is not set';
  return `has only the value ${list.map(String).join(', ')}`;
}
