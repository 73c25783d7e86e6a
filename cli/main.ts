import { Command, CommanderError } from 'commander';
import { isDatabaseError } from '../db/errors.ts';
import { registerCommands } from './commands/index.ts';
import { UserError } from './errors.ts';

const program = new Command()
  .name('dpt-sweep')
  .description('Hyperparameter sweeps for Dual Modality Prompt Tuning (DPT / CAVPT) on CLIP')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

await registerCommands(program, process.argv.slice(2));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err);
}
// A finished command has closed what it opened; gRPC channels and timers of libraries must not keep it alive.
process.exit();

/** One line on stderr with the cause, never a stack dump for errors users can act on. */
function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  // The database's errors are one line naming the cause (db/errors.ts), wherever a command let one through.
  if (err instanceof UserError || isDatabaseError(err)) {
    process.stderr.write(`dpt-sweep: ${err.message}\n`);
    return err instanceof UserError ? err.exitCode : 2;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`dpt-sweep: unexpected error: ${message}\n`);
  if (process.env.DPT_DEBUG) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
  return 1;
}
