// Decides whether the CLI may run from dist/ (compiled by `npm ci`, see tools/build-dist.ts) instead of through tsx.
// Plain JavaScript: it runs before anything can transpile TypeScript.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The folders compiled into dist/ (tsconfig.build.json's `include`) plus the root module they share. */
// tools/native-tf is compiled too, being imported by `dpt-sweep setup`.
export const SOURCE_DIRS = [
  'workflows',
  'activities',
  'worker',
  'trainer-host',
  'contract',
  'dpt',
  'data',
  'sweep',
  'db',
  'cli',
  'dashboards',
  'tools/native-tf',
];
export const ROOT_SOURCES = ['source-root.ts'];
export const STAMP = 'dist/.build-stamp.json';
export const ENTRY = 'dist/cli/main.js';

/**
 * The compiled entry's path when dist/ is complete and no TypeScript source changed since it was built, else
 * undefined. A source is newer when its mtime passed the build's start, or when files were added or removed (a
 * checkout of an older file gives it a new mtime too), so an edited checkout always runs its edits.
 * @param {string} root the checkout
 * @returns {string | undefined}
 */
export function compiledEntry(root) {
  if (process.env.DPT_NO_DIST) return undefined;
  const stamp = readStamp(join(root, STAMP));
  if (stamp === undefined || !existsSync(join(root, ENTRY))) return undefined;
  const sources = sourceMtimes(root);
  if (sources.length !== stamp.files) return undefined;
  return sources.every((mtime) => mtime <= stamp.builtAt) ? join(root, ENTRY) : undefined;
}

/**
 * The mtimes of every .ts file that dist/ is compiled from.
 * @param {string} root
 * @returns {number[]}
 */
export function sourceMtimes(root) {
  /** @type {number[]} */
  const out = [];
  const walk = (/** @type {string} */ dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) out.push(statSync(path).mtimeMs);
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(root, dir));
  for (const file of ROOT_SOURCES) if (existsSync(join(root, file))) out.push(statSync(join(root, file)).mtimeMs);
  return out;
}

/**
 * @param {string} path
 * @returns {{ builtAt: number, files: number } | undefined}
 */
function readStamp(path) {
  try {
    const stamp = JSON.parse(readFileSync(path, 'utf8'));
    return typeof stamp.builtAt === 'number' && typeof stamp.files === 'number' ? stamp : undefined;
  } catch {
    return undefined;
  }
}
