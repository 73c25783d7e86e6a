import path from 'node:path';
import type { Command } from 'commander';
import { openDatabase } from '../../db/client.ts';
import { isDatabaseError } from '../../db/errors.ts';
import { resolveSweeps, UnknownSweepError } from '../../db/results/sweeps.ts';
import { UserError } from '../errors.ts';
import { EXPORT_FORMATS, type ExportFormat, exportSweep } from '../results/export.ts';

/** Read-only: every trial, result, epoch and validation row of a sweep, for analysis elsewhere. */
export function register(program: Command): void {
  program
    .command('export')
    .description(
      'Write every trial, result, epoch and validation row of a sweep: csv gives FILE.trials.csv, FILE.results.csv, FILE.epochs.csv, FILE.validations.csv (a search\'s validation split results); jsonl one file with a "type" per line',
    )
    .argument('<sweep>', 'sweep name or id')
    .requiredOption('--out <file>', 'output file (stem for csv)')
    .option('--format <format>', `${EXPORT_FORMATS.join(' or ')}`, 'csv')
    .action(async (sweep: string, opts: { out: string; format: string }) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(opts.format))
        throw new UserError(`unknown format ${opts.format}; valid formats: ${EXPORT_FORMATS.join(', ')}`);
      const db = await openDatabase().catch((err: unknown) => {
        throw isDatabaseError(err) ? new UserError(err.message) : err;
      });
      try {
        const [resolved] = await resolveSweeps(db.pool, [sweep]).catch((err: unknown) => {
          throw err instanceof UnknownSweepError ? new UserError(err.message) : err;
        });
        const summary = await exportSweep(db.pool, {
          sweepId: (resolved as { id: string }).id,
          format: opts.format as ExportFormat,
          out: path.resolve(opts.out),
        }).catch((err: unknown) => {
          const code = (err as NodeJS.ErrnoException).code;
          throw code === 'ENOENT' || code === 'EACCES' ? new UserError(`cannot write ${opts.out}: ${code}`) : err;
        });
        const { trials, results, epochs, validations } = summary.counts;
        process.stdout.write(
          `${trials} trials, ${results} results, ${epochs} epoch rows${validations > 0 ? `, ${validations} validation rows` : ''} → ${summary.files.join(', ')}\n`,
        );
      } finally {
        await db.close();
      }
    });
}
