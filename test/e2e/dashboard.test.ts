/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DashboardServer, startDashboard } from '../../dashboards/server.ts';
import { saveAttentionMaps } from '../../db/attention.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { type Seeded, seedDashboard } from '../integration/dashboard/seed.ts';
import { createScratchPostgres } from '../integration/db/backends.ts';
import { CHROMIUM, hasChromium, launchChromium } from '../support/chromium.ts';
import { describeWith, realPostgresUrl } from '../support/env.ts';

const ARTIFACTS = 'test-artifacts';

interface ChartState {
  chartId: string;
  series: number;
  points: number;
  errorBars: number;
}

/** What each chart container of a view published once ECharts finished drawing it. */
async function charts(page: Page, view: string): Promise<ChartState[]> {
  const selector = `section[data-view="${view}"] .chart`;
  await page.waitForFunction(
    (sel) => {
      const nodes = [...document.querySelectorAll<HTMLElement>(sel)];
      return nodes.length > 0 && nodes.every((node) => node.dataset.rendered === 'true');
    },
    selector,
    { timeout: 20_000 },
  );
  return page.$$eval(selector, (nodes) =>
    nodes.map((node) => {
      const data = (node as HTMLElement).dataset;
      return {
        chartId: data.chartId ?? '',
        series: Number(data.series),
        points: Number(data.points),
        errorBars: Number(data.errorBars),
      };
    }),
  );
}

/** The state a chart published in window.__charts (axes, missing cells... beyond the data attributes). */
const published = (page: Page, id: string) =>
  page.evaluate((chartId) => (window as unknown as { __charts: Record<string, unknown> }).__charts[chartId], id);

const tableRows = (page: Page) => page.locator('#trial-table tbody tr');

/** One cell of `dpt-sweep results --format json`. */
interface CliEntry {
  mean: number | null;
  std: number | null;
  n: number;
  expectedN: number;
  best: boolean;
}
interface CliPivot {
  rows: Array<{ key: Record<string, unknown>; cells: Record<string, CliEntry | null> }>;
}

/** The CLI's own answer for the same database: what every dashboard table must show. */
async function cliPivot(url: string, sweep: string, view?: string): Promise<CliPivot> {
  const args = ['bin/dpt-sweep.js', 'results', sweep, '--format', 'json', ...(view ? ['--view', view] : [])];
  const { stdout } = await promisify(execFile)(process.execPath, args, { env: { ...process.env, DATABASE_URL: url } });
  return JSON.parse(stdout) as CliPivot;
}

/** The CLI's numbers as a table cell reads them: "mean ± std (n)", "n/planned" when incomplete. */
function cellText(entry: CliEntry): string {
  const count = entry.n === entry.expectedN ? `${entry.n}` : `${entry.n}/${entry.expectedN}`;
  if (entry.mean === null) return `— (${count})`;
  return `${entry.mean.toFixed(1)}${entry.std === null ? '' : ` ± ${entry.std.toFixed(1)}`} (${count})`;
}

const rowIdOf = (key: Record<string, unknown>) =>
  Object.entries(key)
    .map(([factor, value]) => `${factor}=${value === null ? 'null' : value}`)
    .join(' ');

/** The chart views a sweep page shows (its tables, parallel coordinates and missing-cell map aside). */
const shownViews = (page: Page) =>
  page
    .locator('section[data-view]')
    .evaluateAll((nodes) =>
      nodes
        .map((node) => (node as HTMLElement).dataset.view ?? '')
        .filter((view) => !['tables', 'parallel', 'missing-cells'].includes(view)),
    );

/** A sweep page has loaded when its tables, chart views and overview say so (charts may finish before others exist). */
const loaded = (page: Page) =>
  page.waitForFunction(
    () =>
      ['#tables', '#views', '#overview'].every(
        (sel) => document.querySelector<HTMLElement>(sel)?.dataset.loaded === 'true',
      ),
    undefined,
    { timeout: 30_000 },
  );

describeWith(
  'Chromium',
  hasChromium() && realPostgresUrl !== undefined,
  `${CHROMIUM} or DATABASE_URL missing`,
)('dashboard in headless Chromium', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  let db: Database;
  let server: DashboardServer;
  let seeded: Seeded;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    scratch = await createScratchPostgres();
    db = await openDatabase({ url: scratch.url, migrations: 'apply' });
    seeded = await seedDashboard(db.pool);
    server = await startDashboard({ db, port: 0, temporalUiUrl: 'http://127.0.0.1:1/', temporalNamespace: 'default' });
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ context, profile } = await launchChromium('dpt-chromium-'));
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await server?.close();
    await db?.close();
    await scratch?.drop();
  });

  it('lists the sweeps with their counts and progress', async () => {
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#sweeps tbody tr');
    // The seed's five sweeps (test/integration/dashboard/seed.ts).
    expect(await page.locator('#sweeps tbody tr').count()).toBe(5);
    const fewshot = page.locator('tr[data-sweep="fewshot-demo"]');
    expect(await fewshot.textContent()).toContain('succeeded 15');
    expect(await fewshot.textContent()).toContain('failed 1');
    expect(await fewshot.locator('a', { hasText: 'Temporal' }).getAttribute('href')).toBe(
      'http://127.0.0.1:1/namespaces/default/workflows/sweep-fewshot',
    );
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-sweeps.png'), fullPage: true });
  });

  it('shows the few-shot sweep: table, charts with error bars, learning curve', async () => {
    await page.click('a[href="#/sweeps/fewshot-demo"]');
    await page.waitForSelector('#trial-table tbody tr');
    expect(await tableRows(page).count()).toBe(16);
    // Average, dtd, eurosat; two methods each, two shot counts each; whiskers only where two seeds exist.
    expect(await charts(page, 'fewshot')).toEqual([
      { chartId: 'fewshot/0', series: 2, points: 4, errorBars: 3 },
      { chartId: 'fewshot/1', series: 2, points: 4, errorBars: 3 },
      { chartId: 'fewshot/2', series: 2, points: 4, errorBars: 4 },
    ]);

    // 15 finished trials over method × dataset × shots + top-1; 8 planned cells, one with 1 of 2 seeds.
    expect(await charts(page, 'parallel')).toEqual([{ chartId: 'parallel', series: 1, points: 15, errorBars: 0 }]);
    expect(await published(page, 'parallel')).toMatchObject({
      axes: ['method', 'dataset', 'shots', 'top1'],
      total: 15,
      truncated: false,
    });
    expect(await page.locator('section[data-view="parallel"] .chart').getAttribute('data-axes')).toBe('4');
    expect(await charts(page, 'missing-cells')).toEqual([
      { chartId: 'missing-cells', series: 1, points: 8, errorBars: 0 },
    ]);
    expect(await published(page, 'missing-cells')).toMatchObject({
      rows: 2,
      columns: 4,
      missing: [],
      partial: ['coop · dtd 1-shot: 1/2'],
    });

    await page.click(`tr[data-trial="${seeded.fewshotTrials['dpt/eurosat/16/1']}"]`);
    await page.waitForSelector('#curve[data-rendered="true"]');
    const curve = await page.evaluate(
      () => (window as unknown as { __charts: Record<string, unknown> }).__charts.curve,
    );
    expect(curve).toEqual({ kind: 'curve', series: 2, points: [5, 5], errorBars: 0 });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-fewshot.png'), fullPage: true });

    await page.selectOption('#filter-status', 'failed');
    await page.waitForFunction(() => document.querySelectorAll('#trial-table tbody tr').length === 1);
    expect(await tableRows(page).first().textContent()).toContain('CUDA out of memory');

    await page.selectOption('#filter-status', '');
    await page.waitForFunction(() => document.querySelectorAll('#trial-table tbody tr').length === 16);
    await page.click('th[data-column="top1"]');
    await page.click('th[data-column="top1"]');
    await page.waitForSelector('th[data-column="top1"][data-arrow=" ▼"]');
    // The table shows the factors this sweep varies, so top-1's position depends on the sweep: find it by its header.
    const headers = await page.locator('#trial-table th').evaluateAll((ths) => ths.map((th) => th.dataset.column));
    expect(headers).toEqual([
      'status',
      'method',
      'dataset',
      'shots',
      'seed',
      'top1',
      'durationMs',
      'attempts',
      'error',
    ]);
    expect(await tableRows(page).first().locator('td').nth(headers.indexOf('top1')).textContent()).toBe('81.00');
  });

  it('shows the CAVPT-length view of the other sweep', async () => {
    await page.goto(`${server.url}/#/sweeps/length-demo`);
    await page.waitForSelector('h1:has-text("length-demo")');
    await page.waitForSelector('#trial-table tbody tr');
    expect(await tableRows(page).count()).toBe(12);
    expect(await charts(page, 'cavpt-length')).toEqual([
      { chartId: 'cavpt-length/0', series: 1, points: 2, errorBars: 2 },
      { chartId: 'cavpt-length/1', series: 1, points: 2, errorBars: 2 },
      { chartId: 'cavpt-length/2', series: 1, points: 2, errorBars: 2 },
    ]);
    expect(await page.locator('section[data-view="fewshot"]').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-cavpt-length.png'), fullPage: true });
  });

  it('shows the alpha-beta heatmap and the missing cell of the alpha-beta sweep', async () => {
    await page.goto(`${server.url}/#/sweeps/alphabeta-demo`);
    await page.waitForSelector('h1:has-text("alphabeta-demo")');
    await page.waitForSelector('#trial-table tbody tr');
    expect(await tableRows(page).count()).toBe(8);
    // Three α×β cells have results; the fourth is planned but still pending, so it is absent here.
    expect(await charts(page, 'alpha-beta')).toEqual([{ chartId: 'alpha-beta/0', series: 1, points: 3, errorBars: 0 }]);
    expect(await charts(page, 'parallel')).toEqual([{ chartId: 'parallel', series: 1, points: 6, errorBars: 0 }]);
    expect(await published(page, 'parallel')).toMatchObject({ axes: ['alpha', 'beta', 'top1'] });
    expect(await charts(page, 'missing-cells')).toEqual([
      { chartId: 'missing-cells', series: 1, points: 4, errorBars: 0 },
    ]);
    expect(await published(page, 'missing-cells')).toMatchObject({
      rows: 4,
      columns: 1,
      missing: ['dpt alpha=0.5 beta=0.5 · eurosat'],
      partial: [],
    });
    expect(await page.locator('section[data-view="missing-cells"] .chart').getAttribute('data-missing')).toBe('1');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-alpha-beta.png'), fullPage: true });
  });

  it('shows only the views each sweep varies, its tables first', async () => {
    const expected: Record<string, string[]> = {
      'fewshot-demo': ['fewshot'],
      'length-demo': ['cavpt-length'],
      'alphabeta-demo': ['alpha-beta'],
      'mixed-demo': ['fewshot', 'cavpt-length'],
      'alpha-only-demo': [],
    };
    for (const [sweep, views] of Object.entries(expected)) {
      await page.goto(`${server.url}/#/sweeps/${sweep}`);
      await page.waitForSelector(`h1:has-text("${sweep}")`);
      await loaded(page);
      expect([sweep, await shownViews(page)]).toEqual([sweep, views]);
      const tables = await page
        .locator('table.paper-table')
        .evaluateAll((nodes) => nodes.map((node) => (node as HTMLElement).dataset.view));
      expect([sweep, tables]).toEqual([sweep, ['default', ...views]]);
      // The tables come before the charts, the trial table last.
      const order = await page.evaluate(() =>
        ['#tables', '#views', '#trial-table'].map(
          (sel) => document.querySelector(sel)?.getBoundingClientRect().top ?? -1,
        ),
      );
      expect(order[0]).toBeLessThan(order[1]!);
      expect(order[1]).toBeLessThan(order[2]!);
    }
  });

  it('shows in every table the numbers dpt-sweep results prints', async () => {
    for (const [sweep, view] of [
      ['fewshot-demo', undefined],
      ['fewshot-demo', 'fewshot'],
      ['length-demo', 'cavpt-length'],
      ['mixed-demo', undefined],
      ['mixed-demo', 'cavpt-length'],
    ] as const) {
      await page.goto(`${server.url}/#/sweeps/${sweep}`);
      await page.waitForSelector(`h1:has-text("${sweep}")`);
      await loaded(page);
      const cli = await cliPivot(scratch.url, sweep, view);
      const table = page.locator(`table.paper-table[data-view="${view ?? 'default'}"]`);
      const shown = await table.locator('td[data-dataset][data-row]:not([data-average])').evaluateAll((cells) =>
        cells.map((cell) => {
          const node = cell as HTMLElement;
          const text = (node.textContent ?? '').replace('▲', '').trim();
          return `${node.dataset.row} | ${node.dataset.dataset} | ${text} | ${node.dataset.best === 'true'}`;
        }),
      );
      const expected = cli.rows.flatMap((row) =>
        Object.entries(row.cells).map(
          ([dataset, entry]) =>
            `${rowIdOf(row.key)} | ${dataset} | ${entry === null ? '—' : cellText(entry)} | ${entry?.best === true}`,
        ),
      );
      expect([sweep, view, shown]).toEqual([sweep, view, expected]);
    }
  });

  it('draws legends that overlap neither plot nor axes, methods in one colour each', async () => {
    await page.goto(`${server.url}/#/sweeps/mixed-demo`);
    await page.waitForSelector('h1:has-text("mixed-demo")');
    await loaded(page);
    await charts(page, 'fewshot');
    await charts(page, 'cavpt-length');
    const overlaps = await page
      .locator('section[data-view] .chart[data-legend-overlap]')
      .evaluateAll((nodes) =>
        nodes.map((node) => `${(node as HTMLElement).dataset.chartId}: ${(node as HTMLElement).dataset.legendOverlap}`),
      );
    expect(overlaps.length).toBeGreaterThan(0);
    expect(overlaps.filter((entry) => !entry.endsWith(': false'))).toEqual([]);
    // Series in the paper's method order, named only by what differs between them (never "=null").
    const names = (await published(page, 'fewshot/0')) as { names: string[] };
    const order = ['zeroshot', 'coop', 'vpt', 'vlp', 'dpt'];
    const ranks = names.names.map((name) => order.indexOf(name.split(' ')[0] ?? ''));
    expect(ranks.every((rank) => rank >= 0)).toBe(true);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(names.names.filter((name) => name.includes('=null'))).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-mixed.png'), fullPage: true });
  });

  it('opens a trial page: config with what differs, attempts, curves, provenance', async () => {
    const trialId = seeded.fewshotTrials['dpt/eurosat/16/1']!;
    await page.goto(`${server.url}/#/trials/${trialId}`);
    await page.waitForSelector('#trial-page');
    await page.waitForSelector('#trial-loss[data-rendered="true"]', { timeout: 20_000 });
    await page.waitForSelector('#trial-lr[data-rendered="true"]', { timeout: 20_000 });
    const text = (await page.locator('#trial-page').textContent()) ?? '';
    for (const part of ['fewshot-demo', 'eurosat', 'succeeded']) expect(text).toContain(part);
    expect(
      await page
        .locator('#trial-page')
        .getByText(/attempt/i)
        .count(),
    ).toBeGreaterThan(0);
    expect(
      await page
        .locator('#trial-page')
        .getByText(/code version/i)
        .count(),
    ).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-trial.png'), fullPage: true });
  });

  it("draws a trial's stored attention maps over their images, the most attended patch tinted", async () => {
    const trialId = seeded.fewshotTrials['dpt/eurosat/1/1']!;
    // A grey 48-pixel image and 6 × 6 maps: the class token looks at patch (row 1, column 4), the prompts at (4, 1).
    const png = (
      await sharp({ create: { width: 48, height: 48, channels: 3, background: '#808080' } })
        .png()
        .toBuffer()
    ).toString('base64');
    const map = (hot: number) => Array.from({ length: 36 }, (_, i) => (i === hot ? 0.5 : 0.01));
    await saveAttentionMaps(db.pool, trialId, {
      dataset: 'eurosat',
      layer: 11,
      grid: 6,
      images: [
        { file: 'a.png', png, label: 'Forest', predicted: 'Forest', classToken: map(10), classAwarePrompts: map(25) },
        { file: 'b.png', png, label: 'River', predicted: 'Highway', classToken: map(10), classAwarePrompts: map(25) },
      ],
    });
    await page.goto(`${server.url}/#/trials/${trialId}`);
    await page.waitForSelector('#trial-attention canvas[data-drawn="true"]');
    const text = (await page.locator('#trial-attention').textContent()) ?? '';
    for (const part of ['vision block 11', 'Forest → Forest', 'River → Highway', 'class-aware prompts']) {
      expect(text).toContain(part);
    }
    expect(await page.locator('#trial-attention figcaption.wrong').count()).toBe(1);
    // A canvas pixel at the centre of patch (row, column): 144 px over 6 patches, 24 px each.
    const pixel = (title: string, row: number, column: number) =>
      page
        .locator(`#trial-attention canvas[data-map="${title}"]`)
        .first()
        .evaluate(
          (canvas, [x, y]) => [...(canvas as HTMLCanvasElement).getContext('2d')!.getImageData(x!, y!, 1, 1).data],
          [column * 24 + 12, row * 24 + 12],
        );
    await page.waitForFunction(
      () => document.querySelectorAll('#trial-attention canvas[data-drawn="true"]').length === 4,
    );
    const grey = [128, 128, 128, 255];
    expect(await pixel('class token', 1, 4)).not.toEqual(grey);
    expect(await pixel('class token', 4, 1)).toEqual(grey.map((v, k) => (k === 3 ? v : expect.closeTo(v, -1))));
    expect(await pixel('class-aware prompts', 4, 1)).not.toEqual(grey);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-trial-attention.png'), fullPage: true });
  });

  it('redraws the charts at a new window width, legends still clear of the plot', async () => {
    await page.goto(`${server.url}/#/sweeps/mixed-demo`);
    await page.waitForSelector('h1:has-text("mixed-demo")');
    await loaded(page);
    await charts(page, 'fewshot');
    // The drawn width of each chart of the view against its container's.
    const widths = () =>
      page.locator('section[data-view="fewshot"] .chart').evaluateAll((nodes) =>
        nodes.map((node) => {
          const canvas = node.querySelector('canvas');
          return [Math.round(node.clientWidth), Math.round(canvas?.getBoundingClientRect().width ?? -1)];
        }),
      );
    const before = await widths();
    expect(before.every(([box, drawn]) => box === drawn)).toBe(true);
    try {
      await page.setViewportSize({ width: 620, height: 1000 });
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('section[data-view="fewshot"] .chart')].every(
            (node) =>
              Math.round(node.querySelector('canvas')?.getBoundingClientRect().width ?? -1) === node.clientWidth,
          ),
        undefined,
        { timeout: 10_000 },
      );
      const after = await widths();
      expect(after.every(([box, drawn]) => box === drawn)).toBe(true);
      expect(after.map(([box]) => box)).not.toEqual(before.map(([box]) => box));
      const overlaps = await page
        .locator('section[data-view="fewshot"] .chart[data-legend-overlap]')
        .evaluateAll((nodes) => nodes.map((node) => (node as HTMLElement).dataset.legendOverlap));
      expect(overlaps.length).toBeGreaterThan(0);
      expect(overlaps.filter((overlap) => overlap !== 'false')).toEqual([]);
    } finally {
      await page.setViewportSize({ width: 1400, height: 1000 });
    }
  });

  it('compares two sweeps: the settings that differ, tables and charts side by side', async () => {
    await page.goto(`${server.url}/#/compare?sweeps=fewshot-demo,mixed-demo`);
    await page.waitForSelector('#compare-page');
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('#compare-views')?.dataset.loaded === 'true',
      undefined,
      { timeout: 30_000 },
    );
    const text = (await page.locator('#compare-page').textContent()) ?? '';
    expect(text).toContain('grid.shots');
    expect(await page.locator('#compare-page table.paper-table').count()).toBeGreaterThan(0);
    const columns = await page
      .locator('#compare-page .compare-cell')
      .evaluateAll((nodes) => [...new Set(nodes.map((node) => (node as HTMLElement).dataset.sweep))]);
    expect(columns).toEqual(['fewshot-demo', 'mixed-demo']);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-compare.png'), fullPage: true });
  });

  it('says which sweeps exist when the address names none', async () => {
    await page.goto(`${server.url}/#/sweeps/nope`);
    await page.waitForSelector('#page-error');
    expect(await page.locator('#page-error').textContent()).toBe(
      'unknown sweep nope; known sweeps: alpha-only-demo, alphabeta-demo, fewshot-demo, length-demo, mixed-demo',
    );
    expect(pageErrors).toEqual([]);
  });
});
