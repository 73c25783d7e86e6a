import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { embeddedSecret } from './embedded-secret.ts';
import { PgliteWireServer } from './embedded-server.ts';
import { DatabaseError, firstLine } from './errors.ts';

/** PostgreSQL major version of the bundled PGlite; a data directory written by another major cannot be opened. */
export const PGLITE_PG_MAJOR = 18;

export const EMBEDDED_USER = 'postgres';
export const EMBEDDED_DATABASE = 'postgres';

export interface EmbeddedPaths {
  home: string;
  dataDir: string;
  lockFile: string;
  /** The server's password, created on first use (embedded-secret.ts). */
  secretFile: string;
  port: number;
}

/**
 * Where the embedded database lives: `$DPT_HOME` or `./.dpt-sweep`, data in `pg/`. Its loopback port is derived from
 * the data directory (or `DPT_PG_PORT`), so every process on the machine finds the same server without a registry:
 * binding that port is also the lock that makes exactly one process the owner of the data directory, and the kernel
 * releases it when the owner dies, even by SIGKILL.
 */
export function embeddedPaths(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): EmbeddedPaths {
  const home = path.resolve(cwd, env.DPT_HOME || '.dpt-sweep');
  const dataDir = path.join(home, 'pg');
  const fromEnv = env.DPT_PG_PORT === undefined ? undefined : Number(env.DPT_PG_PORT);
  if (fromEnv !== undefined && !(Number.isInteger(fromEnv) && fromEnv > 0 && fromEnv < 65536)) {
    throw new DatabaseError(`DPT_PG_PORT must be a TCP port number, got "${env.DPT_PG_PORT}"`, 'bad-url');
  }
  const digest = createHash('sha256').update(dataDir).digest();
  const port = fromEnv ?? 41000 + (digest.readUInt32BE(0) % 8000);
  return { home, dataDir, lockFile: path.join(home, 'pg.lock'), secretFile: path.join(home, 'pg.secret'), port };
}

/** The URL every local process connects with, carrying the server's password (a hex string, URL-safe). */
export function embeddedUrl(paths: EmbeddedPaths): string {
  const secret = embeddedSecret(paths.secretFile);
  return `postgres://${EMBEDDED_USER}:${secret}@127.0.0.1:${paths.port}/${EMBEDDED_DATABASE}`;
}

/** The server this process owns, if it won the port. */
export interface OwnedEmbeddedServer {
  port: number;
  close(): Promise<void>;
}

const owned = new Map<string, Promise<OwnedEmbeddedServer>>();

/**
 * Makes sure the embedded server for `paths` is up, starting it in this process if no other process serves it.
 * Returns the port to connect to. Safe to call again after the owner died: the next caller becomes the owner.
 */
export async function ensureEmbeddedServer(paths: EmbeddedPaths, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mine = owned.get(paths.dataDir);
    if (mine !== undefined) return (await mine).port;
    const identity = await probe(paths.port);
    if (identity === 'postgres' && (await servesDataDir(paths))) return paths.port;
    if (identity === 'foreign') {
      throw new DatabaseError(
        `port ${paths.port} on 127.0.0.1 is used by another program, not the embedded database of ${paths.dataDir}; set DPT_PG_PORT to a free port`,
        'port-taken',
      );
    }
    if (identity === 'postgres') {
      if (Date.now() > deadline) break;
      await sleep(150);
      continue;
    }
    const started = await tryOwn(paths);
    if (started !== undefined) return started.port;
    if (Date.now() > deadline) break;
    await sleep(150);
  }
  throw new DatabaseError(
    `embedded database at 127.0.0.1:${paths.port} (${paths.dataDir}) did not answer within ${Math.round(timeoutMs / 1000)} s`,
    'unreachable',
  );
}

/** Stops the server this process owns for `dataDir`, if any (other processes then take over on their next connect). */
export async function stopEmbeddedServer(dataDir: string): Promise<void> {
  const mine = owned.get(dataDir);
  if (mine === undefined) return;
  owned.delete(dataDir);
  await (await mine.catch(() => undefined))?.close();
}

async function tryOwn(paths: EmbeddedPaths): Promise<OwnedEmbeddedServer | undefined> {
  const socketServer = net.createServer();
  const bound = await new Promise<boolean>((resolve, reject) => {
    socketServer.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(false);
      else reject(error);
    });
    socketServer.listen(paths.port, '127.0.0.1', () => resolve(true));
  });
  if (!bound) return undefined;

  const starting = (async (): Promise<OwnedEmbeddedServer> => {
    const opening = openPglite(paths.dataDir);
    const wire = new PgliteWireServer(opening, socketServer, { password: embeddedSecret(paths.secretFile) });
    let db: PGlite;
    try {
      db = await opening;
      // Every client shares PGlite's single session, so this marks the server for servesDataDir.
      await db.query(`SELECT set_config('dpt.data_dir', $1, false)`, [paths.dataDir]);
    } catch (error) {
      await wire.close();
      throw error;
    }
    fs.writeFileSync(
      paths.lockFile,
      `${JSON.stringify({ pid: process.pid, port: paths.port, dataDir: paths.dataDir, startedAt: new Date().toISOString() })}\n`,
    );
    return {
      port: paths.port,
      close: async () => {
        await wire.close();
        await db.close();
        fs.rmSync(paths.lockFile, { force: true });
      },
    };
  })();
  owned.set(paths.dataDir, starting);
  try {
    return await starting;
  } catch (error) {
    owned.delete(paths.dataDir);
    throw error;
  }
}

/** Opens (creating if needed) the data directory, turning PGlite's generic start-up failure into a named cause. */
export async function openPglite(dataDir: string): Promise<PGlite> {
  const versionFile = path.join(dataDir, 'PG_VERSION');
  if (fs.existsSync(versionFile)) {
    const major = Number.parseInt(fs.readFileSync(versionFile, 'utf8').trim(), 10);
    if (major !== PGLITE_PG_MAJOR) {
      const newer = Number.isFinite(major) && major > PGLITE_PG_MAJOR;
      throw new DatabaseError(
        newer
          ? `embedded database ${dataDir} was written by PostgreSQL ${major}, newer than this PGlite (PostgreSQL ${PGLITE_PG_MAJOR}); upgrade dpt-sweep or point DPT_HOME elsewhere`
          : `embedded database ${dataDir} is from PostgreSQL ${Number.isFinite(major) ? major : 'unknown'}, not ${PGLITE_PG_MAJOR}; move it away or point DPT_HOME elsewhere`,
        Number.isFinite(major) && major > PGLITE_PG_MAJOR ? 'data-dir-newer' : 'data-dir-corrupt',
      );
    }
  } else if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
    throw new DatabaseError(
      `embedded database ${dataDir} is not a PostgreSQL data directory (no PG_VERSION); move it away or point DPT_HOME elsewhere`,
      'data-dir-corrupt',
    );
  }
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    // Loaded here, not at the top: a process that only talks to a server (DATABASE_URL) never needs PGlite.
    const { PGlite } = await import('@electric-sql/pglite');
    const db = new PGlite({ dataDir });
    await db.waitReady;
    return db;
  } catch (error) {
    throw new DatabaseError(
      `embedded database ${dataDir} is corrupted and cannot be opened (${firstLine(error)}); move it away or point DPT_HOME elsewhere`,
      'data-dir-corrupt',
      { cause: error },
    );
  }
}

/** 'postgres' when something on the port answers a PostgreSQL SSL probe, 'none' when nothing listens. */
function probe(port: number): Promise<'postgres' | 'foreign' | 'none'> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (result: 'postgres' | 'foreign' | 'none') => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(2000, () => done('foreign'));
    socket.once('error', () => done('none'));
    socket.once('connect', () => {
      const request = Buffer.alloc(8);
      request.writeInt32BE(8, 0);
      request.writeInt32BE(80877103, 4);
      socket.write(request);
    });
    socket.once('data', (data: Buffer) => done(data[0] === 0x4e || data[0] === 0x53 ? 'postgres' : 'foreign'));
  });
}

/** Guards against two data directories whose derived ports collide: the server names its own directory. */
async function servesDataDir(paths: EmbeddedPaths): Promise<boolean> {
  const client = new pg.Client({ connectionString: embeddedUrl(paths), connectionTimeoutMillis: 30_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ dir: string | null }>(`SELECT current_setting('dpt.data_dir', true) AS dir`);
    const served = rows[0]?.dir;
    if (served !== paths.dataDir) {
      throw new DatabaseError(
        `port ${paths.port} serves ${served ? `the embedded database ${served}` : 'a PostgreSQL server'}, not ${paths.dataDir}; set DPT_PG_PORT to a free port`,
        'port-taken',
      );
    }
    return true;
  } catch (error) {
    if (error instanceof DatabaseError) throw error;
    if ((error as { code?: unknown }).code === '28P01') {
      // Another home's embedded server on a colliding port: it has a secret of its own.
      throw new DatabaseError(
        `port ${paths.port} serves an embedded database that refuses the password of ${paths.secretFile}, not ${paths.dataDir}; set DPT_PG_PORT to a free port`,
        'port-taken',
      );
    }
    // The owner died (or is still opening) between the probe and this query; the caller retries and may take over.
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
