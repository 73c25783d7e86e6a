import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Database, openDatabase } from '../../../db/client.ts';
import { embeddedPaths, stopEmbeddedServer } from '../../../db/embedded.ts';
import { freePort } from '../../../worker/dev/temporal-server.ts';
import { realPostgresUrl } from '../../support/env.ts';

/** Every database test runs against both backends: the real PostgreSQL server and embedded PGlite. */
export interface Backend {
  name: 'postgres' | 'pglite';
  available: boolean;
  reason: string;
  /** A fresh, empty database (migrated unless told otherwise) that `dispose` removes. */
  create(options?: { migrations?: 'apply' | 'skip' }): Promise<TestDatabase>;
}

export interface TestDatabase {
  db: Database;
  /** DATABASE_URL of this database for the postgres backend; env for child processes either way. */
  env: NodeJS.ProcessEnv;
  dispose(): Promise<void>;
}

/** Creates `dpt_test_<random>` on the real server (the role has CREATEDB) and returns its URL. */
export async function createScratchPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  if (realPostgresUrl === undefined) throw new Error('DATABASE_URL is not set');
  const name = `dpt_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: realPostgresUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(realPostgresUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: realPostgresUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export function scratchHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dpt-db-test-'));
}

const postgres: Backend = {
  name: 'postgres',
  available: realPostgresUrl !== undefined,
  reason: 'DATABASE_URL is not set (the real PostgreSQL server of .ci/run)',
  async create(options = {}) {
    const scratch = await createScratchPostgres();
    const db = await openDatabase({ url: scratch.url, migrations: options.migrations ?? 'apply' });
    return {
      db,
      env: { DATABASE_URL: scratch.url },
      dispose: async () => {
        await db.close();
        await scratch.drop();
      },
    };
  },
};

const pglite: Backend = {
  name: 'pglite',
  available: true,
  reason: '',
  async create(options = {}) {
    const home = scratchHome();
    // The port derived from a home is one of 8000: with dozens of scratch homes alive across the suite's parallel
    // files, two would meet now and then. A port the kernel just handed out keeps them apart.
    const env = { DPT_HOME: home, DPT_PG_PORT: String(await freePort()) };
    const db = await openDatabase({ env, migrations: options.migrations ?? 'apply' });
    return {
      db,
      env,
      dispose: async () => {
        await db.close();
        await stopEmbeddedServer(embeddedPaths(env).dataDir);
        fs.rmSync(home, { recursive: true, force: true });
      },
    };
  },
};

export const BACKENDS: Backend[] = [postgres, pglite];
