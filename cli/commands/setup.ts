import type { Command } from 'commander';
import { installNative } from '../../tools/native-tf/install.ts';
import { UserError } from '../errors.ts';

export function register(program: Command): void {
  program
    .command('setup')
    .description('Build (or relink) the native TensorFlow backend: cpu, or gpu (CUDA 12; adds 3.4 GB of downloads)')
    .argument('<flavour>', 'cpu | gpu')
    .option('--force', 'rebuild even when the cache holds a build')
    .addHelpText(
      'after',
      '\nnpm ci builds the cpu flavour by itself; `DPT_TF_BUILD=gpu npm ci` does the same as `setup gpu`.\n' +
        'Builds are cached in ~/.cache/dpt-sweep/native-tf (DPT_NATIVE_DIR) and relinked by every later npm ci.',
    )
    .action((flavour: string, options: { force?: boolean }) => {
      if (flavour !== 'cpu' && flavour !== 'gpu') throw new UserError(`setup takes cpu or gpu, not "${flavour}"`);
      const outcomes = installNative({ build: [flavour], force: options.force === true });
      const mine = outcomes.find((o) => o.flavour === flavour);
      for (const o of outcomes) if (o !== mine) process.stderr.write(`dpt-sweep: ${o.line}\n`);
      if (!mine?.ok) throw new UserError(mine?.line ?? `native TensorFlow (${flavour}) was not built`);
      process.stdout.write(`${mine.line}\n`);
    });
}
