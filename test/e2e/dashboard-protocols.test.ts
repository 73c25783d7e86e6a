/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { seedBaseToNovel } from '../integration/dashboard/seed-protocols.ts';
import { CHROMIUM, hasChromium } from '../support/chromium.ts';
import { describeWith, realPostgresUrl } from '../support/env.ts';
import { ARTIFACTS, useSeededDashboard } from './seeded-dashboard.ts';

describeWith(
  'Chromium',
  hasChromium() && realPostgresUrl !== undefined,
  `${CHROMIUM} or DATABASE_URL missing`,
)('a base-to-novel sweep in headless Chromium', () => {
  const dashboard = useSeededDashboard(seedBaseToNovel, 'b2n');

  it('shows base / novel / HM with the average rows, the published numbers, the seed warning and the bars', async () => {
    const page = dashboard.page();
    await page.goto(`${dashboard.url()}/#/sweeps/b2n-demo`);
    const table = page.locator('table.paper-table[data-view="base-to-novel"]');
    await table.waitFor({ timeout: 30_000 });
    expect(await table.locator('thead th').allTextContents()).toEqual(['dataset', 'method', 'base', 'novel', 'HM']);
    const average = table.locator('tbody tr[data-method="coop"]').first();
    expect(await average.locator('td').first().textContent()).toBe('average');
    // Hand-computed in seed-protocols.ts: coop averages 79.5 / 44.5, HM 57.06; MaPLe's README prints 82.69 / 63.22.
    const [base, novel, hmCell] = await average.locator('td.num').allTextContents();
    expect(base).toContain('79.5 (2)');
    expect(base).toContain('pub 82.69 [2] (Δ -3.2)');
    expect(novel).toContain('pub 63.22');
    expect(hmCell).toMatch(/^57\.1 \(2\)/);
    const notes = page.locator('figure.paper[data-view="base-to-novel"] p[data-note="seeds"]');
    expect(await notes.first().textContent()).toBe('seeds: 1, 2 (2 planned per cell)');
    expect(await notes.nth(1).getAttribute('class')).toContain('warning');
    expect(await page.locator('ol.sources li').first().textContent()).toContain('MaPLe README');

    const bars = page.locator('section[data-view="base-to-novel"] .chart');
    await page.waitForFunction(
      () => {
        const nodes = [...document.querySelectorAll<HTMLElement>('section[data-view="base-to-novel"] .chart')];
        return nodes.length > 0 && nodes.every((node) => node.dataset.rendered === 'true');
      },
      undefined,
      { timeout: 20_000 },
    );
    // Average, dtd, eurosat; two methods with base, novel and HM each.
    expect(await bars.count()).toBe(3);
    expect(await bars.first().getAttribute('data-points')).toBe('6');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-base-to-novel.png'), fullPage: true });
    expect(dashboard.pageErrors).toEqual([]);
  });
});
