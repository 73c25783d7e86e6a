/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type DashboardServer, startDashboard } from '../../dashboards/server.ts';
import { type Database, openDatabase } from '../../db/client.ts';
import { seedSearch } from '../integration/dashboard/seed-search.ts';
import { createScratchPostgres } from '../integration/db/backends.ts';
import { CHROMIUM, hasChromium, launchChromium } from '../support/chromium.ts';
import { describeWith, realPostgresUrl } from '../support/env.ts';

const ARTIFACTS = 'test-artifacts';

describeWith(
  'Chromium',
  hasChromium() && realPostgresUrl !== undefined,
  `${CHROMIUM} or DATABASE_URL missing`,
)('a search sweep in headless Chromium', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  let db: Database;
  let server: DashboardServer;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    scratch = await createScratchPostgres();
    db = await openDatabase({ url: scratch.url, migrations: 'apply' });
    await seedSearch(db.pool);
    server = await startDashboard({ db, port: 0, temporalUiUrl: 'http://127.0.0.1:1/', temporalNamespace: 'default' });
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ context, profile } = await launchChromium('dpt-chromium-search-'));
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

  it('shows the rungs, the saving, the best configuration, the leaderboard and the importance bars', async () => {
    await page.goto(`${server.url}/#/sweeps/sh-demo`);
    const section = page.locator('section.search');
    await section.locator('#search-importance .importance-row').first().waitFor({ timeout: 30_000 });
    // Hand-computed in seed-search.ts.
    expect(await section.locator('#search-rungs tbody tr').allInnerTexts()).toEqual([
      '1\t1\t4\t2',
      '2\t2\t2\tfinished',
    ]);
    expect(await section.locator('#search-epochs').textContent()).toBe(
      'epochs trained: 12 of 16 for every configuration in full (25% saved)',
    );
    expect(await section.locator('#search-best').textContent()).toBe(
      'best so far: #3 lr=0.1 alpha=1 · val 79.0 ± 1.4 (2) · test 73.0 ± 2.8 (2) after 2 epochs',
    );
    const rows = section.locator('#search-configurations tbody tr');
    expect(await rows.count()).toBe(4);
    expect(await rows.first().getAttribute('class')).toBe('best');
    expect(await rows.nth(3).locator('td').nth(4).textContent()).toBe('stopped at 1 epoch');
    expect(
      await section
        .locator('#search-importance .importance-row')
        .evaluateAll((nodes) =>
          nodes.map((n) => [(n as HTMLElement).dataset.axis, n.querySelector('.importance-value')?.textContent]),
        ),
    ).toEqual([
      ['alpha', '0.87'],
      ['lr', '0.13'],
    ]);
    expect(await page.locator('nav.jump a').first().textContent()).toBe('search');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-search.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
