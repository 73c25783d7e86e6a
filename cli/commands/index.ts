import type { Command } from 'commander';

/**
 * Every sub-command lives in its own module under cli/commands/ and exports `register(program)`.
 * Add one import and one call per command, keeping the list alphabetical.
 */
export function registerCommands(program: Command): void {
  void program;
}
