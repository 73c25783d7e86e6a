import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { obtainTemporal } from '../worker/dev/temporal-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
  }
}

/**
 * One real Temporal server for the whole run: TEMPORAL_ADDRESS if set, else a dev server from the Temporal CLI
 * (`.ci/run` builds it). Integration tests use their own task queues, so they can share it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dpt-temporal-'));
  const server = await obtainTemporal({
    dataDir,
    allowSdkDownload: process.env.CI !== 'true',
    log: (line) => process.stderr.write(`[global-setup] ${line}\n`),
    // Sweeps of many trials must continue-as-new in tests without running thousands of activities.
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 300 },
  });
  process.stderr.write(`[global-setup] Temporal (${server.source}) at ${server.address}\n`);
  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', server.namespace);
  return async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
