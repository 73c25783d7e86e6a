import type { Command } from 'commander';
import { register as registerDashboard } from './dashboard.ts';
import { register as registerData } from './data.ts';
import { register as registerDoctor } from './doctor.ts';
import { register as registerEmbed } from './embed.ts';
import { register as registerExport } from './export.ts';
import { register as registerQuickstart } from './quickstart.ts';
import { register as registerResults } from './results.ts';
import { register as registerSetup } from './setup.ts';
import { register as registerSweeps } from './sweeps.ts';
import { register as registerTrain } from './train.ts';
import { register as registerValidate } from './validate.ts';
import { register as registerWorker } from './worker.ts';

/**
 * Every sub-command lives in its own module under cli/commands/ and exports `register(program)`.
 * Add one import and one call per command, keeping the list alphabetical.
 */
export function registerCommands(program: Command): void {
  registerDashboard(program);
  registerData(program);
  registerDoctor(program);
  registerEmbed(program);
  registerExport(program);
  registerQuickstart(program);
  registerResults(program);
  registerSetup(program);
  registerSweeps(program);
  registerTrain(program);
  registerValidate(program);
  registerWorker(program);
}
