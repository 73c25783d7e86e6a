import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../db/client.ts';
import { embeddedPaths, PGLITE_PG_MAJOR, stopEmbeddedServer } from '../../../db/embedded.ts';
import { isDatabaseError } from '../../../db/errors.ts';
import { scratchHome } from './backends.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const writer = path.join(here, 'fixtures', 'writer.ts');

const homes: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const home of homes.splice(0)) {
    await stopEmbeddedServer(embeddedPaths({ DPT_HOME: home }).dataDir);
    fs.rmSync(home, { recursive: true, force: true });
  }
});

function newHome(): string {
  const home = scratchHome();
  homes.push(home);
  return home;
}

function startChild(home: string, mode: 'write' | 'hold') {
  const env: NodeJS.ProcessEnv = { ...process.env, DPT_HOME: home };
  delete env.DATABASE_URL;
  // Run node itself (not the tsx wrapper) so the pid, the lock's owner and the SIGKILL target are one process.
  const child = spawn(process.execPath, ['--import', 'tsx', writer, mode], { env });
  children.push(child);
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  const waitFor = (predicate: (lines: string[]) => boolean) =>
    new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (predicate(lines)) {
          clearInterval(timer);
          resolve();
        } else if (child.exitCode !== null) {
          clearInterval(timer);
          reject(new Error(`child exited ${child.exitCode}: ${stderr}`));
        }
      }, 20);
    });
  return { child, lines, waitFor };
}

describe('embedded PGlite database', () => {
  it('is shared by processes: a second process connects to the server the first one owns', async () => {
    const home = newHome();
    const owner = startChild(home, 'hold');
    await owner.waitFor((lines) => lines.includes('ready'));
    const lock = JSON.parse(fs.readFileSync(path.join(home, 'pg.lock'), 'utf8'));
    expect(lock).toMatchObject({ pid: owner.child.pid, port: embeddedPaths({ DPT_HOME: home }).port });

    const db = await openDatabase({ env: { DPT_HOME: home } });
    await db.pool.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", "maxParallel", "codeVersion", "updatedAt")
                         VALUES ('s1', 'shared', '{}', 'h', 1, 'v', now())`);
    const [a, b] = await Promise.all([
      db.prisma.sweep.count(),
      db.pool.query(`SELECT count(*)::int AS n FROM "Sweep"`).then((r) => r.rows[0].n),
    ]);
    expect([a, b]).toEqual([1, 1]);

    // The owner exits: this process's next connection takes the data directory over and nothing is lost.
    owner.child.stdin.end();
    await new Promise((resolve) => owner.child.once('exit', resolve));
    let count: number | undefined;
    for (let i = 0; i < 3 && count === undefined; i++) {
      count = await db.prisma.sweep.count().catch(() => undefined);
    }
    expect(count).toBe(1);
    await db.close();
  });

  it('survives SIGKILL of the owning process in the middle of writes', async () => {
    const home = newHome();
    const victim = startChild(home, 'write');
    await victim.waitFor((lines) => lines.length >= 30);
    victim.child.kill('SIGKILL');
    await new Promise((resolve) => victim.child.once('exit', resolve));
    const committed = Number(victim.lines.at(-1));

    const db = await openDatabase({ env: { DPT_HOME: home } });
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n, max(epoch) AS last FROM "EpochMetric"`);
    // Every epoch the child reported as committed is there (one more may have committed before it could print).
    expect(rows[0].last).toBeGreaterThanOrEqual(committed);
    expect(rows[0].n).toBe(rows[0].last + 1);
    const check = await db.pool.query(
      `SELECT count(*)::int AS n FROM "EpochMetric" WHERE abs(loss - 1.0 / (epoch + 1)) < 1e-12`,
    );
    expect(check.rows[0].n).toBe(rows[0].n);
    await db.pool.query(`UPDATE "EpochMetric" SET seconds = -1`);
    await db.close();
  });

  it('names a data directory written by a newer PostgreSQL in one line', async () => {
    const home = newHome();
    const dataDir = embeddedPaths({ DPT_HOME: home }).dataDir;
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'PG_VERSION'), `${PGLITE_PG_MAJOR + 1}\n`);
    const error = await openDatabase({ env: { DPT_HOME: home } }).catch((e: unknown) => e);
    expect(isDatabaseError(error) && error.code).toBe('data-dir-newer');
    expect((error as Error).message).toBe(
      `embedded database ${dataDir} was written by PostgreSQL ${PGLITE_PG_MAJOR + 1}, newer than this PGlite (PostgreSQL ${PGLITE_PG_MAJOR}); upgrade dpt-sweep or point DPT_HOME elsewhere`,
    );
  });

  it('names a corrupted data directory in one line', async () => {
    const home = newHome();
    const env = { DPT_HOME: home };
    const db = await openDatabase({ env });
    await db.close();
    await stopEmbeddedServer(embeddedPaths(env).dataDir);
    const dataDir = embeddedPaths(env).dataDir;
    fs.writeFileSync(path.join(dataDir, 'global', 'pg_control'), Buffer.alloc(8192, 0x5a));
    const error = await openDatabase({ env }).catch((e: unknown) => e);
    expect(isDatabaseError(error) && error.code).toBe('data-dir-corrupt');
    expect((error as Error).message).toMatch(
      new RegExp(`^embedded database ${dataDir} is corrupted and cannot be opened`),
    );
    expect((error as Error).message).not.toContain('\n');
  });

  it('names a directory that is not a PostgreSQL data directory', async () => {
    const home = newHome();
    const dataDir = embeddedPaths({ DPT_HOME: home }).dataDir;
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'notes.txt'), 'hello');
    const error = await openDatabase({ env: { DPT_HOME: home } }).catch((e: unknown) => e);
    expect(isDatabaseError(error) && error.code).toBe('data-dir-corrupt');
  });
});
