/**
 * Compiles the CLI, workers and their libraries into dist/ (git-ignored) so `dpt-sweep` starts without transpiling
 * (bin/dpt-sweep.js prefers dist/ while it is fresh). Run by `npm ci`'s postinstall and `npm run build`. Types are
 * not checked here (`npm run typecheck` does that); tsc only strips them and rewrites `.ts` imports to `.js`.
 * A failed build leaves no stamp, so the CLI keeps running through tsx; it never fails the install.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { STAMP, sourceMtimes } from '../bin/compiled.js';
import { SOURCE_ROOT } from '../source-root.ts';

export function buildDist(root = SOURCE_ROOT): boolean {
  const stamp = join(root, STAMP);
  rmSync(stamp, { force: true });
  // Sources edited while tsc runs are newer than this and make the build stale, as they should.
  const builtAt = Date.now();
  let tsc: string;
  try {
    tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  } catch {
    // An install without devDependencies has no compiler; the CLI then runs through tsx.
    process.stderr.write('dpt-sweep: no compiled CLI (typescript is not installed); commands run through tsx\n');
    return false;
  }
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--noCheck'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    const why = (result.stdout || result.stderr || String(result.error ?? '')).trim().split('\n')[0];
    process.stderr.write(`dpt-sweep: no compiled CLI (tsc: ${why}); commands run through tsx, slower to start\n`);
    return false;
  }
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(stamp, `${JSON.stringify({ builtAt, files: sourceMtimes(root).length })}\n`);
  return true;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) buildDist();
