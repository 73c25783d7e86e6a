import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import YAML from 'yaml';
import { writeTinyDataset } from '../../data/synthetic/shapes-dataset.ts';
import { cellStats } from '../../db/ablation.ts';
import { buildPivot } from '../results/pivot.ts';
import { renderPivot } from '../results/render.ts';
import { launchSweep } from '../sweeps/launch.ts';
import { stateDir } from '../sweeps/stack.ts';
import { followSweep, withStack } from './sweeps.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEMO_SWEEP = path.join(REPO_ROOT, 'examples', 'demo.yaml');

/** The README's main job on embedded defaults: generate the demo data, run the demo sweep, print its table. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('Run the demo sweep (every method, a generated task) on the embedded stack and print its table')
    .action(async () => {
      const dataRoot = path.join(stateDir(), 'demo-data');
      if (!existsSync(path.join(dataRoot, 'eurosat'))) {
        process.stderr.write(`writing the demo dataset to ${dataRoot}\n`);
        await writeTinyDataset({ root: dataRoot, classes: 4, perClass: { train: 8, val: 2, test: 10 }, seed: 1 });
      }
      // The example names its paths relative to the repository; the copy run here names them absolutely.
      const sweep = YAML.parse(await readFile(DEMO_SWEEP, 'utf8')) as { base: { model: string; dataRoot: string } };
      sweep.base.model = path.resolve(REPO_ROOT, sweep.base.model);
      sweep.base.dataRoot = dataRoot;
      const sweepFile = path.join(stateDir(), 'demo.yaml');
      await writeFile(sweepFile, YAML.stringify(sweep));
      await withStack({}, async (stack) => {
        const launched = await launchSweep(stack, sweepFile);
        process.stdout.write(`${launched.name}: ${launched.trials} trials\n`);
        await followSweep(stack, launched.sweepId);
        const report = await cellStats(stack.db.pool, { sweepIds: [launched.sweepId], factors: ['method', 'shots'] });
        const pivot = buildPivot(report, { rowFactors: ['method'], column: 'shots', average: 'none' });
        const caption = "\ntop-1 accuracy (%) on the demo task's test split, one column per shot count";
        process.stdout.write(renderPivot(pivot, 'table', { caption }));
      });
    });
}
