/**
 * `npm run db:generate`: generates the Prisma client into db/generated/prisma (git-ignored) without network access.
 *
 * Prisma Client 7 with a driver adapter needs no query engine, but the CLI still resolves a native schema engine
 * before generating and tries to download it when absent. Generation never runs that engine, so the CLI is pointed
 * at a stand-in path instead (any existing file passes its check). Migrations do not use the CLI at all: see db/migrate.ts.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');

const result = spawnSync(process.execPath, [cli, 'generate', '--schema', path.join(root, 'prisma', 'schema.prisma')], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    CHECKPOINT_DISABLE: '1',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  },
});
process.exit(result.status ?? 1);
