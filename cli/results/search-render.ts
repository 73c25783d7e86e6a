import type { ConfigurationRow, SearchReport, Stat } from '../../db/results/search.ts';

/**
 * A search report (db/results/search.ts) as text: `status` prints its summary, `results` the whole leaderboard with
 * the importance of each axis. Accuracy is mean ± sample std over seeds (n seeds).
 */

export function stat(s: Stat | null, digits = 1): string {
  if (!s) return '—';
  return `${s.mean.toFixed(digits)}${s.std === null ? '' : ` ± ${s.std.toFixed(digits)}`} (${s.n})`;
}

export function paramsText(params: Record<string, unknown>): string {
  const parts = Object.entries(params).map(([key, value]) => `${key}=${formatValue(value)}`);
  return parts.length > 0 ? parts.join(' ') : '(base)';
}

function formatValue(value: unknown): string {
  return typeof value === 'number' && !Number.isInteger(value) ? String(Number(value.toPrecision(4))) : String(value);
}

function saved({ trained, full }: SearchReport['epochs']): string {
  if (full <= 0 || trained >= full) return `epochs trained: ${trained}`;
  return `epochs trained: ${trained} of the ${full} that training every configuration in full takes (${Math.round((100 * (full - trained)) / full)}% saved)`;
}

function progress(report: SearchReport): string {
  if (report.kind === 'tpe')
    return `suggestions: ${report.suggestions?.made ?? 0} of ${report.suggestions?.budget ?? 0}`;
  return `rungs: ${report.rungs
    .map((r) => {
      const at = `${r.epochs} epoch${r.epochs === 1 ? '' : 's'}`;
      if (!r.decided) return `${at}: ${r.candidates} under way`;
      const last = r.rung === report.rungs.length - 1;
      return `${at}: ${r.candidates} → ${last ? 'finished' : `${r.promoted} promoted`}`;
    })
    .join(' · ')}`;
}

function bestLine(best: ConfigurationRow | null, digits: number): string {
  if (!best) return 'best so far: none yet';
  return `best so far: #${best.candidate} ${paramsText(best.params)}: val ${stat(best.val, digits)}, test ${stat(best.test, digits)} after ${best.epochs} epochs`;
}

/** A few lines for `status`: the search, its progress, the saving and the best configuration. */
export function searchSummary(report: SearchReport, digits = 1): string {
  return [
    `  search: ${report.kind} on ${report.metric} (${report.settings})`,
    `  ${progress(report)}`,
    `  ${saved(report.epochs)}`,
    `  ${bestLine(report.best, digits)}`,
  ].join('\n');
}

/** The whole report for `results`: the summary, every configuration (furthest and best first), the importance view. */
export function renderSearch(report: SearchReport, digits = 1): string {
  const axes = [...new Set(report.configurations.flatMap((c) => Object.keys(c.params)))];
  const header = ['#', ...axes, 'epochs', 'state', `val ${report.metric}`, 'test top1'];
  const rows = [...report.configurations]
    .sort(
      (a, b) =>
        b.epochs - a.epochs ||
        (b.objective ?? Number.NEGATIVE_INFINITY) - (a.objective ?? Number.NEGATIVE_INFINITY) ||
        a.candidate - b.candidate,
    )
    .map((c) => [
      String(c.candidate),
      ...axes.map((key) => (key in c.params ? formatValue(c.params[key]) : '')),
      String(c.epochs),
      c.state,
      stat(c.val, digits),
      stat(c.test, digits),
    ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const importance = report.importance.axes.map(
    (a) =>
      `  ${a.key.padEnd(Math.max(...report.importance.axes.map((x) => x.key.length)))}  ${a.share.toFixed(2)}  ${'█'.repeat(Math.round(a.share * 20))}`,
  );
  return `${[
    `search: ${report.kind} on ${report.metric} (${report.settings})`,
    progress(report),
    saved(report.epochs),
    '',
    line(header),
    ...rows.map(line),
    '',
    bestLine(report.best, digits),
    '',
    `importance of each axis, at ${report.importance.basis}: ${report.importance.method}`,
    ...(importance.length > 0 ? importance : ['  (not enough configurations with a result yet)']),
    '',
    'val: the few-shot validation split the search ranks by; test: finished trials only (a stopped one never reads it).',
    'mean ± sample std over seeds (n); each seed averaged over the datasets and shots first.',
  ].join('\n')}\n`;
}
