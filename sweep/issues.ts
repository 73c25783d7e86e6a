/**
 * Problems found in a sweep file. Every problem names the key path it is about (`vary.cavpt.length[2]`) and what was
 * expected, so a researcher can fix the file without reading code; all problems of a file are reported at once.
 */
export interface SweepIssue {
  /** Dotted key path with list indices in brackets; `(yaml)` for syntax errors, `(expansion)` for the trial count. */
  path: string;
  /** What was expected and, where there was a value, what was found: `expected an integer >= 0, got "ten"`. */
  message: string;
  /** 1-based position in the YAML source, when known. */
  line?: number;
  column?: number;
}

export class SweepFileError extends Error {
  constructor(
    readonly issues: SweepIssue[],
    readonly source = 'sweep file',
  ) {
    super(
      `${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'}: ${issues.map(formatIssue).join('; ')}`,
    );
    this.name = 'SweepFileError';
  }
}

/** One line per issue: `vary.lr[0]: expected a number > 0, got -1 (line 7, column 9)`. */
export function formatIssue(issue: SweepIssue): string {
  const where = issue.line === undefined ? '' : ` (line ${issue.line}, column ${issue.column ?? 1})`;
  return `${issue.path}: ${oneLine(issue.message)}${where}`;
}

/** `['vary', 'cavpt.length', 2]` → `vary.cavpt.length[2]`; the empty path is the whole file. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(file)' : out;
}

/** A short, quoted rendering of a value found in the file, for `got ...`. */
export function renderValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
