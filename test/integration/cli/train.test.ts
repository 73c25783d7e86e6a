import { execFile } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { corruptImage, writeTinyDataset } from '../../support/tiny-dataset.ts';
import { TINY_CLIP_DIR } from '../../support/tiny-task.ts';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../../..');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      cwd: repo,
      env: { ...process.env, DPT_BACKEND: 'wasm' },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('dpt-sweep train (real files: generated CoOp-layout dataset, tiny CLIP fixture)', () => {
  let dir: string;
  let trial: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dpt-train-'));
    await writeTinyDataset({
      root: path.join(dir, 'data'),
      classes: ['red', 'green', 'blue'],
      perClass: { train: 4, val: 1, test: 3 },
    });
    trial = path.join(dir, 'trial.yaml');
    await writeFile(
      trial,
      YAML.stringify({
        method: 'dpt',
        dataset: 'eurosat',
        root: path.join(dir, 'data'),
        shots: 2,
        seed: 1,
        model: TINY_CLIP_DIR,
        preset: 'none',
        text: { nCtx: 4 },
        vpt: { length: 2 },
        cavpt: { kN: 2 },
        loss: { warmupEpochs: 1 },
        optim: { epochs: 2, lrWarmupEpochs: 0 },
      }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('trains, evaluates and prints the machine-readable result', async () => {
    const { code, stdout, stderr } = await cli(['train', trial, '--json', '--set', 'seed=2']);
    expect(stderr).toMatch(/epoch 2\/2 loss/);
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.config.seed).toBe(2);
    expect(out.backend).toBe('wasm');
    expect(out.epochs).toHaveLength(2);
    expect(out.results).toEqual([
      {
        evalDataset: 'eurosat',
        classSubset: 'all',
        split: 'test',
        top1: expect.any(Number),
        correct: expect.any(Number),
        total: 9,
      },
    ]);
  });

  it('rejects bad config keys with their path, and K_N < 0', async () => {
    const bad = await cli(['train', trial, '--set', 'cavpt.kN=-1', '--set', 'method=cocoop']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/method: .*expected one of/);
    expect(bad.stderr).toMatch(/cavpt\.kN: Too small/);
    expect(bad.stdout).toBe('');
  });

  it("refuses a config that trains nothing or does not fit the model, with the planner's messages, before training", async () => {
    const bad = await cli(['train', trial, '--set', 'optim.epochs=0', '--set', 'cavpt.layers=3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trimEnd().split('\n')).toEqual([
      `dpt-sweep: ${trial}: invalid trial config: cavpt.layers: expected an integer <= 2, the model's vision blocks, got 3; optim.epochs: expected an integer >= 1 for method dpt, got 0: a trial of 0 epochs trains nothing`,
    ]);
    expect(bad.stdout).toBe('');
  });

  it('exits non-zero with one line naming a truncated image, printing no result', async () => {
    const data = path.join(dir, 'bad-data');
    const tiny = await writeTinyDataset({
      root: data,
      classes: ['red', 'green', 'blue'],
      perClass: { train: 4, val: 1, test: 3 },
    });
    // Every test image is evaluated, whichever few-shot picks the seed makes.
    const broken = path.join(tiny.imageDir, tiny.relpaths.test[0] as string);
    await corruptImage(broken, 'truncated');
    const r = await cli(['train', trial, '--json', '--set', `root=${data}`]);
    expect(r.code).toBe(2);
    // Progress (the backend, one line per epoch) comes first; the error is the one line after it.
    const lines = r.stderr
      .trimEnd()
      .split('\n')
      .filter((line) => !line.startsWith('epoch ') && !line.startsWith('dpt-sweep: TF.js backend'));
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]?.startsWith(`dpt-sweep: ${broken} is not a readable image (`)).toBe(true);
    expect(lines[0]).toMatch(/\); replace the file or remove it from the split file$/);
    expect(r.stderr).not.toContain('unexpected error');
    expect(r.stdout).toBe('');
  });

  it('exits non-zero on a NaN/Inf loss and on missing images, printing no result', async () => {
    const nan = await cli(['train', trial, '--json', '--set', 'optim.lrVisual=1e38']);
    expect(nan.code).not.toBe(0);
    expect(nan.stderr).toMatch(/loss became (NaN|Infinity|-Infinity) at epoch/);
    expect(nan.stdout).toBe('');
    const ds = path.join(dir, 'data', 'eurosat', '2750');
    const { readdir } = await import('node:fs/promises');
    const firstClass = (await readdir(ds))[0]!;
    const firstImage = (await readdir(path.join(ds, firstClass)))[0]!;
    await unlink(path.join(ds, firstClass, firstImage));
    const missing = await cli(['train', trial, '--json']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/missing/);
    expect(missing.stdout).toBe('');
  });
});
