import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hostName } from '../../../dashboards/host-check.ts';
import { type DashboardServer, startDashboard } from '../../../dashboards/server.ts';
import { type Database, openDatabase } from '../../../db/client.ts';
import { pivotJson } from '../../../db/results/pivot.ts';
import { type ResultsRequest, resultsPivot } from '../../../db/results/query.ts';
import { VIEWS, type ViewName } from '../../../db/results/views.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { createScratchPostgres } from '../db/backends.ts';
import { ALPHA_BETA_CORRECT, CURVE, MIXED_BASE, PROVENANCE, type Seeded, seedDashboard } from './seed.ts';

interface Point {
  x: number | string;
  mean: number;
  std: number | null;
  n: number;
}
interface View {
  kind: string;
  panels: Array<{
    title: string;
    series: Array<{ name: string; method: string | null; key: Record<string, unknown>; points: Point[] }>;
  }>;
  missing: number;
}
interface Table {
  view: string | null;
  title: string;
  caption: string;
  pivot: { rowFactors: string[]; rows: Array<{ key: Record<string, unknown> }> };
}

interface Parallel {
  axes: Array<{ name: string; type: string; values?: unknown[] }>;
  lines: Array<Array<string | number>>;
  total: number;
  truncated: boolean;
}
interface Coverage {
  rowFactors: string[];
  columnFactors: string[];
  rows: string[];
  columns: string[];
  cells: Array<{ row: number; column: number; n: number; expectedN: number }>;
  missing: number;
  partial: number;
}

interface TrialRow {
  top1: number | null;
  seed: number;
  durationMs: number;
}
interface Body {
  error?: string;
  sweeps?: string[];
  views?: string[];
  total?: number;
  rows: TrialRow[];
  epochs?: unknown[];
}

const KNOWN = ['alpha-only-demo', 'alphabeta-demo', 'fewshot-demo', 'length-demo', 'mixed-demo'];
const PAPER_ORDER = ['zeroshot', 'coop', 'vpt', 'vlp', 'dpt'];

/**
 * What `dpt-sweep results ... --format json --published` prints for the request, through the same functions the CLI
 * calls.
 */
const cliJson = async (db: Database, request: ResultsRequest) => {
  const answer = await resultsPivot(db.pool, { ...request, published: true });
  const json = pivotJson(answer.pivot, answer.caption, { notes: answer.notes, sources: answer.sources });
  return JSON.parse(JSON.stringify(json)) as unknown;
};

describeWith(
  'PostgreSQL',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('dashboard API', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  let db: Database;
  let server: DashboardServer;
  let seeded: Seeded;
  const get = async <T = Body>(path: string) => {
    const response = await fetch(`${server.url}${path}`);
    return { status: response.status, body: (await response.json()) as T };
  };

  beforeAll(async () => {
    scratch = await createScratchPostgres();
    db = await openDatabase({ url: scratch.url, migrations: 'apply' });
    seeded = await seedDashboard(db.pool);
    server = await startDashboard({ db, port: 0, temporalUiUrl: 'http://ui.test:8233/', temporalNamespace: 'ns' });
  });
  afterAll(async () => {
    await server?.close();
    await db?.close();
    await scratch?.drop();
  });

  it('lists sweeps with status counts, progress and the Temporal link', async () => {
    const { status, body } = await get<Array<{ name: string }>>('/api/sweeps');
    expect(status).toBe(200);
    const byName = Object.fromEntries(body.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(KNOWN);
    expect(byName['fewshot-demo']).toMatchObject({
      total: 16,
      counts: { succeeded: 15, failed: 1, pending: 0, running: 0 },
      progress: 1,
      temporalUrl: 'http://ui.test:8233/namespaces/ns/workflows/sweep-fewshot',
    });
    expect(byName['length-demo']).toMatchObject({ total: 12, counts: { succeeded: 12 }, temporalUrl: null });
  });

  it('answers an unknown sweep with 404 listing the known ones', async () => {
    const { status, body } = await get('/api/sweeps/nope');
    expect(status).toBe(404);
    expect(body.error).toBe(`unknown sweep nope; known sweeps: ${KNOWN.join(', ')}`);
    expect(body.sweeps).toEqual(KNOWN);
  });

  it('names the views each sweep can show, by name or id', async () => {
    expect((await get('/api/sweeps/fewshot-demo')).body.views).toEqual(['fewshot']);
    expect((await get(`/api/sweeps/${seeded.lengthId}`)).body.views).toEqual(['cavpt-length']);
    expect((await get(`/api/sweeps/${seeded.alphaBetaId}`)).body.views).toEqual(['alpha-beta']);
  });

  it('lists only the views whose factor varies, and every method in the paper order', async () => {
    const mixed = (await get<{ views: string[]; methodOrder: string[] }>('/api/sweeps/mixed-demo')).body;
    // cavptLength takes two non-null values (dpt's 1 and 10; coop and zero-shot leave it unset); kN, lr, α, β none.
    expect(mixed.views).toEqual(['fewshot', 'cavpt-length']);
    expect(mixed.methodOrder).toEqual(PAPER_ORDER);
    // α varies but β does not: no heatmap, although `results --view alpha-beta` accepts the sweep.
    expect((await get('/api/sweeps/alpha-only-demo')).body.views).toEqual([]);
    await expect(resultsPivot(db.pool, { sweeps: ['alpha-only-demo'], view: 'alpha-beta' })).resolves.toBeDefined();
    const refused = await get('/api/sweeps/alpha-only-demo/views/alpha-beta');
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('view alpha-beta needs a factor this sweep did not vary; available views: (none)');
  });

  it('leaves out null-x points and names series by what differs between them, in method order', async () => {
    const length = (await get<View>('/api/sweeps/mixed-demo/views/cavpt-length')).body;
    for (const panel of length.panels) {
      // coop and zero-shot have no CAVPT length: their cells are not points, and they are no series.
      expect(panel.series.map((s) => s.name)).toEqual(['dpt shots=1', 'dpt shots=4']);
      for (const series of panel.series) for (const point of series.points) expect(point.x).not.toBeNull();
    }
    const [shots1, shots4] = length.panels[0]?.series ?? [];
    expect(shots1).toMatchObject({ method: 'dpt', key: { method: 'dpt', shots: 1 } });
    expect(shots1?.points.map((p) => [p.x, p.mean])).toEqual([
      [1, MIXED_BASE.dpt! + 1 + 1],
      [10, MIXED_BASE.dpt! + 1 + 10],
    ]);
    expect(shots4?.points.map((p) => p.mean)).toEqual([MIXED_BASE.dpt! + 4 + 1, MIXED_BASE.dpt! + 4 + 10]);

    const fewshot = (await get<View>('/api/sweeps/mixed-demo/views/fewshot')).body;
    const average = fewshot.panels[0]?.series ?? [];
    // Planned dpt, coop, zeroshot; shown in the registry's order, unset cavptLength left out of the name.
    expect(average.map((s) => s.name)).toEqual(['zeroshot', 'coop', 'dpt cavptLength=1', 'dpt cavptLength=10']);
    expect(average.map((s) => s.method)).toEqual(['zeroshot', 'coop', 'dpt', 'dpt']);
    expect(average[0]).toMatchObject({ key: { method: 'zeroshot', cavptLength: null } });
    expect(average[0]?.points.map((p) => [p.x, p.mean])).toEqual([
      [1, MIXED_BASE.zeroshot! + 1],
      [4, MIXED_BASE.zeroshot! + 4],
    ]);
    // One factor besides the method keys no series: the names are the methods alone, coop before dpt.
    const plain = (await get<View>('/api/sweeps/fewshot-demo/views/fewshot')).body;
    expect(plain.panels[0]?.series.map((s) => s.name)).toEqual(['coop', 'dpt']);
  });

  it('serves the CLI tables of a sweep: the default one, then one per supported view', async () => {
    for (const sweep of ['fewshot-demo', 'length-demo', 'mixed-demo', 'alphabeta-demo', 'alpha-only-demo']) {
      const { status, body } = await get<{ tables: Table[] }>(`/api/sweeps/${sweep}/tables`);
      expect(status, sweep).toBe(200);
      const views = (await get(`/api/sweeps/${sweep}`)).body.views as ViewName[];
      expect(body.tables.map((t) => t.view)).toEqual([null, ...views]);
      for (const table of body.tables) {
        const request = { sweeps: [sweep], view: table.view ?? undefined };
        expect(table.pivot, `${sweep} ${table.view}`).toEqual(await cliJson(db, request));
        expect(table.caption).toBe((await resultsPivot(db.pool, request)).caption);
        if (table.view !== null) expect(table.title).toBe(VIEWS[table.view as ViewName].title);
      }
    }
    const mixed = (await get<{ tables: Table[] }>('/api/sweeps/mixed-demo/tables')).body.tables;
    expect(mixed[0]?.pivot.rowFactors).toEqual(['method', 'shots', 'cavptLength']);
    expect((await get('/api/sweeps/mixed-demo/tables?view=fewshot')).status).toBe(400);
    expect((await get('/api/sweeps/nope/tables')).status).toBe(404);
  });

  it('shows one trial in full: factors, config and its diff to the base, attempts, curve, results', async () => {
    const trialId = seeded.fewshotTrials['dpt/eurosat/16/1'] as string;
    const { status, body } = await get<Record<string, unknown>>(`/api/trials/${trialId}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: trialId,
      sweep: { id: seeded.fewshotId, name: 'fewshot-demo' },
      status: 'succeeded',
      seed: 1,
      factors: { method: 'dpt', dataset: 'eurosat', shots: 16, lr: 0.002, epochs: 5, cavptLength: null },
      config: { method: 'dpt', dataset: 'eurosat', shots: 16, seed: 1 },
      reusedFrom: null,
      checkpointEpoch: 5,
      results: [{ evalDataset: 'eurosat', split: 'test', top1: 79, correct: 79, total: 100 }],
      provenance: PROVENANCE,
    });
    // Base = each leaf's most common value among the sweep's dpt trials (ties to the smaller: dtd, 1); seed is no setting.
    expect(body.baseDiff).toEqual([
      { path: 'dataset', value: 'eurosat', base: 'dtd' },
      { path: 'shots', value: 16, base: 1 },
    ]);
    expect(body.attempts).toEqual([
      {
        attempt: 1,
        status: 'succeeded',
        startedAt: expect.any(String),
        finishedAt: '2026-01-02T03:04:05.000Z',
        error: null,
        backend: null,
      },
    ]);
    expect(body.curve).toEqual(
      CURVE.map((point) => ({ ...point, lossMain: null, lossCavpt: null, lrVisual: null, lrText: null })),
    );
    const failed = (await get<Record<string, unknown>>(`/api/trials/${seeded.fewshotTrials['coop/dtd/1/2']}`)).body;
    expect(failed).toMatchObject({ status: 'failed', results: [], curve: [], checkpointEpoch: null });
    expect((failed.attempts as Array<{ status: string }>).map((a) => a.status)).toEqual(['running']);

    const missing = await get('/api/trials/t_missing');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('unknown trial t_missing');
    expect((await get('/api/trials/bad.id')).status).toBe(400);
    expect((await get(`/api/trials/${trialId}?x=1`)).status).toBe(400);
  });

  it('compares sweeps: differing settings, common views, tables with rows split by sweep', async () => {
    const { status, body } = await get<{
      sweeps: Array<{ name: string; total: number }>;
      settings: unknown[];
      views: string[];
      tables: Table[];
    }>('/api/compare?sweep=fewshot-demo&sweep=mixed-demo');
    expect(status).toBe(200);
    expect(body.sweeps).toEqual([
      { id: seeded.fewshotId, name: 'fewshot-demo', status: 'planned', total: 16 },
      { id: seeded.mixedId, name: 'mixed-demo', status: 'planned', total: 16 },
    ]);
    expect(body.settings).toEqual([{ key: 'grid.shots', values: ['[1,16]', '[1,4]'] }]);
    expect(body.views).toEqual(['fewshot']);
    expect(body.tables.map((t) => t.view)).toEqual([null, 'fewshot']);
    const sweeps = ['fewshot-demo', 'mixed-demo'];
    expect(body.tables[0]?.pivot).toEqual(await cliJson(db, { sweeps, by: ['sweep'] }));
    expect(body.tables[1]?.pivot).toEqual(
      await cliJson(db, { sweeps, view: 'fewshot', by: ['sweep', 'method', 'shots'] }),
    );
    for (const table of body.tables) {
      expect(table.pivot.rowFactors[0]).toBe('sweep');
      expect(new Set(table.pivot.rows.map((row) => row.key.sweep))).toEqual(new Set(sweeps));
    }
    // By id works too; three sweeps have only what all three share.
    const three = await get<{ views: string[] }>(
      `/api/compare?sweep=${seeded.fewshotId}&sweep=mixed-demo&sweep=length-demo`,
    );
    expect(three.status).toBe(200);
    expect(three.body.views).toEqual([]);

    for (const [query, error] of [
      ['', 'sweep: compare needs at least 2 sweeps (?sweep=a&sweep=b)'],
      ['?sweep=fewshot-demo', 'sweep: compare needs at least 2 sweeps (?sweep=a&sweep=b)'],
      ['?sweep=fewshot-demo&sweep=fewshot-demo', 'sweep: each sweep may be given once'],
      [`?sweep=fewshot-demo&sweep=${seeded.fewshotId}`, 'sweep: each sweep may be given once'],
      ['?sweep=fewshot-demo&sweep=nope', `unknown sweep nope; known sweeps: ${KNOWN.join(', ')}`],
      ['?sweep=fewshot-demo&sweep=mixed-demo&view=fewshot', 'unknown query parameter view; known: sweep'],
    ]) {
      const response = await get(`/api/compare${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.error, query).toBe(error);
    }
  });

  it('pages, sorts and filters trials on the server', async () => {
    const all = await get('/api/sweeps/fewshot-demo/trials?pageSize=5&sort=top1&dir=desc');
    expect(all.body.total).toBe(16);
    // Highest: dpt/eurosat/16 seed 2 = 81, then dpt/eurosat/16 seed 1 and coop/eurosat/16 seed 2 (79, 76 ...).
    expect(all.body.rows.map((r) => r.top1)).toEqual([81, 79, 76, 74, 71]);
    const page4 = await get('/api/sweeps/fewshot-demo/trials?pageSize=5&page=4&sort=top1&dir=desc');
    // The failed trial has no accuracy: sorted last whatever the direction.
    expect(page4.body.rows).toHaveLength(1);
    expect(page4.body.rows[0]).toMatchObject({
      status: 'failed',
      top1: null,
      error: 'CUDA out of memory',
      attempts: 1,
    });

    const filtered = await get('/api/sweeps/fewshot-demo/trials?method=coop&dataset=dtd&sort=seed');
    expect(filtered.body.total).toBe(4);
    expect(filtered.body.rows.map((r) => r.seed)).toEqual([1, 1, 2, 2]);
    const twoShots = await get('/api/sweeps/fewshot-demo/trials?shots=1&shots=16&status=failed');
    expect(twoShots.body.total).toBe(1);
    const byError = await get('/api/sweeps/fewshot-demo/trials?error=memory');
    expect(byError.body.total).toBe(1);
    // A LIKE wildcard in the request is a literal character, not a pattern.
    expect((await get('/api/sweeps/fewshot-demo/trials?error=%25')).body.total).toBe(0);
    const durations = await get('/api/sweeps/fewshot-demo/trials?sort=durationMs&pageSize=3');
    expect(durations.body.rows.map((r) => r.durationMs)).toEqual([250, 1000, 2000]);
  });

  it('rejects bad query parameters with 400 naming them', async () => {
    const unknown = await get('/api/sweeps/fewshot-demo/trials?sort=id;drop');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/^sort: /);
    const bogus = await get('/api/sweeps/fewshot-demo/trials?colour=red');
    expect(bogus.status).toBe(400);
    expect(bogus.body.error).toMatch(/^unknown query parameter colour; known: page, pageSize/);
    const notInt = await get('/api/sweeps/fewshot-demo/trials?shots=abc');
    expect(notInt.status).toBe(400);
    expect((await get('/api/sweeps/fewshot-demo/trials?pageSize=100000')).status).toBe(400);
  });

  it('computes the few-shot view per dataset and averaged, with sample std over seeds', async () => {
    const { status, body: view } = await get<View>('/api/sweeps/fewshot-demo/views/fewshot');
    expect(status).toBe(200);
    expect(view.panels.map((p) => p.title)).toEqual(['Average over datasets', 'dtd', 'eurosat']);
    const series = (panel: number, name: string) => view.panels[panel]?.series.find((s) => s.name === name)?.points;
    expect(series(0, 'dpt')).toEqual([
      { x: 1, mean: 55, std: 1, n: 2, expectedN: 2 },
      { x: 16, mean: 75, std: 1, n: 2, expectedN: 2 },
    ]);
    expect(series(0, 'coop')?.map((p) => [p.x, p.mean, p.std])).toEqual([
      [1, 49.5, null],
      [16, 70, 1],
    ]);
    const dtdCoop = series(1, 'coop');
    expect(dtdCoop?.[0]).toEqual({ x: 1, mean: 44, std: null, n: 1, expectedN: 2 });
    expect(dtdCoop?.[1]?.mean).toBe(65);
    expect(dtdCoop?.[1]?.std).toBeCloseTo(Math.SQRT2, 12);
  });

  it('computes the CAVPT-length view', async () => {
    const view = (await get<View>('/api/sweeps/length-demo/views/cavpt-length')).body;
    const [average, dtd, eurosat] = view.panels.map((p) => p.series[0]?.points ?? []);
    expect(average?.map((p) => p.mean)).toEqual([71.5, 79]);
    expect(average?.[0]?.std).toBeCloseTo(Math.sqrt(7) / 2, 12);
    expect(average?.[1]?.std).toBeCloseTo(Math.sqrt(8) / 2, 12);
    expect(dtd?.map((p) => [p.x, p.mean])).toEqual([
      [1, 61],
      [10, 71],
    ]);
    expect(dtd?.[0]?.std).toBeCloseTo(Math.sqrt(3), 12);
    expect(eurosat?.[1]?.std).toBeCloseTo(Math.sqrt(7), 12);
  });

  it('computes the alpha-beta heatmap, leaving out the cell without results', async () => {
    const view = (await get<View & { x: string; y: string }>('/api/sweeps/alphabeta-demo/views/alpha-beta')).body;
    expect(view).toMatchObject({ kind: 'heatmap', x: 'alpha', y: 'beta', missing: 1 });
    expect(view.panels.map((p) => p.title)).toEqual(['dpt (average over datasets)']);
    const points = (view.panels[0]?.series[0]?.points ?? []) as Array<Point & { y: number }>;
    const byCell = Object.fromEntries(points.map((p) => [`${p.x}/${p.y}`, p]));
    expect(Object.keys(byCell).sort()).toEqual(Object.keys(ALPHA_BETA_CORRECT).sort());
    expect(byCell['0.1/0.1']?.mean).toBe(71);
    expect(byCell['0.1/0.5']?.mean).toBe(75);
    expect(byCell['0.5/0.1']?.mean).toBe(79);
    for (const point of points) expect(point.std).toBeCloseTo(Math.SQRT2, 12);
  });

  it('draws parallel coordinates over the varying factors plus top-1, one line per finished trial', async () => {
    const fewshot = (await get<Parallel>('/api/sweeps/fewshot-demo/parallel')).body;
    expect(fewshot.axes).toEqual([
      { name: 'method', type: 'category', values: ['coop', 'dpt'] },
      { name: 'dataset', type: 'category', values: ['dtd', 'eurosat'] },
      { name: 'shots', type: 'category', values: [1, 16] },
      { name: 'top1', type: 'value' },
    ]);
    // 16 planned, one failed: 15 lines; their top-1 sums to 2 × (260 + 240) − 46 (the failed coop/dtd/1 seed 2).
    expect(fewshot).toMatchObject({ total: 15, truncated: false });
    expect(fewshot.lines).toHaveLength(15);
    expect(fewshot.lines.reduce((sum, line) => sum + (line[3] as number), 0)).toBeCloseTo(954, 9);
    expect(fewshot.lines.filter((line) => line[0] === 'coop' && line[1] === 'dtd' && line[2] === 1)).toEqual([
      ['coop', 'dtd', 1, 44],
    ]);

    const length = (await get<Parallel>('/api/sweeps/length-demo/parallel')).body;
    expect(length.axes.map((axis) => axis.name)).toEqual(['dataset', 'cavptLength', 'top1']);
    expect(length.lines).toHaveLength(12);
    const alphaBeta = (await get<Parallel>('/api/sweeps/alphabeta-demo/parallel')).body;
    expect(alphaBeta.axes.map((axis) => axis.name)).toEqual(['alpha', 'beta', 'top1']);
    // The two pending trials of the α 0.5 β 0.5 cell have no line.
    expect(alphaBeta.lines.map((line) => line[2]).sort()).toEqual([70, 72, 74, 76, 78, 80]);

    const capped = (await get<Parallel>('/api/sweeps/fewshot-demo/parallel?limit=5')).body;
    expect(capped).toMatchObject({ total: 15, truncated: true });
    // Every third of the 15 lines in id order: an evenly spaced sample, not the first five.
    expect(capped.lines).toEqual([0, 3, 6, 9, 12].map((i) => fewshot.lines[i]));
    const four = (await get<Parallel>('/api/sweeps/fewshot-demo/parallel?limit=4')).body;
    expect(four.lines).toEqual([0, 4, 8, 12].map((i) => fewshot.lines[i]));
    for (const bad of ['limit=0', 'limit=10001', 'limit=abc', 'limit=1&limit=2', 'colour=red']) {
      const response = await get(`/api/sweeps/fewshot-demo/parallel?${bad}`);
      expect(response.status, bad).toBe(400);
    }
    expect((await get('/api/sweeps/nope/parallel')).status).toBe(404);
  });

  it('maps every planned cell by how many of its seeds have a result', async () => {
    const fewshot = (await get<Coverage>('/api/sweeps/fewshot-demo/missing-cells')).body;
    expect(fewshot).toMatchObject({
      rowFactors: ['method'],
      columnFactors: ['dataset', 'shots'],
      rows: ['coop', 'dpt'],
      columns: ['dtd 1-shot', 'dtd 16-shot', 'eurosat 1-shot', 'eurosat 16-shot'],
      missing: 0,
      partial: 1,
    });
    expect(fewshot.cells).toHaveLength(8);
    expect(fewshot.cells.filter((cell) => cell.n < cell.expectedN)).toEqual([
      { row: 0, column: 0, n: 1, expectedN: 2 },
    ]);

    const length = (await get<Coverage>('/api/sweeps/length-demo/missing-cells')).body;
    expect(length.rows).toEqual(['dpt cavptLength=1', 'dpt cavptLength=10']);
    expect(length.columns).toEqual(['dtd', 'eurosat']);
    expect(length.cells.map((cell) => `${cell.n}/${cell.expectedN}`)).toEqual(['3/3', '3/3', '3/3', '3/3']);

    const alphaBeta = (await get<Coverage>('/api/sweeps/alphabeta-demo/missing-cells')).body;
    expect(alphaBeta.rows).toEqual([
      'dpt alpha=0.1 beta=0.1',
      'dpt alpha=0.1 beta=0.5',
      'dpt alpha=0.5 beta=0.1',
      'dpt alpha=0.5 beta=0.5',
    ]);
    expect(alphaBeta.columns).toEqual(['eurosat']);
    expect(alphaBeta).toMatchObject({ missing: 1, partial: 0 });
    expect(alphaBeta.cells.filter((cell) => cell.n === 0)).toEqual([{ row: 3, column: 0, n: 0, expectedN: 2 }]);
    expect((await get('/api/sweeps/fewshot-demo/missing-cells?x=1')).status).toBe(400);
  });

  it('refuses a view whose factor the sweep did not vary, listing the available ones', async () => {
    const notSwept = await get('/api/sweeps/length-demo/views/fewshot');
    expect(notSwept.status).toBe(400);
    expect(notSwept.body.error).toBe(
      'view fewshot needs a factor this sweep did not vary; available views: cavpt-length',
    );
    const unknown = await get('/api/sweeps/length-demo/views/pie');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/^unknown view pie; views: fewshot, cavpt-depth/);
  });

  it('serves learning curves', async () => {
    const trialId = seeded.fewshotTrials['dpt/eurosat/16/1'] as string;
    const { body } = await get(`/api/trials/${trialId}/curve`);
    expect(body.epochs).toEqual(CURVE);
    expect((await get('/api/trials/t_missing/curve')).status).toBe(404);
  });

  it('answers malformed escapes in the path and prototype-named query keys with 400', async () => {
    for (const path of ['/api/sweeps/%', '/api/sweeps/%E0%A4%A', '/api/sweeps/fewshot-demo/%zz/trials']) {
      const { status, body } = await get(path);
      expect(status, path).toBe(400);
      expect(body.error).toMatch(/^malformed percent-encoding/);
    }
    for (const key of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      const { status, body } = await get(`/api/sweeps/fewshot-demo/trials?${key}=1`);
      expect(status, key).toBe(400);
      expect(body.error).toMatch(new RegExp(`^unknown query parameter ${key}; known: page`));
    }
  });

  it('answers only Host names of its loopback binding, against DNS rebinding', async () => {
    const port = new URL(server.url).port;
    // fetch() may not set Host; node:http may. (A request without Host is refused by node:http itself.)
    const withHost = (host: string) =>
      new Promise<{ status: number; body: Body }>((resolve, reject) => {
        const req = request(`${server.url}/api/sweeps`, { headers: { host } }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Body }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const host of [`127.0.0.1:${port}`, '127.0.0.1', `localhost:${port}`, 'LOCALHOST', `[::1]:${port}`]) {
      expect((await withHost(host)).status, host).toBe(200);
    }
    for (const host of ['evil.example', `evil.example:${port}`, '10.0.0.1', 'localhost.evil.example', '[::1']) {
      const { status, body } = await withHost(host);
      expect(status, host).toBe(421);
      expect(body.error).toMatch(/is not a name of this dashboard; use 127\.0\.0\.1$/);
    }
  });

  it('on a wildcard binding answers IP literals, localhost, the hostname and names it is given', async () => {
    const { hostChecker } = await import('../../../dashboards/host-check.ts');
    const { hostname } = await import('node:os');
    const allowed = hostChecker('0.0.0.0', ['dash.lab.example']);
    for (const host of ['10.1.2.3:8321', '[fe80::1]', 'localhost', hostname(), 'dash.lab.example:80']) {
      expect(allowed(host), host).toBe(true);
    }
    for (const host of ['evil.example', '10.1.2.3.evil.example', undefined, 'a b']) expect(allowed(host)).toBe(false);
    expect(hostName('[::1]:80')).toBe('::1');
    expect(hostName('Example.COM.:1')).toBe('example.com');
  });

  it('is read-only and serves only its own files', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const response = await fetch(`${server.url}/api/sweeps`, { method });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET, HEAD');
    }
    const page = await fetch(`${server.url}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect((await fetch(`${server.url}/vendor/echarts.js`)).status).toBe(200);
    expect((await fetch(`${server.url}/../package.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/static/app.js`)).status).toBe(404);
  });
});
