/**
 * Saves a PNG of a running dashboard page, for the README: headless Debian Chromium, waits until the sweep page has
 * drawn its charts. Usage: npx tsx tools/screenshot-dashboard.ts <url> <out.png> [--width 1400] [--full] [--element <css>]
 * (`--element 'section[data-view="fewshot"]'` captures one part of the page instead of the window).
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { launchChromium } from '../test/support/chromium.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    width: { type: 'string', default: '1400' },
    height: { type: 'string', default: '1000' },
    full: { type: 'boolean', default: false },
    element: { type: 'string' },
  },
});
const [url, out] = positionals;
if (url === undefined || out === undefined) {
  process.stderr.write('usage: npx tsx tools/screenshot-dashboard.ts <url> <out.png> [--width N] [--height N]\n');
  process.exit(2);
}

const { context, profile } = await launchChromium('dpt-screenshot-');
try {
  const page = await context.newPage();
  await page.setViewportSize({ width: Number(values.width), height: Number(values.height) });
  await page.goto(url);
  // A page is ready when its parts say they loaded (sweep page: tables, views, overview; compare page: its views;
  // trial page: its charts) and every visible chart reported that it rendered.
  await page.waitForFunction(
    () => {
      const flags = ['#tables', '#views', '#overview', '#compare-views']
        .map((sel) => document.querySelector<HTMLElement>(sel))
        .filter((node) => node !== null);
      const list = document.querySelector('#sweeps tbody tr') !== null;
      const trial = document.querySelector('#trial-page') !== null;
      if (flags.length === 0 && !list && !trial) return false;
      if (!flags.every((node) => node.dataset.loaded === 'true')) return false;
      const shown = [...document.querySelectorAll<HTMLElement>('.chart')].filter((c) => c.offsetParent !== null);
      return shown.every((c) => c.dataset.rendered === 'true');
    },
    undefined,
    { timeout: 60_000 },
  );
  if (values.element) await page.locator(values.element).first().screenshot({ path: out });
  else await page.screenshot({ path: out, fullPage: values.full });
  process.stdout.write(`wrote ${out}\n`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
