import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { expect, it } from 'vitest';

const HISTORIES = path.resolve('test/fixtures/histories');
const WORKFLOWS = fileURLToPath(new URL('../../../workflows/index.ts', import.meta.url));

/**
 * Recorded histories of real sweeps (refresh with DPT_RECORD_HISTORIES=1 after a deliberate, versioned change) must
 * replay on today's workflow code: a change that breaks determinism fails here instead of in a running sweep.
 */
it('replays every committed sweep history without a determinism error', async () => {
  const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThan(0);
  const histories = files.map((file) => ({
    workflowId: file.replace(/\.json$/, ''),
    history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'))),
  }));
  const results = Worker.runReplayHistories({ workflowsPath: WORKFLOWS }, histories);
  let replayed = 0;
  for await (const result of results) {
    expect(result.error, `${result.workflowId}: ${String(result.error)}`).toBeUndefined();
    replayed += 1;
  }
  expect(replayed).toBe(files.length);
});
