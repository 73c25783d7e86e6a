import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyMigrations } from '../../../db/migrate.ts';
import { saveCheckpoint } from '../../../db/repositories.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { createScratchPostgres } from './backends.ts';

/**
 * A PostgreSQL restart in the middle of saveCheckpoint's transaction must fail that write, not the process: found by
 * the fault-injection test (test/integration/orchestration/fault-injection.test.ts), where a `dpt-sweep worker` died
 * of an unhandled 'error' event on its checked-out client. Here the server ends that one connection on purpose.
 */
describeWith(
  'PostgreSQL',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('a checkpoint write whose connection is lost', () => {
  let scratch: { url: string; drop(): Promise<void> };
  let pool: pg.Pool;
  let admin: pg.Client;
  beforeAll(async () => {
    scratch = await createScratchPostgres();
    pool = new pg.Pool({ connectionString: scratch.url });
    pool.on('error', () => undefined); // as db/client.ts does for idle connections
    admin = new pg.Client({ connectionString: scratch.url });
    await admin.connect();
    await applyMigrations(pool);
  });
  afterAll(async () => {
    await admin?.end();
    await pool?.end();
    await scratch?.drop();
  });

  it('rejects, and the pool serves the next query', async () => {
    // The admin's lock holds the INSERT inside saveCheckpoint's transaction until its backend is terminated.
    await admin.query('BEGIN');
    await admin.query('LOCK TABLE "Checkpoint" IN ACCESS EXCLUSIVE MODE');
    const write = saveCheckpoint(pool, 't_lost', 1, new Uint8Array([1, 2, 3]));
    const outcome = write.then(
      () => 'saved',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    let terminated = 0;
    for (let tries = 0; terminated === 0 && tries < 200; tries++) {
      const { rows } = await admin.query<{ n: string }>(
        `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`,
      );
      terminated = Number(rows[0]?.n ?? 0);
      if (terminated === 0) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await admin.query('ROLLBACK');
    expect(terminated).toBe(1);
    expect(await outcome).toMatch(/terminat/i);
    expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one).toBe(1);
  });
});
