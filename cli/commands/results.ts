import type { Command } from 'commander';
import { openDatabase } from '../../db/client.ts';
import { isDatabaseError } from '../../db/errors.ts';
import { ResultsError, resultsPivot } from '../../db/results/query.ts';
import { searchReport } from '../../db/results/search.ts';
import { sweepIdOf } from '../../db/results/sweeps.ts';
import { VIEW_NAMES } from '../../db/results/views.ts';
import { UserError } from '../errors.ts';
import { FORMATS, type Format, renderPivot } from '../results/render.ts';
import { renderSearch } from '../results/search-render.ts';

/** Read-only: needs only the database, never Temporal or workers. */
export function register(program: Command): void {
  program
    .command('results')
    .description(
      "Results table of one or more sweeps: mean ± sample std (n) over seeds, per dataset and averaged, in the layout of the sweeps' protocol; a search sweep alone shows its configurations, rungs, best configuration and axis importance (--view or --by for its table of finished trials)",
    )
    .argument('<sweep...>', 'sweep names or ids')
    .option('--view <view>', `a paper layout: ${VIEW_NAMES.join(', ')}`)
    .option('--by <factors>', "row factors, comma-separated (default: the view's, or every factor the sweep varies)")
    .option('--metric <metric>', 'metric to aggregate', 'top1')
    .option('--split <split>', 'evaluation split', 'test')
    .option(
      '--published',
      'beside each cell with a published number for the same method, CLIP backbone, protocol, dataset and shots (published/anchors.yaml), that number, the difference and its source',
    )
    .option('--format <format>', `output format: ${FORMATS.join(', ')}`, 'table')
    .option('--digits <n>', 'decimals shown (table, markdown, latex)', '1')
    .action(
      async (
        sweeps: string[],
        opts: {
          view?: string;
          by?: string;
          metric: string;
          split: string;
          format: string;
          digits: string;
          published?: boolean;
        },
      ) => {
        if (!(FORMATS as readonly string[]).includes(opts.format))
          throw new UserError(`unknown format ${opts.format}; valid formats: ${FORMATS.join(', ')}`);
        const digits = Number(opts.digits);
        if (!Number.isInteger(digits) || digits < 0 || digits > 6)
          throw new UserError(`--digits must be an integer from 0 to 6, got ${opts.digits}`);
        const db = await openDatabase().catch((err: unknown) => {
          throw isDatabaseError(err) ? new UserError(err.message) : err;
        });
        try {
          // One search sweep, no layout asked for: its leaderboard, rungs and importance (db/results/search.ts).
          const search =
            sweeps.length === 1 && !opts.view && !opts.by && (opts.format === 'table' || opts.format === 'json')
              ? await searchReport(db.pool, sweepIdOf(sweeps[0]!))
              : null;
          if (search) {
            process.stdout.write(
              opts.format === 'json' ? `${JSON.stringify(search, null, 2)}\n` : renderSearch(search, digits),
            );
            return;
          }
          // db/ cannot know the CLI's error type: its one-line request errors become UserErrors here.
          const answer = await resultsPivot(db.pool, {
            sweeps,
            view: opts.view,
            by: opts.by?.split(','),
            metric: opts.metric,
            split: opts.split,
            published: opts.published === true,
          }).catch((err: unknown) => {
            throw err instanceof ResultsError ? new UserError(err.message) : err;
          });
          process.stdout.write(
            renderPivot(answer.pivot, opts.format as Format, {
              caption: answer.caption,
              digits,
              notes: answer.notes,
              sources: answer.sources,
            }),
          );
        } finally {
          await db.close();
        }
      },
    );
}
