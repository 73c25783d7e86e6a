import type { Cell, CellReport, FactorValue } from '../../db/ablation.ts';

/**
 * A pivot of seed-aggregated cells: one row per value of `rows`, one column per value of `cols`, each entry
 * "mean ± sample std (n)"; cells still missing results show their planned seed count as "— (0/3)".
 */
export function pivotTable(report: CellReport, rows: string, cols: string): string {
  const all = [...report.cells, ...report.missing];
  const rowValues = distinct(all.map((c) => c.key[rows] ?? null));
  const colValues = distinct(all.map((c) => c.key[cols] ?? null));
  const find = (r: FactorValue, c: FactorValue) => all.find((cell) => cell.key[rows] === r && cell.key[cols] === c);
  const header = [rows, ...colValues.map((v) => `${cols} ${String(v)}`)];
  const body = rowValues.map((r) => [String(r), ...colValues.map((c) => formatCell(find(r, c)))]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((line) => (line[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function formatCell(cell: Cell | undefined): string {
  if (!cell) return '';
  if (cell.mean === null) return `— (0/${cell.expectedN})`;
  const spread = cell.stdSample === null ? '' : ` ± ${cell.stdSample.toFixed(1)}`;
  const n = cell.n === cell.expectedN ? `n=${cell.n}` : `n=${cell.n}/${cell.expectedN}`;
  return `${cell.mean.toFixed(1)}${spread} (${n})`;
}

function distinct(values: FactorValue[]): FactorValue[] {
  return [...new Set(values)].sort((a, b) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b)),
  );
}
