import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchSweep, workflowIdFor } from '../../../cli/sweeps/launch.ts';
import { initBackend } from '../../../dpt/backend.ts';
import { runTrial } from '../../../dpt/trainer/run-trial.ts';
import { parseTrialConfig } from '../../../dpt/trial-config.ts';
import type { sweepWorkflow } from '../../../workflows/sweep.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { createHarness, type Harness, spawnWorkerProcess, tinyBase } from './harness.ts';

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 120_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describeWith(
  'PostgreSQL + Temporal',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('crashed workers and cancelled sweeps', () => {
  let h: Harness;
  const processes: ChildProcess[] = [];
  beforeAll(async () => {
    h = await createHarness('crash');
  });
  afterAll(async () => {
    for (const p of processes) p.kill('SIGKILL');
    await h?.dispose();
  });

  const startWorkerProcess = (): ChildProcess => {
    const child = spawnWorkerProcess(h);
    processes.push(child);
    return child;
  };

  it('a trial whose worker is SIGKILLed finishes on another worker from its checkpoint, with the same accuracy', async () => {
    const file = await h.writeSweep('crash', {
      base: { ...tinyBase(h.dataRoot), method: 'dpt', epochs: 30 },
      datasets: ['eurosat'],
      shots: [2],
      seeds: [7],
      resources: { maxParallel: 1, taskQueue: h.gpuQueue },
    });
    const first = startWorkerProcess();
    const launched = await launchSweep(h.stack, file, { heartbeatTimeout: '4 seconds' });
    const trial = await h.stack.db.prisma.trial.findFirstOrThrow({ where: { sweepId: launched.sweepId } });
    await until('3 checkpointed epochs', async () => {
      const ckpt = await h.stack.db.prisma.checkpoint.findFirst({ where: { trialId: trial.id } });
      return (ckpt?.epoch ?? 0) >= 3;
    });
    first.kill('SIGKILL');
    const killedAt = (await h.stack.db.prisma.checkpoint.findFirstOrThrow({ where: { trialId: trial.id } })).epoch;
    expect(killedAt).toBeLessThan(30);

    startWorkerProcess();
    const result = await h.stack.client.workflow
      .getHandle<typeof sweepWorkflow>(workflowIdFor(launched.sweepId))
      .result();
    expect(result.status).toBe('succeeded');

    const done = await h.stack.db.prisma.trial.findUniqueOrThrow({
      where: { id: trial.id },
      include: { results: true, epochMetrics: true, attemptsLog: { orderBy: { attempt: 'asc' } } },
    });
    expect(done.status).toBe('succeeded');
    expect(done.attemptsLog.map((a) => a.outcome)).toEqual(['timed_out', 'succeeded']);
    // The killed attempt counts: Trial.attempts is the number of attempt rows, not the number of fresh starts.
    expect(done.attempts).toBe(2);
    expect(done.epochMetrics.map((m) => m.epoch).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i),
    );
    expect(done.results).toHaveLength(1);

    // The same trial, uninterrupted, in this process on the same backend.
    await initBackend();
    const reference = await runTrial(parseTrialConfig(done.config));
    expect(done.results[0]!.correct).toBe(reference.results[0]!.correct);
    expect(done.results[0]!.top1).toBeCloseTo(reference.results[0]!.top1, 10);
    // The resumed epochs reproduce the uninterrupted run's losses exactly.
    const byEpoch = new Map(done.epochMetrics.map((m) => [m.epoch, m.loss]));
    for (const m of reference.epochs) expect(byEpoch.get(m.epoch)).toBe(m.loss);
    for (const p of processes) p.kill('SIGKILL');
  });

  it('cancelling a sweep stops its trainer processes within 5 s, and no trial succeeds after the cancel', async () => {
    // An in-process worker, so the test can see its trainer processes (the worker processes above are gone).
    const worker = await h.startGpuWorker({ slots: 2 });
    // Trials of some 20-40 s here: longer than a prompt cancel takes, shorter than the minute the SDK's default
    // heartbeat throttle used to let them run on after it (they finished and were recorded succeeded).
    const file = await h.writeSweep('cancel', {
      base: { ...tinyBase(h.dataRoot), method: 'dpt', epochs: 150 },
      datasets: ['eurosat'],
      shots: [2],
      seeds: [11, 12, 13],
      resources: { maxParallel: 2, taskQueue: h.gpuQueue },
    });
    // The production heartbeat timeout (2 minutes): the SDK's heartbeat throttle, and so the cancel's delay, derive
    // from it; a short test timeout would hide a slow cancel.
    const launched = await launchSweep(h.stack, file);
    await until('two trials training', async () => {
      const running = await h.stack.db.prisma.epochMetric.groupBy({
        by: ['trialId'],
        where: { trial: { sweepId: launched.sweepId } },
      });
      return running.length === 2;
    });
    const pids = worker.trainers.livePids();
    expect(pids).toHaveLength(2);
    const handle = h.stack.client.workflow.getHandle<typeof sweepWorkflow>(workflowIdFor(launched.sweepId));
    const cancelledAt = new Date();
    await handle.cancel();
    await until('trainer processes to exit', async () => pids.every((pid) => !alive(pid)), 60_000);
    const latencyMs = Date.now() - cancelledAt.getTime();
    process.stderr.write(`cancel latency (cancel request -> trainer processes gone): ${latencyMs} ms\n`);
    expect(latencyMs).toBeLessThan(5_000);

    const outcome = await handle.result().catch((err: unknown) => err);
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect((outcome as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const statuses = await h.stack.db.prisma.trial.groupBy({
      by: ['status'],
      where: { sweepId: launched.sweepId },
      _count: { _all: true },
    });
    expect(Object.fromEntries(statuses.map((s) => [s.status, s._count._all]))).toEqual({ cancelled: 2, pending: 1 });
    const succeededAfter = await h.stack.db.prisma.trialAttempt.count({
      where: { trial: { sweepId: launched.sweepId }, outcome: 'succeeded', endedAt: { gte: cancelledAt } },
    });
    expect(succeededAfter).toBe(0);
    const sweep = await h.stack.db.prisma.sweep.findUniqueOrThrow({ where: { id: launched.sweepId } });
    expect(sweep.status).toBe('cancelled');
    // Later tests count their own worker's trainers: this one must not take their trials.
    worker.shutdown();
  });

  it('a trainer that hangs is killed after the heartbeat timeout and its trial retried', async () => {
    // The first trainer to reach the first training image of its second epoch (2 shots x 3 classes = 6 images an
    // epoch) hangs there, alive and silent (trainer-host/test-hooks.ts): past its loads, so the stall limit applies
    // rather than the load allowance. The retry's trainer finds the marker and trains. Trainers inherit the
    // environment when they are forked.
    const marker = path.join(h.dir, 'hang-once');
    process.env.DPT_TEST_TRAINER_HANG_ONCE = marker;
    process.env.DPT_TEST_TRAINER_HANG_AFTER = '6';
    try {
      const worker = await h.startGpuWorker({ slots: 1 });
      const file = await h.writeSweep('hang', {
        base: { ...tinyBase(h.dataRoot), method: 'dpt', epochs: 3 },
        datasets: ['eurosat'],
        shots: [2],
        seeds: [21],
        // Through the sweep file, as a user sets it.
        resources: { maxParallel: 1, taskQueue: h.gpuQueue, heartbeatTimeout: '5s' },
      });
      const launched = await launchSweep(h.stack, file);
      await until('the trainer to hang', async () => existsSync(marker));
      const hung = worker.trainers.livePids();
      expect(hung).toHaveLength(1);

      const result = await h.stack.client.workflow
        .getHandle<typeof sweepWorkflow>(workflowIdFor(launched.sweepId))
        .result();
      expect(result.status).toBe('succeeded');
      expect(alive(hung[0]!)).toBe(false);
      const trial = await h.stack.db.prisma.trial.findFirstOrThrow({
        where: { sweepId: launched.sweepId },
        include: { attemptsLog: { orderBy: { attempt: 'asc' } } },
      });
      expect(trial.status).toBe('succeeded');
      expect(trial.attemptsLog.map((a) => a.outcome)).toEqual(['failed', 'succeeded']);
      const stalled = trial.attemptsLog[0]!.error ?? '';
      process.stderr.write(`hung attempt: ${stalled}\n`);
      const silent = /^trainer made no progress for (\d+) s; killed$/.exec(stalled);
      expect(silent, stalled).not.toBeNull();
      // The 5 s heartbeat timeout is the stall limit: no trainer is killed before it.
      expect(Number(silent![1])).toBeGreaterThanOrEqual(5);
    } finally {
      delete process.env.DPT_TEST_TRAINER_HANG_ONCE;
      delete process.env.DPT_TEST_TRAINER_HANG_AFTER;
    }
  });
});
