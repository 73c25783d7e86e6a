import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { type EmbeddedPaths, embeddedPaths, embeddedUrl, ensureEmbeddedServer } from './embedded.ts';
import { DatabaseError, firstLine } from './errors.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { applyMigrations, assertMigrated } from './migrate.ts';

export type DatabaseKind = 'postgres' | 'embedded';

export interface Database {
  prisma: PrismaClient;
  /** The pool under Prisma, for bulk SQL that Prisma has no API for (multi-row upserts, aggregations). */
  pool: pg.Pool;
  kind: DatabaseKind;
  /** Where the data lives, for messages: "PostgreSQL at host:port/db" or "embedded PGlite at <dir>". */
  where: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; defaults to `DATABASE_URL`; with neither, the embedded PGlite server is used. */
  url?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * 'apply' runs pending migrations, 'require' fails with a one-line error when some are missing, 'skip' does
   * neither. Default: 'apply' for the embedded database (one machine, nothing to set up), 'require' for a server.
   */
  migrations?: 'apply' | 'require' | 'skip';
  /** Pool size for a server; the embedded database always gets one connection per process. */
  poolMax?: number;
}

/** Connection failures give up after this long so an unreachable server is reported, not waited on. */
export const CONNECT_TIMEOUT_MS = 8_000;

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const env = options.env ?? process.env;
  const url = options.url ?? (env.DATABASE_URL?.trim() || undefined);
  const { pool, kind, where } =
    url === undefined ? embeddedPool(embeddedPaths(env, options.cwd)) : serverPool(url, options.poolMax ?? 10);
  try {
    await checkConnection(pool, where, url);
    const migrations = options.migrations ?? (kind === 'embedded' ? 'apply' : 'require');
    if (migrations === 'apply') await applyMigrations(pool);
    else if (migrations === 'require') await assertMigrated(pool, where);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    pool,
    kind,
    where,
    close: async () => {
      await prisma.$disconnect();
      await pool.end().catch(() => undefined);
    },
  };
}

function serverPool(url: string, max: number): { pool: pg.Pool; kind: DatabaseKind; where: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseError(
      'DATABASE_URL is not a URL (expected postgres://user:password@host:port/database)',
      'bad-url',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new DatabaseError(
      `DATABASE_URL must start with postgres:// or postgresql://, got ${parsed.protocol}//`,
      'bad-url',
    );
  }
  const where = `PostgreSQL at ${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname}`;
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle connection dropped by the server surfaces here; the pool replaces it on the next query.
  pool.on('error', () => undefined);
  return { pool, kind: 'postgres', where };
}

function embeddedPool(paths: EmbeddedPaths): { pool: pg.Pool; kind: DatabaseKind; where: string } {
  const pool = new pg.Pool({
    connectionString: embeddedUrl(paths),
    // PGlite runs one statement at a time; more connections per process would only queue in the server.
    max: 1,
    connectionTimeoutMillis: 60_000,
    Client: embeddedClient(paths),
  });
  pool.on('error', () => undefined);
  return { pool, kind: 'embedded', where: `embedded PGlite at ${paths.dataDir}` };
}

/**
 * A pg Client that first makes sure the embedded server runs, so when the process that served it exits, the next
 * connection of any other process takes the data directory over instead of failing.
 */
function embeddedClient(paths: EmbeddedPaths): typeof pg.Client {
  type Callback = ((err: Error) => void) | ((err: null, client: pg.Client) => void);
  class EmbeddedClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: Callback): void;
    override connect(callback?: Callback): Promise<pg.Client> | undefined {
      const connecting = ensureEmbeddedServer(paths).then(() => super.connect());
      if (callback === undefined) return connecting;
      const reply = callback as (err: Error | null, client?: pg.Client) => void;
      connecting.then(
        (client) => reply(null, client),
        (error: Error) => reply(error),
      );
      return undefined;
    }
  }
  return EmbeddedClient;
}

async function checkConnection(pool: pg.Pool, where: string, url: string | undefined): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    if (error instanceof DatabaseError) throw error;
    const source = url === undefined ? '' : ' (DATABASE_URL)';
    throw new DatabaseError(`cannot reach ${where}${source}: ${describeConnectError(error)}`, 'unreachable', {
      cause: error,
    });
  }
}

function describeConnectError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = firstLine(error);
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name does not resolve';
  if (/timeout/i.test(message)) return `no answer within ${CONNECT_TIMEOUT_MS / 1000} s`;
  // SQLSTATE 28P01/28000: the server answered but refused the credentials; the fix is in the URL, not the server.
  if (code === '28P01' || code === '28000') return `${message}; check the user and password in DATABASE_URL`;
  if (code === '3D000') return `${message}; create it (createdb) and run \`npm run db:migrate\``;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
