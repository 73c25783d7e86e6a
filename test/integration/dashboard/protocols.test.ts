import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DashboardServer, startDashboard } from '../../../dashboards/server.ts';
import type { Table } from '../../../dashboards/tables.ts';
import type { ViewResult } from '../../../dashboards/views.ts';
import { type Database, openDatabase } from '../../../db/client.ts';
import { pivotJson } from '../../../db/results/pivot.ts';
import { resultsPivot } from '../../../db/results/query.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { createScratchPostgres } from '../db/backends.ts';
import { seedBaseToNovel } from './seed-protocols.ts';

const hm = (a: number, b: number) => (2 * a * b) / (a + b);

describeWith(
  'PostgreSQL',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('dashboard API of a base-to-novel sweep', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  let db: Database;
  let server: DashboardServer;
  const get = async <T>(path: string) => {
    const response = await fetch(`${server.url}${path}`);
    return { status: response.status, body: (await response.json()) as T };
  };

  beforeAll(async () => {
    scratch = await createScratchPostgres();
    db = await openDatabase({ url: scratch.url, migrations: 'apply' });
    await seedBaseToNovel(db.pool);
    server = await startDashboard({ db, port: 0, temporalUiUrl: 'http://ui.test:8233/', temporalNamespace: 'ns' });
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
    await scratch?.drop();
  });

  it('opens with the base-to-novel table, exactly what `results --published --format json` prints', async () => {
    const { status, body } = await get<{ tables: Table[] }>('/api/sweeps/b2n-demo/tables');
    expect(status).toBe(200);
    expect(body.tables.map((table) => table.view)).toEqual(['base-to-novel']);
    const answer = await resultsPivot(db.pool, { sweeps: ['b2n-demo'], published: true });
    expect(body.tables[0]?.pivot).toEqual(
      JSON.parse(JSON.stringify(pivotJson(answer.pivot, answer.caption, answer))) as unknown,
    );
    const pivot = body.tables[0]?.pivot;
    const cells = (dataset: string, method: string) =>
      pivot?.rows.find((row) => row.key.dataset === dataset && row.key.method === method)?.cells;
    // Hand-computed in seed-protocols.ts.
    expect(cells('average', 'zeroshot')?.HM?.mean).toBeCloseTo(hm(55, 68), 10);
    expect(cells('average', 'coop')?.base?.mean).toBeCloseTo(79.5, 10);
    expect(cells('average', 'coop')?.HM?.mean).toBeCloseTo(hm(79.5, 44.5), 10);
    expect(cells('dtd', 'coop')?.base).toMatchObject({ mean: 69, n: 1, expectedN: 2 });
    expect(cells('average', 'coop')?.base?.published).toMatchObject({ value: 82.69, ref: 2 });
    expect(pivot?.notes[1]).toMatch(
      /^warning: 2 of 8 cells have fewer seeds than planned, some computed from a subset/,
    );
    expect(pivot?.notes[1]).toContain('coop · dtd · base: 1 of 2 (seed 2 ended without a result)');
  });

  it('lists the base-to-novel view and draws base, novel and HM bars per dataset and averaged', async () => {
    const sweep = await get<{ views: string[] }>('/api/sweeps/b2n-demo');
    expect(sweep.body.views).toEqual(['base-to-novel']);
    const { status, body } = await get<ViewResult>('/api/sweeps/b2n-demo/views/base-to-novel');
    expect(status).toBe(200);
    expect(body.kind).toBe('bar');
    expect(body.panels.map((panel) => panel.title)).toEqual(['Average over datasets', 'dtd', 'eurosat']);
    const coop = body.panels[0]?.series.find((series) => series.method === 'coop');
    expect(coop?.points.map((point) => [point.x, point.mean])).toEqual([
      ['base', 79.5],
      ['novel', 44.5],
      ['HM', hm(79.5, 44.5)],
    ]);
    expect((await get('/api/sweeps/b2n-demo/views/dg')).status).toBe(400);
  });
});
