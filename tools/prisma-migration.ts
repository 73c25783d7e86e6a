/**
 * Creates a new migration offline: `npx tsx tools/prisma-migration.ts <name> [--from <git-rev>]`.
 *
 * Prisma's `migrate dev` needs the native schema engine, which cannot be downloaded here. This renders the same SQL
 * with Prisma's WASM schema engine: the diff from schema.prisma at <git-rev> (default HEAD, i.e. the last committed
 * schema, which the drift test keeps equal to the migrations) to the working copy, or from an empty database when
 * prisma/migrations has none yet. Review the SQL, then run the drift test.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { listMigrations, MIGRATIONS_DIR } from '../db/migrate.ts';
import { renderDiffSql, SCHEMA_PATH, withScratchDatabase } from '../db/schema-sql.ts';

const args = process.argv.slice(2);
const name = args.find((arg) => !arg.startsWith('--'));
const fromIndex = args.indexOf('--from');
const rev = fromIndex >= 0 ? args[fromIndex + 1] : 'HEAD';
if (name === undefined || !/^[a-z0-9_]+$/.test(name) || rev === undefined) {
  console.error('usage: npx tsx tools/prisma-migration.ts <snake_case_name> [--from <git-rev>]');
  process.exit(2);
}

const current = fs.readFileSync(SCHEMA_PATH, 'utf8');
const previous =
  listMigrations().length === 0
    ? null
    : execFileSync('git', ['show', `${rev}:prisma/schema.prisma`], {
        cwd: path.dirname(MIGRATIONS_DIR),
        encoding: 'utf8',
      });
const sql = await withScratchDatabase((url) => renderDiffSql(previous, current, url));
if (!/^(CREATE|ALTER|DROP)/m.test(sql)) {
  console.log(`schema.prisma has no changes against ${previous === null ? 'an empty database' : rev}; nothing to do`);
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const dir = path.join(MIGRATIONS_DIR, `${stamp}_${name}`);
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'migration.sql'), sql);
console.log(`wrote ${path.relative(process.cwd(), path.join(dir, 'migration.sql'))}`);
