/**
 * Saves a PNG of a running dashboard page, for the README: headless Debian Chromium, waits until the sweep page has
 * drawn its charts. Usage: npx tsx tools/screenshot-dashboard.ts <url> <out.png> [--width 1400] [--element <css>]
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
  // A sweep page is ready when its trial table has rows and every visible chart reported that it rendered.
  await page.waitForSelector('#trial-table tbody tr, #sweeps tbody tr', { timeout: 30_000 });
  await page.waitForFunction(
    () => {
      const shown = [...document.querySelectorAll<HTMLElement>('.chart')].filter((c) => c.offsetParent !== null);
      return shown.length > 0 && shown.every((c) => c.dataset.rendered === 'true');
    },
    undefined,
    { timeout: 30_000 },
  );
  if (values.element) await page.locator(values.element).first().screenshot({ path: out });
  else await page.screenshot({ path: out, fullPage: false });
  process.stdout.write(`wrote ${out}\n`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
