import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DashboardServer, startDashboard } from '../../../dashboards/server.ts';
import { type Database, openDatabase } from '../../../db/client.ts';
import type { SearchReport } from '../../../db/results/search.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { createScratchPostgres } from '../db/backends.ts';
import { seedSearch } from './seed-search.ts';

const run = promisify(execFile);
const CLI = path.resolve('bin/dpt-sweep.js');
const std = (a: number, b: number) => Math.abs(a - b) / Math.SQRT2;

describeWith(
  'PostgreSQL',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('a search in status, results and the dashboard API', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  let db: Database;
  let server: DashboardServer;
  const cli = async (...args: string[]) =>
    (
      await run('node', [CLI, ...args], {
        env: { ...process.env, DATABASE_URL: scratch.url, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      })
    ).stdout;

  beforeAll(async () => {
    scratch = await createScratchPostgres();
    db = await openDatabase({ url: scratch.url, migrations: 'apply' });
    await seedSearch(db.pool);
    server = await startDashboard({ db, port: 0, temporalUiUrl: 'http://ui.test:8233/', temporalNamespace: 'ns' });
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
    await scratch?.drop();
  });

  it('the API reports the hand-computed rungs, best configuration, saving and importance', async () => {
    const sweep = (await (await fetch(`${server.url}/api/sweeps/sh-demo`)).json()) as { search: string | null };
    expect(sweep.search).toBe('successive-halving');
    const report = (await (await fetch(`${server.url}/api/sweeps/sh-demo/search`)).json()) as SearchReport;
    expect(report.rungs).toEqual([
      { rung: 0, epochs: 1, candidates: 4, promoted: 2, decided: true },
      { rung: 1, epochs: 2, candidates: 2, promoted: 0, decided: true },
    ]);
    expect(report.epochs).toEqual({ trained: 12, full: 16 });
    expect(report.best?.candidate).toBe(3);
    expect(report.best?.params).toEqual({ lr: 0.1, alpha: 1 });
    expect(report.best?.val).toMatchObject({ mean: 79, n: 2 });
    expect(report.best?.val?.std).toBeCloseTo(std(80, 78), 12);
    expect(report.best?.test?.mean).toBe(73);
    expect(report.best?.test?.std).toBeCloseTo(std(75, 71), 12);
    const stopped = report.configurations.find((c) => c.candidate === 0)!;
    expect(stopped).toMatchObject({ epochs: 1, state: 'stopped at 1 epoch', objective: 41, test: null });
    expect(report.importance.axes.map((a) => a.key)).toEqual(['alpha', 'lr']);
    expect(report.importance.axes[0]!.share).toBeCloseTo(380.25 / 438.75, 12);
    expect(report.importance.axes[1]!.share).toBeCloseTo(56.25 / 438.75, 12);
    expect((await fetch(`${server.url}/api/sweeps/nope/search`)).status).toBe(404);
  });

  it('`results` prints the same report (JSON equal to the API), and `status` its summary', async () => {
    const api = await (await fetch(`${server.url}/api/sweeps/sh-demo/search`)).json();
    expect(JSON.parse(await cli('results', 'sh-demo', '--format', 'json'))).toEqual(api);
    const table = await cli('results', 'sh-demo');
    expect(table).toContain('rungs: 1 epoch: 4 → 2 promoted · 2 epochs: 2 → finished');
    expect(table).toContain('epochs trained: 12 of the 16 that training every configuration in full takes (25% saved)');
    expect(table).toContain('best so far: #3 lr=0.1 alpha=1: val 79.0 ± 1.4 (2), test 73.0 ± 2.8 (2) after 2 epochs');
    expect(table).toMatch(/alpha\s+0\.87\s+█+/);
    const status = await cli('status', 'sh-demo');
    expect(status).toContain('search: successive-halving on val-top1 (eta 2, rungs at 1, 2 epochs)');
    expect(status).toContain('best so far: #3');
    // With --view the finished trials' table, as for any sweep.
    expect(await cli('results', 'sh-demo', '--by', 'lr,alpha')).toContain('73.0 ± 2.8 (2)');
  });
});
