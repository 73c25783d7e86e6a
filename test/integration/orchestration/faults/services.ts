import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, SEARCH_ATTRIBUTES, waitUntilServing } from '../../../../worker/dev/temporal-server.ts';

/**
 * Services the fault-injection test owns, so that it can crash and restart them: a Temporal dev server on a persistent
 * SQLite file and a throw-away PostgreSQL cluster. The suite's shared servers must never be restarted under the
 * other test files.
 */

const run = promisify(execFile);

/** The Temporal CLI as worker/dev/temporal-server.ts would find it; restarting needs the CLI, not the SDK download. */
export function temporalCli(): string | undefined {
  const candidates = [
    process.env.TEMPORAL_CLI_PATH,
    path.join(homedir(), '.cache', 'dpt-sweep', 'bin', 'temporal'),
    path.resolve('.tools/bin/temporal'),
  ];
  return candidates.find((c): c is string => c !== undefined && existsSync(c));
}

export interface CrashableTemporal {
  address: string;
  namespace: string;
  /** SIGKILLs the server (no graceful shutdown) and, `downMs` later, starts it on the same port and SQLite file. */
  crashAndRestart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startCrashableTemporal(cli: string, dir: string): Promise<CrashableTemporal> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  // The same flags as worker/dev/temporal-server.ts, plus the persistent file that a restart must come back to.
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless'];
  args.push('--log-level', 'error', '--db-filename', path.join(dir, 'temporal.db'));
  for (const [key, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${key}=${type}`);
  let child: ChildProcess | undefined;
  const start = async () => {
    const started = spawn(cli, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child = started;
    const exited = new Promise<never>((_, reject) =>
      started.once('exit', (code, signal) => reject(new Error(`temporal exited (${signal ?? code})`))),
    );
    exited.catch(() => {});
    await Promise.race([waitUntilServing(address, 60_000), exited]);
  };
  const kill = async () => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const gone = new Promise((resolve) => current.once('exit', resolve));
    current.kill('SIGKILL');
    await gone;
  };
  await start();
  return {
    address,
    namespace: 'default',
    async crashAndRestart(downMs) {
      await kill();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
    },
    stop: kill,
  };
}

/** The newest PostgreSQL server binaries of the machine (Debian's layout, as .ci/run uses). */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  return newest === undefined ? undefined : path.join(root, newest, 'bin');
}

export interface CrashablePostgres {
  /** URL of a fresh database on the cluster. */
  createDatabase(name: string): Promise<string>;
  /**
   * `pg_ctl stop -m immediate`, then `start` `downMs` later: the server aborts without a checkpoint, clients lose
   * their connections, and it recovers from its WAL (what `pg_ctl restart -m immediate` does, with a longer gap).
   */
  crashAndRestart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A cluster of its own on a free port. PostgreSQL refuses to run as root, so under root (CI) the cluster belongs to
 * the `postgres` user, as in .ci/run.
 */
export async function startCrashablePostgres(bin: string): Promise<CrashablePostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dpt-fault-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const sh = async (command: string) => {
    if (asRoot) await run('su', ['postgres', '-s', '/bin/bash', '-c', command]);
    else await run('bash', ['-c', command]);
  };
  const port = await freePort();
  const data = path.join(dir, 'data');
  const pgCtl = `'${bin}/pg_ctl' -D '${data}' -l '${dir}/log' -w`;
  const options = `-o "-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off"`;
  await sh(`'${bin}/initdb' -D '${data}' -U postgres -A trust --no-sync >/dev/null`);
  await sh(`${pgCtl} ${options} start >/dev/null`);
  const admin = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  return {
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgresql://postgres@127.0.0.1:${port}/${name}`;
    },
    async crashAndRestart(downMs) {
      await sh(`${pgCtl} -m immediate stop >/dev/null`);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await sh(`${pgCtl} ${options} start >/dev/null`);
    },
    async stop() {
      await sh(`${pgCtl} -m immediate stop >/dev/null`).catch(() => {});
      if (statSync(dir, { throwIfNoEntry: false })) rmSync(dir, { recursive: true, force: true });
    },
  };
}
