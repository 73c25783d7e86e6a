import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeTrainerExit } from '../../../activities/trainer-exit.ts';
import { planSweep } from '../../../sweep/plan.ts';
import { parseSweepObject } from '../../../sweep/schema.ts';
import { TrainerPool } from '../../../trainer-host/pool.ts';
import { writeTinyDataset } from '../../support/tiny-dataset.ts';
import { tinyBase } from './harness.ts';

describe('a trainer process killed mid-trial', () => {
  const pool = new TrainerPool([undefined]);
  let dir: string | undefined;
  afterAll(async () => {
    await pool.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is reported with the signal that killed it, not with the backend notice it last printed', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dpt-trainer-exit-'));
    const dataRoot = path.join(dir, 'data');
    await writeTinyDataset({
      root: dataRoot,
      classes: ['red', 'green', 'blue'],
      perClass: { train: 4, val: 1, test: 3 },
    });
    const plan = planSweep(
      parseSweepObject({
        name: 'trainer-exit',
        base: { ...tinyBase(dataRoot), method: 'dpt' },
        datasets: ['eurosat'],
        shots: [2],
        seeds: [1],
      }),
    );
    // The trainer hangs at its first training image (trainer-host/test-hooks.ts), alive, after printing the
    // backend notice: the moment to kill it from outside, as the OOM killer or an operator would.
    const marker = path.join(dir, 'hang-once');
    process.env.DPT_TEST_TRAINER_HANG_ONCE = marker;
    try {
      const running = pool.run(
        { type: 'start', config: plan.trials[0]!.config, checkpointEvery: 0 },
        { onMessage: async () => {}, signal: new AbortController().signal },
      );
      const deadline = Date.now() + 100_000;
      while (!existsSync(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const [pid] = pool.livePids();
      expect(pid).toBeDefined();
      process.kill(pid!, 'SIGKILL');
      const exit = await running;
      expect(exit).toMatchObject({ finished: false, exitSignal: 'SIGKILL' });
      expect(exit.stderrTail.trim().split('\n').at(-1)).toMatch(/^dpt-sweep: TF\.js backend /);
      expect(describeTrainerExit(exit)).toBe('trainer process killed by SIGKILL without a result');
    } finally {
      delete process.env.DPT_TEST_TRAINER_HANG_ONCE;
    }
  });
});
