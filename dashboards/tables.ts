import type { Factor } from '../db/ablation.ts';
import type { Queryable } from '../db/migrate.ts';
import { type PivotJson, pivotJson } from '../db/results/pivot.ts';
import { resultsPivot } from '../db/results/query.ts';
import { VIEWS, type ViewName } from '../db/results/views.ts';
import { configLeaves } from './trial.ts';
import { availableViews } from './views.ts';

/**
 * The dashboard's tables: exactly what `dpt-sweep results --published` prints, computed by the same code
 * (db/results/query.ts), as the JSON of `--format json` (db/results/pivot.ts pivotJson) with its seed notes and the
 * published numbers' sources. Request errors arrive as ResultsError (a 400).
 */

export interface Table {
  /** null for the default table (`dpt-sweep results <sweep>`), else the `--view` it is. */
  view: ViewName | null;
  title: string;
  caption: string;
  pivot: PivotJson;
}

export const DEFAULT_TABLE_TITLE = 'Every factor the sweep varies, per dataset';

/**
 * The default table, then one per view in `views` (each one `results --view` accepts). With `splitBySweep` the rows
 * start with the sweep, as `dpt-sweep results a b --by sweep[,<the view's rows>]`, so that sweeps compare side by side.
 * `views` may still be on its way: the default table needs none and starts at once.
 */
export async function resultTables(
  db: Queryable,
  sweepIds: string[],
  views: ViewName[] | Promise<ViewName[]>,
  splitBySweep = false,
): Promise<Table[]> {
  const rowsOf = (rows: readonly Factor[]): Factor[] | undefined => (splitBySweep ? ['sweep', ...rows] : undefined);
  // The tables run side by side (the embedded database's pool has one connection and queues them) and send many of
  // the same statements: given one request's sharedReads (the server's), those run once, and a table that starts
  // later joins the one in flight.
  const table = async (view: ViewName | null): Promise<Table> => {
    const answer = await resultsPivot(db, {
      sweeps: sweepIds,
      view: view ?? undefined,
      by: rowsOf(view === null ? [] : VIEWS[view].rows),
      published: true,
    });
    // The default table of a protocol other than few-shot is that protocol's view (db/results/views.ts).
    const shown = (answer.view?.name as ViewName | undefined) ?? null;
    return {
      view: shown,
      title: shown === null ? DEFAULT_TABLE_TITLE : VIEWS[shown].title,
      caption: answer.caption,
      pivot: pivotJson(answer.pivot, answer.caption, { notes: answer.notes, sources: answer.sources }),
    };
  };
  const first = table(null);
  first.catch(() => undefined); // awaited below, after the views
  const rest = await Promise.all((await views).map(table));
  const opening = await first;
  return [opening, ...rest.filter((entry) => opening.view === null || entry.view !== opening.view)];
}

/** The views every one of the sweeps supports, in list order. */
export async function commonViews(db: Queryable, sweepIds: string[]): Promise<ViewName[]> {
  const each = await Promise.all(sweepIds.map((id) => availableViews(db, id)));
  return (each[0] ?? []).filter((view) => each.every((list) => list.includes(view)));
}

export type SettingValue = string | number | null;

/**
 * Leaves of a sweep file as dotted paths; arrays, booleans and other non-scalars read as their JSON, so that a value
 * is a string or a number (null when the path is unset).
 */
export function flattenSpec(spec: unknown): Map<string, SettingValue> {
  const scalar = (value: unknown): SettingValue =>
    typeof value === 'string' || typeof value === 'number' || value === null ? value : JSON.stringify(value);
  return new Map([...configLeaves(spec)].map(([path, value]) => [path, scalar(value)]));
}

/**
 * The sweep-file settings that differ between the specs, one value per spec in order, sorted by path. The name is left
 * out: it always differs and the compare answer lists the sweeps already.
 */
export function differingSettings(specs: unknown[]): Array<{ key: string; values: SettingValue[] }> {
  const flat = specs.map((spec) => flattenSpec(spec));
  const keys = [...new Set(flat.flatMap((map) => [...map.keys()]))].filter((key) => key !== 'name').sort();
  return keys
    .map((key) => ({ key, values: flat.map((map) => map.get(key) ?? null) }))
    .filter((entry) => new Set(entry.values.map((value) => JSON.stringify(value))).size > 1);
}

export async function sweepSpecs(db: Queryable, sweepIds: string[]): Promise<unknown[]> {
  const { rows } = await db.query<{ id: string; spec: unknown }>(
    `SELECT id, spec FROM "Sweep" WHERE id = ANY($1::text[])`,
    [sweepIds],
  );
  const byId = new Map(rows.map((row) => [row.id, row.spec]));
  return sweepIds.map((id) => byId.get(id) ?? null);
}
