import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { sourcePath } from '../source-root.ts';
import { DatabaseError } from './errors.ts';

/** prisma/migrations of this checkout, independent of the caller's working directory. */
export const MIGRATIONS_DIR = sourcePath('prisma', 'migrations');

export interface Migration {
  name: string;
  sql: string;
  /** sha256 of migration.sql, the same checksum Prisma's migrate engine records. */
  checksum: string;
}

/** The migration folders in apply order (their names start with a timestamp). */
export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

// Same table and columns as Prisma's migrate engine, so `prisma migrate status/deploy` read our history and vice versa.
const HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface AppliedRow {
  migration_name: string;
  checksum: string;
}

/** A pool or one checked-out client (the embedded pool has a single connection, so callers holding it pass it on). */
export type Queryable = pg.Pool | pg.PoolClient | pg.Client;

async function appliedMigrations(client: Queryable): Promise<AppliedRow[] | undefined> {
  const { rows } = await client.query<{ present: boolean }>(
    `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`,
  );
  if (!rows[0]?.present) return undefined;
  const applied = await client.query<AppliedRow>(
    `SELECT migration_name, checksum FROM "_prisma_migrations"
      WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`,
  );
  return applied.rows;
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** Applied migrations whose migration.sql changed since (or that this checkout does not have). */
  modified: string[];
}

export async function migrationStatus(pool: Queryable, migrations = listMigrations()): Promise<MigrationStatus> {
  const applied = (await appliedMigrations(pool)) ?? [];
  const byName = new Map(applied.map((row) => [row.migration_name, row.checksum]));
  const known = new Set(migrations.map((migration) => migration.name));
  return {
    applied: applied.map((row) => row.migration_name),
    pending: migrations.filter((migration) => !byName.has(migration.name)).map((migration) => migration.name),
    modified: [
      ...migrations
        .filter((migration) => byName.has(migration.name) && byName.get(migration.name) !== migration.checksum)
        .map((migration) => migration.name),
      ...applied.filter((row) => !known.has(row.migration_name)).map((row) => row.migration_name),
    ],
  };
}

/**
 * Applies the pending migrations in order, each in its own transaction together with its history row, so a crash
 * leaves every migration either fully applied and recorded or not at all. A session-level advisory lock keeps two
 * processes from migrating at once. Returns the names applied now.
 */
export async function applyMigrations(pool: pg.Pool, migrations = listMigrations()): Promise<string[]> {
  const client = await pool.connect();
  const appliedNow: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock(7164551)');
    await client.query(HISTORY_TABLE);
    const status = await migrationStatus(client, migrations);
    if (status.modified.length > 0) throw modifiedError(status.modified);
    for (const migration of migrations.filter((m) => status.pending.includes(m.name))) {
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), now(), 1)`,
          [randomUUID(), migration.checksum, migration.name],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        const reason = error instanceof Error ? error.message : String(error);
        throw new DatabaseError(
          `migration ${migration.name} failed and was rolled back: ${reason}`,
          'migrations-missing',
          {
            cause: error,
          },
        );
      }
      appliedNow.push(migration.name);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(7164551)').catch(() => undefined);
    client.release();
  }
  return appliedNow;
}

/** Throws a one-line DatabaseError unless every migration of this checkout is applied unchanged. */
export async function assertMigrated(pool: Queryable, where: string, migrations = listMigrations()): Promise<void> {
  const status = await migrationStatus(pool, migrations);
  if (status.modified.length > 0) throw modifiedError(status.modified);
  if (status.pending.length > 0) {
    const what =
      status.applied.length === 0
        ? 'has no dpt-sweep tables'
        : `is missing migration${status.pending.length > 1 ? 's' : ''} ${status.pending.join(', ')}`;
    throw new DatabaseError(`${where} ${what}; run \`npm run db:migrate\``, 'migrations-missing');
  }
}

function modifiedError(names: string[]): DatabaseError {
  return new DatabaseError(
    `applied migration${names.length > 1 ? 's' : ''} ${names.join(', ')} differ${names.length > 1 ? '' : 's'} from prisma/migrations (edited or removed after being applied); restore ${names.length > 1 ? 'them' : 'it'} and add a new migration instead`,
    'migrations-modified',
  );
}
