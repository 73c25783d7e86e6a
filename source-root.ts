import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout's root directory, also when the code runs compiled from `dist/` (this file is then
 * `dist/source-root.js`). What is not compiled stays in the checkout and is found from here: migrations, the Prisma
 * schema, the dashboard's static files, and the `.ts` sources that the code version hashes, that the worker bundles
 * (workflows) and that child processes run through tsx — so a compiled CLI and a tsx one compute the same code
 * version and start the same trainers.
 */
export const SOURCE_ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.js') ? '..' : '.', import.meta.url));

/** A path inside the checkout, e.g. `sourcePath('prisma', 'migrations')`. */
export function sourcePath(...segments: string[]): string {
  return join(SOURCE_ROOT, ...segments);
}
