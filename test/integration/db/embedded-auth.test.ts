import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../db/client.ts';
import { embeddedPaths, stopEmbeddedServer } from '../../../db/embedded.ts';
import { embeddedSecret } from '../../../db/embedded-secret.ts';
import { scratchHome } from './backends.ts';

const home = scratchHome();
const env: NodeJS.ProcessEnv = { DPT_HOME: home };
const paths = embeddedPaths(env);
afterAll(async () => {
  await stopEmbeddedServer(paths.dataDir);
  fs.rmSync(home, { recursive: true, force: true });
});

/** Connects as a foreign local process would: the right port, any credentials it can guess. */
async function connectWith(password: string | undefined): Promise<unknown> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: paths.port,
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: 10_000,
    ...(password === undefined ? {} : { password }),
  });
  try {
    await client.connect();
    return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one;
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('embedded PostgreSQL password', () => {
  it('serves dpt-sweep processes, which read the 0600 secret of the home', async () => {
    const db = await openDatabase({ env, url: undefined });
    try {
      expect((await db.pool.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
    } finally {
      await db.close();
    }
    expect(fs.statSync(paths.secretFile).mode & 0o777).toBe(0o600);
    expect(embeddedSecret(paths.secretFile)).toMatch(/^[0-9a-f]{48}$/);
    expect(await connectWith(embeddedSecret(paths.secretFile))).toBe(1);
  });

  it('refuses a connection with a wrong password or none', async () => {
    const wrong = await connectWith('not-the-secret');
    expect(wrong).toBeInstanceOf(Error);
    expect((wrong as { code?: string }).code).toBe('28P01');
    // pg asks for a password it was not given and gives up before sending anything.
    const none = await connectWith(undefined);
    expect(none).toBeInstanceOf(Error);
    expect(await connectWith('')).toBeInstanceOf(Error);
    // The refused clients left the shared session usable.
    expect(await connectWith(embeddedSecret(paths.secretFile))).toBe(1);
  });

  it('keeps the first secret it created, leaves no temporary file, and takes back a secret others can read', () => {
    const dir = scratchHome();
    const file = path.join(dir, 'pg.secret');
    const secrets = Array.from({ length: 8 }, () => embeddedSecret(file));
    expect(new Set(secrets).size).toBe(1);
    fs.chmodSync(file, 0o644);
    expect(embeddedSecret(file)).toBe(secrets[0]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(['pg.secret']);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
