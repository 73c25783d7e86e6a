import type { Command } from 'commander';
import { type ComputeEstimate, DEFAULT_RATE_IMAGES_PER_SECOND, estimateCompute } from '../../sweep/estimate.ts';
import { formatIssue, SweepFileError, type SweepIssue } from '../../sweep/issues.ts';
import { loadSweepFile } from '../../sweep/load.ts';
import { type PlanSummary, summarizePlan } from '../../sweep/summary.ts';
import { UserError } from '../errors.ts';

interface ValidateOptions {
  force?: boolean;
  json?: boolean;
  rate?: string;
}

/** `dpt-sweep validate <file>`: the expansion and its estimated compute, or every problem with its key path. */
export function register(program: Command): void {
  program
    .command('validate')
    .description('check a sweep file and print its expansion and estimated compute; exit 2 listing every problem')
    .argument('<file>', 'sweep file (YAML)')
    .option('--force', 'allow more than 10,000 trials (up to 1,000,000)')
    .option(
      '--rate <images/s>',
      `images per second of one worker slot for the time estimate (default ${DEFAULT_RATE_IMAGES_PER_SECOND}, a placeholder, not a measurement; use bench/train.ts)`,
    )
    .option('--json', 'print the result as JSON on stdout')
    .action(async (file: string, opts: ValidateOptions) => {
      const rate = parseRate(opts.rate);
      try {
        const { plan } = await loadSweepFile(file, { force: opts.force === true });
        const summary = summarizePlan(plan);
        const estimate = estimateCompute(plan, rate);
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ ok: true, file, summary, estimate, warnings: plan.warnings }, null, 2)}\n`
            : formatPlan(file, summary, estimate, plan.warnings),
        );
      } catch (err) {
        if (!(err instanceof SweepFileError)) throw err;
        reportIssues(file, err.issues, opts.json === true);
        throw new UserError(`${file}: ${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}, see above`);
      }
    });
}

function parseRate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const rate = Number(text);
  if (!Number.isFinite(rate) || rate <= 0)
    throw new UserError(`--rate must be a positive number of images per second, got "${text}"`);
  return rate;
}

function reportIssues(file: string, issues: SweepIssue[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok: false, file, issues }, null, 2)}\n`);
    return;
  }
  process.stderr.write(issues.map((issue) => `${file}: ${formatIssue(issue)}\n`).join(''));
}

function formatPlan(file: string, s: PlanSummary, e: ComputeEstimate, warnings: SweepIssue[]): string {
  const lines: string[] = [];
  const deduped = s.duplicates > 0 ? ` (${s.upperBound} before removing ${s.duplicates} duplicates)` : '';
  lines.push(`sweep    ${s.name} from ${file}`);
  lines.push(`protocol ${s.protocol}: evaluates ${s.evaluates}`);
  lines.push(
    s.mode.startsWith('tpe')
      ? `vary     none: TPE draws the axes of search.space`
      : `vary     ${s.mode}, ${s.variations} variation${s.variations === 1 ? '' : 's'}`,
  );
  if (s.search) lines.push(`search   ${s.search}`);
  if (s.mode.startsWith('tpe')) {
    // Nothing is planned before the search runs: its trials come with its suggestions.
    lines.push(`trials   up to ${s.upperBound}, planned as the search suggests them`);
    for (const w of warnings) lines.push(`warning  ${formatIssue(w)}`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(`trials   ${s.trials}${deduped} = ${s.distinctCells} distinct cells × seeds ${s.seeds.join(', ')}`);
  lines.push('');
  const widths = {
    method: Math.max(6, ...s.rows.map((r) => r.method.length)),
    dataset: Math.max(7, ...s.rows.map((r) => r.dataset.length)),
  };
  const row = (method: string, dataset: string, shots: string, cells: string, trials: string) =>
    `${method.padEnd(widths.method)}  ${dataset.padEnd(widths.dataset)}  ${shots.padStart(5)}  ${cells.padStart(6)}  ${trials.padStart(7)}`;
  lines.push(row('method', 'dataset', 'shots', 'cells', 'trials'));
  for (const r of s.rows) lines.push(row(r.method, r.dataset, String(r.shots), String(r.cells), String(r.trials)));
  lines.push(row('total', '', '', String(s.distinctCells), String(s.trials)));
  lines.push('');
  const rateNote = e.placeholderRate
    ? ` (placeholder rate, not measured: pass --rate <images/s> from bench/train.ts)`
    : '';
  lines.push(
    `compute  ${sci(e.images)} images (${sci(e.trainImages)} training + ${sci(e.evalImages)} evaluation); ` +
      `~${e.hours < 10 ? e.hours.toFixed(2) : Math.round(e.hours).toLocaleString('en-US')} slot-hours at ${e.rate} images/s${rateNote}`,
  );
  for (const w of warnings) lines.push(`warning  ${formatIssue(w)}`);
  return `${lines.join('\n')}\n`;
}

function sci(n: number): string {
  return n < 1e6 ? n.toLocaleString('en-US') : n.toExponential(2);
}
