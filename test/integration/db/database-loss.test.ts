import { ApplicationFailure } from '@temporalio/activity';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isConnectionLoss, unrecordedEnd } from '../../../activities/database-loss.ts';
import { type Database, openDatabase } from '../../../db/client.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { createScratchPostgres } from './backends.ts';

describeWith(
  'PostgreSQL',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('an attempt whose database connection drops', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  let db: Database;

  beforeAll(async () => {
    scratch = await createScratchPostgres();
    db = await openDatabase({ url: scratch.url, migrations: 'apply' });
  });
  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('is named a lost database connection and retried, not taken for a dead worker', async () => {
    // The server ends the session, as a restart or a proxy's reset does: the error node-postgres really raises.
    const client = await db.pool.connect();
    const dropped = await client.query('SELECT pg_terminate_backend(pg_backend_pid())').catch((e: unknown) => e);
    client.release(true);
    expect(isConnectionLoss(dropped)).toBe(true);
    const end = unrecordedEnd(dropped);
    expect(end.message).toMatch(/^database connection lost during the attempt: terminating connection/);
    expect(end.error).toBeInstanceOf(ApplicationFailure);
    expect(end.error).toMatchObject({ type: 'DatabaseUnavailable', nonRetryable: false, message: end.message });
    // The pool replaces the dropped connection: the attempt's end can be written right after.
    expect((await db.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('leaves other failures as they are', () => {
    const bug = new TypeError('not a connection problem\nsecond line');
    expect(unrecordedEnd(bug)).toEqual({ message: 'not a connection problem', error: bug });
    expect(isConnectionLoss(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isConnectionLoss(new Error('outer', { cause: new Error('Connection terminated unexpectedly') }))).toBe(true);
    expect(isConnectionLoss(new Error('duplicate key value'))).toBe(false);
  });
});
