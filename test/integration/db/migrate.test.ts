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
import { TRIAL_FACTOR_NAMES } from '../../../sweep/factors.ts';
import { planSweepText } from '../../../sweep/plan.ts';
import { describeWith } from '../../support/env.ts';
import { BACKENDS, type TestDatabase } from './backends.ts';

const run = promisify(execFile);

/** Every method, with settings away from the defaults, so that each filled factor is checked against a real value. */
const OLD_SWEEP = `
name: old
base:
  method: dpt
  preset: none
  model: ./models/clip-vit-base-patch32
  dataRoot: ./data
  epochs: 7
  warmupEpochs: 2
  lrWarmupEpochs: 1
  lr: 0.02
  lrText: 0.004
  batchSize: 8
  cavpt.ctxTokens: 6
  vpt.length: 3
  text.nCtx: 5
  cavpt.length: 4
datasets: [eurosat]
shots: [2]
seeds: [1, 2]
vary:
  mode: grid
  method: [zeroshot, coop, vpt, vlp, dpt]
`;

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
      connectionUrl = empty.env.DATABASE_URL ?? embeddedUrl(embeddedPaths(empty.env));
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

    it('upgrading a database of the first schema with data in it fills every new factor and each test top-1', async () => {
      const old = await backend.create({ migrations: 'skip' });
      try {
        const [init] = listMigrations();
        await applyMigrations(old.db.pool, [init as NonNullable<typeof init>]);
        // Rows as the first schema's launch wrote them: no lrText, 0 for a zero-shot trial's lr and epochs, and one
        // start counted for a trial that crashed and was retried twice.
        const plan = planSweepText(OLD_SWEEP, 'old.yaml');
        await old.db.pool.query(
          `INSERT INTO "Sweep" (id, name, spec, "specHash", "maxParallel", "codeVersion", "updatedAt")
           VALUES ('s_old', 'old', '{}', 'h', 1, 'v', now())`,
        );
        for (const [i, { config, factors }] of plan.trials.entries()) {
          await old.db.pool.query(
            `INSERT INTO "Trial" (id, "sweepId", "configKey", method, dataset, backbone, shots, seed, lr, "cavptMode",
                                  "cavptLayers", "cavptLength", "kN", alpha, beta, epochs, "evalDatasets", config,
                                  status, attempts, "updatedAt")
             VALUES ($1, 's_old', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     'succeeded', 1, now())`,
            [
              `t${i}`,
              `${i}`.padStart(64, '0'),
              factors.method,
              factors.dataset,
              factors.backbone,
              factors.shots,
              factors.seed,
              factors.lr ?? 0,
              factors.cavptMode,
              factors.cavptLayers,
              factors.cavptLength,
              factors.kN,
              factors.alpha,
              factors.beta,
              factors.epochs ?? 0,
              [config.dataset],
              JSON.stringify(config),
            ],
          );
          await old.db.pool.query(
            `INSERT INTO "TrialResult" ("trialId", "evalDataset", split, top1, correct, total, "updatedAt")
             VALUES ($1, $2, 'test', $3, $4, 100, now())`,
            [`t${i}`, config.dataset, 40 + i, 40 + i],
          );
        }
        for (const attempt of [1, 2, 3]) {
          await old.db.pool.query(
            `INSERT INTO "TrialAttempt" ("trialId", attempt, "startedAt", outcome) VALUES ('t0', $1, now(), $2)`,
            [attempt, attempt === 3 ? 'succeeded' : 'timed_out'],
          );
        }

        expect(await applyMigrations(old.db.pool)).toEqual(
          listMigrations()
            .slice(1)
            .map((m) => m.name),
        );
        const { rows } = await old.db.pool.query<Record<string, unknown>>(
          `SELECT t.*, r.correct FROM "Trial" t JOIN "TrialResult" r ON r."trialId" = t.id ORDER BY t.id`,
        );
        expect(rows).toHaveLength(plan.trials.length);
        const expected = plan.trials.map(({ factors }) => factors);
        const stored = rows.map((row) => Object.fromEntries([...TRIAL_FACTOR_NAMES, 'seed'].map((n) => [n, row[n]])));
        expect(stored).toEqual(rows.map((row) => expected[Number(String(row.id).slice(1))]));
        // Nothing lost: the results are still there, and the attempt count is the attempt rows'.
        expect(rows.map((row) => row.correct)).toEqual(rows.map((row) => 40 + Number((row.id as string).slice(1))));
        expect(rows.find((row) => row.id === 't0')?.attempts).toBe(3);
        // Each trial's own test-split top-1 is copied onto it.
        expect(rows.map((row) => row.testTop1)).toEqual(rows.map((row) => 40 + Number((row.id as string).slice(1))));
        const methods = new Set(rows.map((row) => row.method));
        expect([...methods].sort()).toEqual(['coop', 'dpt', 'vlp', 'vpt', 'zeroshot']);
      } finally {
        await old.dispose();
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
