import type { Command } from 'commander';
import { openDatabase } from '../../db/client.ts';
import { isDatabaseError } from '../../db/errors.ts';
import { UserError } from '../errors.ts';
import { type SweepStatusRow, sweepStatus } from '../sweeps/status.ts';

/** list: the database only, so it loads no Temporal module and starts fast. */
export function register(program: Command): void {
  program
    .command('list')
    .description('All sweeps with their trial counts')
    .action(async () => {
      const db = await openDatabase().catch((err: unknown) => {
        throw isDatabaseError(err) ? new UserError(err.message) : err;
      });
      try {
        for (const row of await sweepStatus(db)) process.stdout.write(`${formatStatus(row)}\n`);
      } finally {
        await db.close();
      }
    });
}

export function formatStatus(
  row: SweepStatusRow & { workflow?: { running: number; paused: boolean } | undefined },
): string {
  const counts = Object.entries(row.trials)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${status} ${n}`)
    .join(', ');
  const live = row.workflow ? ` | running now ${row.workflow.running}${row.workflow.paused ? ' (paused)' : ''}` : '';
  const reasons = row.failures.map((f) => `\n  ${f.count} failed: ${f.error}`).join('');
  return `${row.name} (${row.id}) ${row.status}: ${row.total} trials — ${counts || 'none'}${live}${reasons}`;
}
