import { type CellReport, cellStats, type Factor, type FactorValue } from '../../db/ablation.ts';
import type { Queryable } from '../../db/migrate.ts';
import { buildPivot } from '../../db/results/pivot.ts';
import { resultsPivot } from '../../db/results/query.ts';
import { seedNote } from '../../db/results/seed-policy.ts';
import { VIEWS, type ViewDefinition } from '../../db/results/views.ts';
import { FACTOR_DEFS, type TrialFactors } from '../../sweep/factors.ts';
import { renderPivot } from '../results/render.ts';

/** The planned trials' factor columns, as `planSweep` gives them. */
export type PlannedFactors = Pick<TrialFactors, 'method'> & Partial<Record<Factor, FactorValue>>;

/** Factors that can take a second value inside one method's trials of a sweep (the ablation arms): the axes. */
const ARM_FACTORS: Factor[] = FACTOR_DEFS.filter((def) => def.axis !== null && def.axis !== 'method').map(
  (d) => d.name,
);

/** Two columns of one knob (SELECTED_COVPT.CPN): a table over one of them lets the other vary with it. */
const SAME_KNOB: Partial<Record<Factor, Factor>> = { cavptLength: 'kN', kN: 'cavptLength' };

function distinct(planned: PlannedFactors[], factor: Factor): Set<FactorValue> {
  return new Set(planned.map((f) => f[factor] ?? null));
}

/**
 * A filter pinning every arm factor that varies among these trials (one method's) to its base value, except the
 * table's own rows. The first planned trial is the base cell (ablation: the base; grid: each axis's first value).
 */
function baseSetting(trials: PlannedFactors[], rows: Factor[]): Partial<Record<Factor, FactorValue[]>> {
  const base = trials[0];
  const free = new Set(rows.flatMap((row) => [row, SAME_KNOB[row]].filter((f): f is Factor => f !== undefined)));
  const where: Partial<Record<Factor, FactorValue[]>> = {};
  if (base === undefined) return where;
  for (const factor of ARM_FACTORS) {
    const value = base[factor] ?? null;
    if (!free.has(factor) && value !== null && distinct(trials, factor).size > 1) where[factor] = [value];
  }
  return where;
}

/** The paper's ablation views the quick start prints when its sweep varies them; kn is cavpt-length's other name. */
const ABLATION_VIEWS: ViewDefinition[] = [VIEWS['cavpt-length'], VIEWS['cavpt-depth'], VIEWS['alpha-beta'], VIEWS.lr];

/**
 * The quick start's tables: the few-shot table (methods × shots per dataset, each method at its base setting, so an
 * ablation arm never mixes into its row), then one table per ablation view the sweep varies, per shot count.
 * Every entry is mean ± sample std over seeds (n) through the results renderer.
 */
export async function quickstartTables(
  db: Queryable,
  sweep: { id: string; name: string },
  planned: PlannedFactors[],
): Promise<string> {
  const methods = [...new Set(planned.map((f) => f.method))];
  const report: CellReport = { factors: ['method', 'shots', 'dataset'], added: [], cells: [], missing: [] };
  for (const method of methods) {
    const where = {
      method: [method],
      ...baseSetting(
        planned.filter((f) => f.method === method),
        [],
      ),
    };
    const part = await cellStats(db, { sweepIds: [sweep.id], factors: ['method', 'shots', 'dataset'], where });
    report.cells.push(...part.cells);
    report.missing.push(...part.missing);
    for (const factor of part.added) if (!report.added.includes(factor)) report.added.push(factor);
  }
  report.factors.push(...report.added);
  const fewshot = buildPivot(report, {
    rowFactors: ['method', 'shots', ...report.added],
    column: 'dataset',
    average: 'all',
  });
  const out = [
    renderPivot(fewshot, 'table', {
      caption: `top-1 accuracy (%) on the test split of ${sweep.name} — ${VIEWS.fewshot.title}, each method at its base setting`,
      digits: 1,
      notes: seedNote(report).lines,
    }),
  ];

  const dpt = planned.filter((f) => f.method === 'dpt');
  for (const view of ABLATION_VIEWS) {
    if (!view.varies.some((factor) => distinct(dpt, factor).size > 1)) continue;
    const where = { ...view.where, method: ['dpt'], ...baseSetting(dpt, view.rows) };
    const rowFactors: Factor[] = [...view.rows, 'shots'];
    const cells = await cellStats(db, { sweepIds: [sweep.id], factors: [...rowFactors, view.column], where });
    const pivot = buildPivot(cells, {
      rowFactors: [...rowFactors, ...cells.added],
      column: view.column,
      average: view.average,
    });
    out.push(
      renderPivot(pivot, 'table', {
        caption: `top-1 accuracy (%) on the test split of ${sweep.name} — ${view.title} (DPT)`,
        digits: 1,
        notes: seedNote(cells).lines,
      }),
    );
  }
  return out.join('\n');
}

/**
 * A sweep of another protocol than few-shot (base-to-novel, a transfer) prints the table `dpt-sweep results` opens it
 * with: that protocol's layout, with its seed notes.
 */
export async function protocolTable(db: Queryable, sweep: { name: string }): Promise<string> {
  const answer = await resultsPivot(db, { sweeps: [sweep.name] });
  return renderPivot(answer.pivot, 'table', { caption: answer.caption, digits: 1, notes: answer.notes });
}
