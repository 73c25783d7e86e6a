/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { seedSearch } from '../integration/dashboard/seed-search.ts';
import { CHROMIUM, hasChromium } from '../support/chromium.ts';
import { describeWith, realPostgresUrl } from '../support/env.ts';
import { ARTIFACTS, useSeededDashboard } from './seeded-dashboard.ts';

describeWith(
  'Chromium',
  hasChromium() && realPostgresUrl !== undefined,
  `${CHROMIUM} or DATABASE_URL missing`,
)('a search sweep in headless Chromium', () => {
  const dashboard = useSeededDashboard(seedSearch, 'search');

  it('shows the rungs, the saving, the best configuration, the leaderboard and the importance bars', async () => {
    const page = dashboard.page();
    await page.goto(`${dashboard.url()}/#/sweeps/sh-demo`);
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
    expect(dashboard.pageErrors).toEqual([]);
  });
});
