import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SOURCE_ROOT } from '../source-root.ts';

// The checkout, not dist/: a compiled CLI must hash the same .ts files as a worker run through tsx.
const ROOT = SOURCE_ROOT;
/** The code a trial's result depends on: the method and the data pipeline. */
const RESULT_CODE = ['dpt', 'data'];

let cached: string | undefined;

/**
 * Code version that enters every trial's identity: the package version plus a hash of the trainer's and data
 * pipeline's sources. Changing the method makes old results non-reusable; changing the CLI or dashboards does not.
 * It lives in worker/ because both sides need the same answer: the CLI stamps it on the trials it plans, and a GPU
 * worker refuses trials planned with another one (activities/train-trial.ts), so a result never carries a version
 * that did not produce it.
 */
export function codeVersion(): string {
  if (cached) return cached;
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const hash = createHash('sha256');
  for (const file of RESULT_CODE.flatMap((dir) => sourceFiles(join(ROOT, dir))).sort()) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  cached = `${version}+${hash.digest('hex').slice(0, 12)}`;
  return cached;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}
