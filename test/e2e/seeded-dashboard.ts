/// <reference lib="dom" />
import { mkdirSync, rmSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { type DashboardServer, startDashboard } from '../../dashboards/server.ts';
import { openDatabase } from '../../db/client.ts';
import type { Queryable } from '../../db/migrate.ts';
import { createScratchPostgres } from '../integration/db/backends.ts';
import { launchChromium } from '../support/chromium.ts';

export const ARTIFACTS = 'test-artifacts';

export interface SeededDashboard {
  /** the dashboard's base URL */
  url(): string;
  page(): Page;
  /** uncaught errors of the page's scripts */
  pageErrors: string[];
}

/**
 * For the enclosing describe block: a scratch database filled by `seed`, the dashboard on it, and headless Chromium
 * with one page, all torn down after its tests.
 */
export function useSeededDashboard(seed: (db: Queryable) => Promise<unknown>, tag: string): SeededDashboard {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>> | undefined;
  let db: Awaited<ReturnType<typeof openDatabase>> | undefined;
  let server: DashboardServer | undefined;
  let profile: string | undefined;
  let context: Awaited<ReturnType<typeof launchChromium>>['context'] | undefined;
  let page: Page | undefined;
  const pageErrors: string[] = [];
  beforeAll(async () => {
    scratch = await createScratchPostgres();
    db = await openDatabase({ url: scratch.url, migrations: 'apply' });
    await seed(db.pool);
    server = await startDashboard({ db, port: 0, temporalUiUrl: 'http://127.0.0.1:1/', temporalNamespace: 'default' });
    mkdirSync(ARTIFACTS, { recursive: true });
    ({ context, profile } = await launchChromium(`dpt-chromium-${tag}-`));
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
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is set up in beforeAll; use it inside a test`);
    return value;
  };
  return { url: () => ready(server, 'the dashboard').url, page: () => ready(page, 'the page'), pageErrors };
}
