import type { Factor, FactorValue } from '../../db/ablation.ts';
import {
  type AverageEntry,
  type Pivot,
  type PivotEntry,
  type PublishedMark,
  type PublishedSourceJson,
  pivotJson,
  showValue,
} from '../../db/results/pivot.ts';

export const FORMATS = ['table', 'csv', 'json', 'markdown', 'latex'] as const;
export type Format = (typeof FORMATS)[number];

export interface RenderContext {
  /** One line saying what the numbers are, e.g. "top-1 accuracy (%) on the test split". */
  caption: string;
  digits?: number;
  /** lines under the table: its seeds and their warnings, the layout's own notes */
  notes?: string[];
  /** sources of the published numbers the entries carry */
  sources?: PublishedSourceJson[];
}

/**
 * Renders a pivot. Entries read "mean ± std (n)" with the sample std over seeds; n shows as "n/planned" when some
 * seeds have no result yet, and a cell without any result reads "— (0/planned)".
 */
export function renderPivot(pivot: Pivot, format: Format, context: RenderContext): string {
  switch (format) {
    case 'table':
      return renderTable(pivot, context);
    case 'csv':
      return renderCsv(pivot);
    case 'json':
      return `${JSON.stringify(pivotJson(pivot, context.caption, context), null, 2)}\n`;
    case 'markdown':
      return renderMarkdown(pivot, context);
    case 'latex':
      return renderLatex(pivot, context);
  }
}

export const STD_NOTE = 'mean ± sample std over seeds (n seeds with a result, /planned when incomplete)';

interface Parts {
  mean: string;
  std: string | null;
  count: string;
  /** "pub 82.69 [1], Δ -2.6" when a published number matches */
  published: string | null;
}

/** The published number as printed (two decimals, as papers print them) and our difference at the table's digits. */
function publishedText(mark: PublishedMark | undefined, digits: number): string | null {
  if (!mark) return null;
  const diff = mark.diff === null ? '' : `, Δ ${mark.diff >= 0 ? '+' : ''}${mark.diff.toFixed(digits)}`;
  return `pub ${mark.value.toFixed(2)} [${mark.ref}]${diff}`;
}

function entryParts(entry: PivotEntry, digits: number): Parts {
  const count = entry.n === entry.expectedN ? `${entry.n}` : `${entry.n}/${entry.expectedN}`;
  const published = publishedText(entry.published, digits);
  if (entry.mean === null) return { mean: '—', std: null, count, published };
  return {
    mean: entry.mean.toFixed(digits),
    std: entry.std === null ? null : entry.std.toFixed(digits),
    count,
    published,
  };
}

function averageParts(entry: AverageEntry, digits: number): Parts {
  const count = entry.n === entry.expectedN ? '' : `${entry.n}/${entry.expectedN}`;
  return {
    mean: entry.mean === null ? '—' : entry.mean.toFixed(digits),
    std: null,
    count,
    published: publishedText(entry.published, digits),
  };
}

function plain(parts: Parts): string {
  const spread = parts.std === null ? '' : ` ± ${parts.std}`;
  const published = parts.published === null ? '' : ` (${parts.published})`;
  return `${parts.mean}${spread}${parts.count === '' ? '' : ` (${parts.count})`}${published}`;
}

/** The notes, then one line per published source. */
function footer(context: RenderContext): string[] {
  return [
    ...(context.notes ?? []),
    ...(context.sources ?? []).map(
      (source) =>
        `[${source.ref}] ${source.source}${source.epochs === null ? '' : `; ${source.epochs} epochs`} (${source.url})`,
    ),
  ];
}

/** Header and body cells as plain text, best entries passed to `mark`. */
function textGrid(
  pivot: Pivot,
  digits: number,
  mark: (text: string, best: boolean) => string,
  label: (value: FactorValue) => string,
) {
  const header = [
    ...(pivot.rowFactors.length > 0 ? pivot.rowFactors : ['']),
    ...pivot.columns.map((value) => columnLabel(pivot, value)),
    ...(pivot.averageLabel === null ? [] : [pivot.averageLabel]),
  ];
  const body = pivot.rows.map((row) => [
    ...(pivot.rowFactors.length > 0 ? row.key.map((value) => label(value)) : ['all']),
    ...row.entries.map((entry) => (entry ? mark(plain(entryParts(entry, digits)), entry.best) : '')),
    ...(pivot.averageLabel === null
      ? []
      : [row.average ? mark(plain(averageParts(row.average, digits)), row.average.best) : '']),
  ]);
  return { header, body };
}

function renderTable(pivot: Pivot, context: RenderContext): string {
  const { header, body } = textGrid(pivot, context.digits ?? 1, (text, best) => (best ? `${text} *` : text), show);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((line) => (line[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i < Math.max(1, pivot.rowFactors.length) ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [
    `${context.caption}; ${STD_NOTE}; * best per column`,
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
    // A blank line ends the table, so that the notes under it are not read as rows.
    ...(footer(context).length > 0 ? ['', ...footer(context)] : []),
    '',
  ].join('\n');
}

const show = showValue;

/** Dataset and class-subset columns are named by the value alone; other column factors read "shots 4". */
function columnLabel(pivot: Pivot, value: FactorValue): string {
  return BARE_COLUMNS.includes(pivot.column) ? show(value) : `${pivot.column} ${show(value)}`;
}

const BARE_COLUMNS: readonly Factor[] = ['dataset', 'evalDataset', 'classSubset'];

function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: Array<string | number | boolean | null>): string {
  return `${values.map(csvField).join(',')}\n`;
}

/** Wide CSV at full precision: per column `<value>.mean`, `.std`, `.n`, `.planned`, `.best` (1 or 0). */
function renderCsv(pivot: Pivot): string {
  // Published columns only when some entry has a published number (results --published).
  const published = pivot.rows.some((row) => row.entries.some((entry) => entry?.published) || row.average?.published);
  const extra = published ? ['published', 'diff'] : [];
  const marks = (mark: PublishedMark | undefined) => (published ? [mark?.value ?? null, mark?.diff ?? null] : []);
  const header: string[] = [...pivot.rowFactors];
  for (const value of pivot.columns)
    header.push(...['mean', 'std', 'n', 'planned', 'best', ...extra].map((s) => `${columnLabel(pivot, value)}.${s}`));
  if (pivot.averageLabel !== null)
    header.push(...['mean', 'n', 'planned', 'best', ...extra].map((s) => `${pivot.averageLabel}.${s}`));
  const lines = [csvLine(header)];
  for (const row of pivot.rows) {
    const values: Array<string | number | null> = [...row.key];
    for (const entry of row.entries) {
      values.push(
        ...(entry ? [entry.mean, entry.std, entry.n, entry.expectedN, entry.best ? 1 : 0] : [null, null, 0, 0, 0]),
        ...marks(entry?.published),
      );
    }
    if (pivot.averageLabel !== null) {
      const avg = row.average;
      values.push(
        ...(avg ? [avg.mean, avg.n, avg.expectedN, avg.best ? 1 : 0] : [null, 0, 0, 0]),
        ...marks(avg?.published),
      );
    }
    lines.push(csvLine(values));
  }
  return lines.join('');
}

function renderMarkdown(pivot: Pivot, context: RenderContext): string {
  const escapePipes = (text: string) => text.replaceAll('|', '\\|');
  const { header, body } = textGrid(pivot, context.digits ?? 1, (text, best) => (best ? `**${text}**` : text), show);
  const row = (cells: string[]) => `| ${cells.map(escapePipes).join(' | ')} |`;
  const keys = Math.max(1, pivot.rowFactors.length);
  const rule = `|${header.map((_, i) => (i < keys ? ' --- ' : ' ---: ')).join('|')}|`;
  return [
    `${context.caption}; ${STD_NOTE}; best per column in bold.`,
    '',
    row(header),
    rule,
    ...body.map(row),
    ...(footer(context).length > 0 ? ['', ...footer(context).map((text) => `${text}  `)] : []),
    '',
  ].join('\n');
}

const LATEX_SPECIALS: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
  '±': '$\\pm$',
  '—': '---',
  '×': '$\\times$',
  α: '$\\alpha$',
  β: '$\\beta$',
  Δ: '$\\Delta$',
};

export function latexEscape(text: string): string {
  return text.replace(/[\\&%$#_{}~^±—×αβΔ]/g, (c) => LATEX_SPECIALS[c] ?? c);
}

/** A booktabs table environment for \input in a paper (needs \usepackage{booktabs}). */
function renderLatex(pivot: Pivot, context: RenderContext): string {
  const digits = context.digits ?? 1;
  const latexEntry = (parts: Parts, best: boolean) => {
    const body = parts.std === null ? latexEscape(parts.mean) : `${parts.mean} $\\pm$ ${parts.std}`;
    const shown = best ? `\\textbf{${body}}` : body;
    const counted = parts.count === '' ? shown : `${shown} {\\scriptsize (${parts.count})}`;
    return parts.published === null ? counted : `${counted} {\\scriptsize (${latexEscape(parts.published)})}`;
  };
  const keys = Math.max(1, pivot.rowFactors.length);
  const header = [
    ...(pivot.rowFactors.length > 0 ? pivot.rowFactors : ['']),
    ...pivot.columns.map((value) => columnLabel(pivot, value)),
    ...(pivot.averageLabel === null ? [] : [pivot.averageLabel]),
  ].map(latexEscape);
  const body = pivot.rows.map((row) => [
    ...(pivot.rowFactors.length > 0 ? row.key.map((value) => latexEscape(show(value))) : ['all']),
    ...row.entries.map((entry) => (entry ? latexEntry(entryParts(entry, digits), entry.best) : '')),
    ...(pivot.averageLabel === null
      ? []
      : [row.average ? latexEntry(averageParts(row.average, digits), row.average.best) : '']),
  ]);
  const spec = `${'l'.repeat(keys)}${'c'.repeat(header.length - keys)}`;
  return [
    '% dpt-sweep results; needs \\usepackage{booktabs}',
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{${latexEscape(`${context.caption}; ${STD_NOTE}; best per column in bold.`)}}`,
    `\\begin{tabular}{${spec}}`,
    '\\toprule',
    `${header.join(' & ')} \\\\`,
    '\\midrule',
    ...body.map((cells) => `${cells.join(' & ')} \\\\`),
    '\\bottomrule',
    '\\end{tabular}',
    ...footer(context).map((text) => `\\par\\footnotesize ${latexEscape(text)}`),
    '\\end{table}',
    '',
  ].join('\n');
}
