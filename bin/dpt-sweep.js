#!/usr/bin/env node
// Runs the CLI compiled into dist/ by `npm ci` when no TypeScript source is newer than that build (starting in a
// fraction of a second); otherwise the sources themselves through tsx, so a fresh clone needs no build step and an
// edited .ts file takes effect on the next run. DPT_NO_DIST=1 always takes the tsx path.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compiledEntry } from './compiled.js';

const compiled = compiledEntry(fileURLToPath(new URL('..', import.meta.url)));
if (compiled !== undefined) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
