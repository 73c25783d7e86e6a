import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { catalogSnapshot } from '../../../db/catalog.ts';
import { openDatabase } from '../../../db/client.ts';
import { embeddedPaths, embeddedUrl } from '../../../db/embedded.ts';
import { isDatabaseError } from '../../../db/errors.ts';
import { applyMigrations, listMigrations } from '../../../db/migrate.ts';
import { renderSchemaSql, SCHEMA_PATH } from '../../../db/schema-sql.ts';
import { describeWith } from '../../support/env.ts';
import { BACKENDS, type TestDatabase } from './backends.ts';

const run = promisify(execFile);

for (const backend of BACKENDS) {
  describeWith(
    `database (${backend.name})`,
    backend.available,
    backend.reason,
  )(`migrations on ${backend.name}`, () => {
    let empty: TestDatabase;
    let fromSchema: TestDatabase;
    let connectionUrl: string;
    beforeAll(async () => {
      empty = await backend.create({ migrations: 'skip' });
      fromSchema = await backend.create({ migrations: 'skip' });
      connectionUrl = empty.env.DATABASE_URL ?? embeddedUrl(embeddedPaths(empty.env).port);
    });
    afterAll(async () => {
      await empty?.dispose();
      await fromSchema?.dispose();
    });

    it('opening an unmigrated database for use fails with one line that says what to run', async () => {
      const error = await openDatabase({ url: empty.env.DATABASE_URL, env: empty.env, migrations: 'require' }).catch(
        (e: unknown) => e,
      );
      expect(isDatabaseError(error) && error.code).toBe('migrations-missing');
      expect((error as Error).message).toMatch(/has no dpt-sweep tables; run `npm run db:migrate`$/);
      expect((error as Error).message).not.toContain('\n');
    });

    it('`npm run db:migrate` applies every migration to an empty database, then has nothing left to do', async () => {
      const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: '', DPT_HOME: '', ...empty.env };
      if (backend.name === 'pglite') {
        // The test process serves this data directory; the CLI connects to it as a second process would.
        delete env.DATABASE_URL;
      }
      const first = await run('npm', ['run', '--silent', 'db:migrate'], { env });
      expect(first.stdout).toMatch(/applied 20\d+_init/);
      const second = await run('npm', ['run', '--silent', 'db:migrate'], { env });
      expect(second.stdout).toMatch(/all \d+ migrations already applied/);
      const { rows } = await empty.db.pool.query(
        `SELECT migration_name, checksum FROM "_prisma_migrations" ORDER BY migration_name`,
      );
      expect(rows).toEqual(listMigrations().map((m) => ({ migration_name: m.name, checksum: m.checksum })));
    });

    it('drift check: the migrations build the same database as schema.prisma', async () => {
      const schemaSql = await renderSchemaSql(fs.readFileSync(SCHEMA_PATH, 'utf8'), connectionUrl);
      await fromSchema.db.pool.query(schemaSql);
      const migrated = await catalogSnapshot(empty.db.pool);
      const expected = await catalogSnapshot(fromSchema.db.pool);
      expect(migrated.columns.length).toBeGreaterThan(40);
      // On failure: schema.prisma changed without a migration. Create one with `npx tsx tools/prisma-migration.ts <name>`.
      expect(migrated).toEqual(expected);
    });

    it('drift check detects a schema edit that has no migration', async () => {
      const edited = fs
        .readFileSync(SCHEMA_PATH, 'utf8')
        .replace(/(model EpochMetric \{\n)/, '$1  gradNorm Float?\n')
        .replace(/@@index\(\[sweepId, status\]\)/, '@@index([sweepId, status, dataset])');
      const scratch = await backend.create({ migrations: 'skip' });
      try {
        await scratch.db.pool.query(await renderSchemaSql(edited, connectionUrl));
        const drifted = await catalogSnapshot(scratch.db.pool);
        const migrated = await catalogSnapshot(empty.db.pool);
        expect(drifted).not.toEqual(migrated);
        expect(drifted.columns.filter((line) => !migrated.columns.includes(line))).toEqual([
          'EpochMetric.gradNorm double precision',
        ]);
        expect(drifted.indexes.filter((line) => !migrated.indexes.includes(line))).toHaveLength(1);
      } finally {
        await scratch.dispose();
      }
    });

    it('refuses to run when an applied migration was edited afterwards', async () => {
      const [first] = listMigrations();
      const edited = [{ ...(first as NonNullable<typeof first>), checksum: 'f'.repeat(64) }];
      const error = await applyMigrations(empty.db.pool, edited).catch((e: unknown) => e);
      expect(isDatabaseError(error) && error.code).toBe('migrations-modified');
    });
  });
}
