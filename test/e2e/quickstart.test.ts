import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../db/client.ts';
import { createScratchPostgres } from '../integration/db/backends.ts';
import { realPostgresUrl } from '../support/env.ts';

/**
 * The README's main job, reduced (one shot setting, two seeds, one epoch; every method, task and CAVPT-length arm),
 * through the real CLI on a fresh state folder: the embedded Temporal dev server and in-process workers, as on a
 * fresh clone. The results go to a scratch database on the suite's PostgreSQL server when there is one (CI), else to
 * the embedded PGlite. The suite's shared Temporal server is not used: its orchestrator queue is polled by the
 * orchestration tests' workers, each bound to its own scratch database.
 */
const run = promisify(execFile);
const SWEEP = 'test/fixtures/sweeps/quickstart-reduced.yaml';
// The shipped pretrained CLIP, as the README's command uses it.
const MODEL = 'examples/models/synth-clip';
const METHODS = ['zeroshot', 'coop', 'vpt', 'vlp', 'dpt'];
const TASKS = ['synth_shape', 'synth_target'];
const TRIALS = 6 * 2 * 2;

let home: string;
let env: NodeJS.ProcessEnv;
let dropDatabase: (() => Promise<void>) | undefined;

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'dpt-quickstart-'));
  env = { ...process.env, DPT_HOME: home };
  delete env.TEMPORAL_ADDRESS;
  delete env.DATABASE_URL;
  if (realPostgresUrl !== undefined) {
    const scratch = await createScratchPostgres();
    const db = await openDatabase({ url: scratch.url, migrations: 'apply' });
    await db.close();
    env.DATABASE_URL = scratch.url;
    dropDatabase = scratch.drop;
  }
});

afterAll(async () => {
  await dropDatabase?.();
  rmSync(home, { recursive: true, force: true });
});

async function quickstart(...extra: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(
    process.execPath,
    ['bin/dpt-sweep.js', 'quickstart', '--no-dashboard', '--epochs', '1', '--sweep', SWEEP, '--model', MODEL, ...extra],
    { env, encoding: 'utf8', timeout: 280_000, maxBuffer: 16 * 1024 * 1024 },
  );
}

/** The rows of the table whose caption contains `title`: each line up to the blank line that ends it. */
function table(stdout: string, title: string): { header: string; rows: string[] } {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.includes(title));
  expect(start, `no table titled ${title} in:\n${stdout}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, i) => i > start && line.trim() === '');
  return { header: lines[start + 1] ?? '', rows: lines.slice(start + 3, end) };
}

const ENTRY = /\d+\.\d ± \d+\.\d \(2\)/g;

describe('dpt-sweep quickstart (reduced)', () => {
  it('runs every method on every task, prints the tables, then reuses every trial on a second run', async () => {
    const first = await quickstart();
    expect(first.stderr).toContain(`writing the synthetic tasks (shape, target-shape) to ${home}`);
    expect(first.stdout).toContain(`0 of ${TRIALS} trials reused from earlier runs, ${TRIALS} trained now`);
    expect(first.stdout).toMatch(/^succeeded: /m);

    const fewshot = table(first.stdout, 'Few-shot classification');
    for (const task of TASKS) expect(fewshot.header).toContain(task);
    expect(fewshot.rows.map((row) => row.split(/\s+/)[0]).sort()).toEqual([...METHODS].sort());
    // Every (method, task) entry holds a mean ± std over the two seeds.
    for (const row of fewshot.rows) expect(row.match(ENTRY), row).toHaveLength(TASKS.length);

    const length = table(first.stdout, 'CAVPT length');
    expect(length.rows.map((row) => row.split(/\s+/)[0])).toEqual(['0', '6']);
    for (const row of length.rows) expect(row.match(ENTRY), row).toHaveLength(TASKS.length);
    expect(first.stdout).toMatch(/^total wall time \d+\.\d s$/m);
    // Figure 1: zero-shot CLIP, CoOp and DPT (class token and class-aware prompts) on four synth_target images.
    const figure = first.stdout.match(/^attention maps \(the paper's Figure 1\): (.+\.png)$/m)?.[1];
    expect(figure, first.stdout).toBe(
      path.join(home, `${first.stdout.match(/^(quickstart-reduced-[\w-]+): \d+ trials$/m)?.[1]}-attention.png`),
    );
    const drawn = await sharp(figure as string).metadata();
    expect(drawn.format).toBe('png');
    expect(drawn.width).toBeGreaterThan(4 * 144);
    expect(first.stderr).toContain('attention maps: 3 of 3 trials computed now');

    const second = await quickstart();
    expect(second.stderr).toContain(`using the synthetic tasks in ${path.join(home, 'quickstart-data')}`);
    expect(second.stdout).toContain(`${TRIALS} of ${TRIALS} trials reused from earlier runs, 0 trained now`);
    // Same trials, same results: the tables are identical.
    expect(table(second.stdout, 'Few-shot classification')).toEqual(fewshot);
    expect(table(second.stdout, 'CAVPT length')).toEqual(length);
    expect(second.stderr).toContain('attention maps: 0 of 3 trials computed now, the others read back');
  }, 600_000);

  it('names a missing model directory in one line, before starting anything', async () => {
    const missing = path.join(home, 'no-model');
    const failed = await quickstart('--model', missing).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).not.toBe(0);
    expect(failed?.stderr.trim()).toBe(
      `dpt-sweep: no CLIP model at ${missing} (config.json missing): pass --model <dir> with a CLIP in the Hugging Face layout (config.json, model.safetensors, tokenizer.json)`,
    );
  });
});
