import { expect, it } from 'vitest';
import { openDatabase } from '../../../db/client.ts';
import { describeWith } from '../../support/env.ts';

const base = process.env.DATABASE_URL;

function withParams(params: Record<string, string>): string {
  const url = new URL(base ?? '');
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

/** What the server says about this very connection: TLS or not. */
async function sslOf(url: string): Promise<boolean | Error> {
  try {
    const db = await openDatabase({ url, migrations: 'skip' });
    try {
      const { rows } = await db.pool.query<{ ssl: boolean }>(
        'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      return rows[0]?.ssl ?? false;
    } finally {
      await db.close();
    }
  } catch (error) {
    return error as Error;
  }
}

// pg reads sslmode (and sslrootcert, sslcert, sslkey) from the connection string; db/client.ts must not override it.
describeWith(
  'PostgreSQL',
  base !== undefined,
  'DATABASE_URL is not set',
)('DATABASE_URL sslmode', () => {
  it('sslmode=disable connects in plaintext', async () => {
    expect(await sslOf(withParams({ sslmode: 'disable' }))).toBe(false);
  });

  it('sslmode=require insists on TLS: encrypted, or refused in one line by a server without it', async () => {
    const result = await sslOf(withParams({ sslmode: 'require', uselibpqcompat: 'true' }));
    if (result instanceof Error) expect(result.message).toMatch(/does not support SSL/);
    else expect(result).toBe(true);
  });
});
