import { afterAll, beforeAll, expect, it } from 'vitest';
import { sharedReads } from '../../../db/shared-reads.ts';
import { describeWith } from '../../support/env.ts';
import { BACKENDS, type TestDatabase } from './backends.ts';

// A sequence tells whether a statement ran: every run takes the next value.
for (const backend of BACKENDS) {
  describeWith(
    `database (${backend.name})`,
    backend.available,
    backend.reason,
  )(`shared reads on ${backend.name}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await backend.create({ migrations: 'skip' });
      await t.db.pool.query('CREATE SEQUENCE shared_reads_probe');
    });
    afterAll(async () => {
      await t?.dispose();
    });

    it('runs a repeated statement once, side by side or later, and keeps different parameters apart', async () => {
      const reads = sharedReads(t.db.pool);
      const next = (tag: string) =>
        reads.query<{ n: string }>(`SELECT nextval('shared_reads_probe') AS n, $1::text AS tag`, [tag]);
      const [a, b] = await Promise.all([next('x'), next('x')]);
      const c = await next('x');
      const d = await next('y');
      expect(b.rows[0]?.n).toBe(a.rows[0]?.n);
      expect(c.rows[0]?.n).toBe(a.rows[0]?.n);
      expect(d.rows[0]?.n).not.toBe(a.rows[0]?.n);
      // The pool itself is untouched: each call runs.
      const direct = await t.db.pool.query<{ n: string }>(`SELECT nextval('shared_reads_probe') AS n, 'x' AS tag`);
      expect(Number(direct.rows[0]?.n)).toBeGreaterThan(Number(d.rows[0]?.n));
    });

    it('forgets a statement that failed, so that a retry runs it again', async () => {
      const reads = sharedReads(t.db.pool);
      await t.db.pool.query('CREATE TABLE shared_reads_later (n int)');
      await t.db.pool.query('DROP TABLE shared_reads_later');
      await expect(reads.query('SELECT count(*)::int AS n FROM shared_reads_later')).rejects.toThrow(/does not exist/);
      await t.db.pool.query('CREATE TABLE shared_reads_later (n int)');
      const retried = await reads.query<{ n: number }>('SELECT count(*)::int AS n FROM shared_reads_later');
      expect(retried.rows[0]?.n).toBe(0);
    });
  });
}
