import { type ChildProcess, execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { resetForResume } from '../../../cli/sweeps/control.ts';
import { launchSweep, startSweepWorkflow, workflowIdFor } from '../../../cli/sweeps/launch.ts';
import { searchReport } from '../../../db/results/search.ts';
import { initBackend } from '../../../dpt/backend.ts';
import { runTrial } from '../../../dpt/trainer/run-trial.ts';
import { parseTrialConfig } from '../../../dpt/trial-config.ts';
import { halvingBudget, promote } from '../../../sweep/search/halving.ts';
import { configurationObjective } from '../../../sweep/search/objective.ts';
import type { sweepWorkflow } from '../../../workflows/sweep.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { writeTinyDataset } from '../../support/tiny-dataset.ts';
import { createHarness, type Harness, spawnWorkerProcess, tinyBase } from './harness.ts';

const run = promisify(execFile);
const WORKFLOWS = fileURLToPath(new URL('../../../workflows/index.ts', import.meta.url));
const CLI = path.resolve('bin/dpt-sweep.js');

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 180_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/*
 * Searches on real Temporal and PostgreSQL with tiny DPT trials, trained by `dpt-sweep worker` processes (so one can
 * be killed): successive halving against the grid it replaces, promotion resume against a straight run, TPE
 * reproducibility, a SIGKILL during a halving search and a cancel + resume during a TPE search.
 */
describeWith(
  'PostgreSQL + Temporal',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('searches', () => {
  let h: Harness;
  const workers: ChildProcess[] = [];
  const startWorker = (): ChildProcess => {
    const child = spawnWorkerProcess(h, 2);
    workers.push(child);
    return child;
  };
  const base = (epochs?: number) => ({
    ...tinyBase(h.dataRoot, { warmup: true }),
    ...(epochs === undefined ? {} : { epochs }),
    method: 'dpt',
    trial: { text: { nCtx: 2 }, vpt: { length: 2 }, cavpt: { kN: 2 } },
  });
  const halvingFile = (tag: string) =>
    h.writeSweep(tag, {
      base: base(),
      datasets: ['dtd'],
      shots: [4],
      seeds: [1, 2],
      vary: { mode: 'grid', lr: [0.002, 0.02, 0.2], alpha: [0, 0.3, 1] },
      search: { kind: 'successive-halving', eta: 3, minEpochs: 1, maxEpochs: 9 },
      resources: { maxParallel: 2, taskQueue: h.gpuQueue },
    });
  const tpeFile = (tag: string) =>
    h.writeSweep(tag, {
      base: base(2),
      datasets: ['dtd'],
      shots: [4],
      seeds: [1, 2],
      search: {
        kind: 'tpe',
        trials: 6,
        batch: 2,
        startup: 2,
        seed: 5,
        space: { lr: { min: 0.001, max: 0.3, scale: 'log' }, alpha: { min: 0, max: 1 } },
      },
      resources: { maxParallel: 2, taskQueue: h.gpuQueue },
    });
  const resultOf = (sweepId: string) =>
    h.stack.client.workflow.getHandle<typeof sweepWorkflow>(workflowIdFor(sweepId)).result();
  const rungsOf = (sweepId: string) =>
    h.stack.db.prisma.searchRung.findMany({ where: { sweepId }, orderBy: [{ rung: 'asc' }, { candidate: 'asc' }] });
  const trialsOf = (sweepId: string) =>
    h.stack.db.prisma.trial.findMany({
      where: { sweepId },
      include: { validations: true, results: true, epochMetrics: true },
      orderBy: { id: 'asc' },
    });
  const suggestionsOf = (sweepId: string) =>
    h.stack.db.prisma.searchSuggestion.findMany({ where: { sweepId }, orderBy: { index: 'asc' } });

  /**
   * The sweep's latest workflow run replays on the workflow code; DPT_RECORD_HISTORIES=1 also writes it to
   * test/fixtures/histories, which replay.test.ts replays against every later change.
   */
  const replays = async (sweepId: string, fixture: string) => {
    const history = await h.stack.client.workflow.getHandle(workflowIdFor(sweepId)).fetchHistory();
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS }, history, workflowIdFor(sweepId));
    if (process.env.DPT_RECORD_HISTORIES === '1') {
      const dir = path.resolve('test/fixtures/histories');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `${fixture}.json`), historyToJSON(history));
    }
  };

  beforeAll(async () => {
    h = await createHarness('search');
    // Four validation images per class, so the 4-shot validation split has 16 images to rank by.
    await writeTinyDataset({
      root: h.dataRoot,
      dataset: 'dtd',
      classes: ['banded', 'dotted', 'striped', 'zigzagged'],
      perClass: { train: 4, val: 4, test: 3 },
      seed: 3,
    });
    startWorker();
    await initBackend();
  });
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await h?.dispose();
  });

  describe('successive halving', () => {
    let sweepId: string;
    let launchedName: string;
    beforeAll(async () => {
      const launched = await launchSweep(h.stack, await halvingFile('sh'));
      sweepId = launched.sweepId;
      launchedName = launched.name;
      expect(launched.trials).toBe(18);
      expect((await resultOf(sweepId)).status).toBe('succeeded');
    });

    it('promotes the best third at each rung by mean validation top-1 over seeds, recomputed from the stored rows', async () => {
      const trials = await trialsOf(sweepId);
      const rungs = await rungsOf(sweepId);
      expect(rungs.map((r) => r.epochs)).toEqual([...Array(9).fill(1), ...Array(3).fill(3), 9]);
      for (const [rung, epochs] of [1, 3, 9].entries()) {
        const decided = rungs.filter((r) => r.rung === rung);
        const scores = decided.map((d) => ({
          candidate: d.candidate,
          objective: configurationObjective(
            trials
              .filter((t) => t.searchCandidate === d.candidate)
              .map((t) => ({
                dataset: t.dataset,
                shots: t.shots,
                top1: t.validations.find((v) => v.epochs === epochs)!.top1,
              })),
          ),
        }));
        for (const [i, d] of decided.entries()) expect(d.objective).toBeCloseTo(scores[i]!.objective!, 10);
        // Not a ranking of ties: the first rung's objectives differ.
        if (rung === 0) expect(new Set(scores.map((s) => s.objective)).size).toBeGreaterThan(2);
        const expected = rung === 2 ? new Set() : promote(scores, 3);
        expect(new Set(decided.filter((d) => d.promoted).map((d) => d.candidate))).toEqual(expected);
      }
    });

    it('trains 42 epochs where the grid trains 162, and evaluates the test split of the finished trials only', async () => {
      const trials = await trialsOf(sweepId);
      const epochs = trials.reduce((n, t) => n + t.epochMetrics.length, 0);
      const { halving, grid } = halvingBudget(9, { eta: 3, minEpochs: 1, maxEpochs: 9 });
      expect({ halving: halving * 2, grid: grid * 2 }).toEqual({ halving: 42, grid: 162 });
      expect(epochs).toBe(42);
      console.log(JSON.stringify({ search: 'successive-halving', epochsTrained: epochs, gridEpochs: 162 }));
      const finished = trials.filter((t) => t.status === 'succeeded');
      expect(finished).toHaveLength(2);
      expect(trials.filter((t) => t.status === 'stopped')).toHaveLength(16);
      // The search never read the test split: a stopped trial has no test result, and its rungs' validations exist.
      for (const t of trials) {
        expect(t.results.length > 0).toBe(t.status === 'succeeded');
        expect(t.validations.length).toBeGreaterThan(0);
      }
    });

    it('`results` reports the rungs, the saving, the best configuration with mean ± std over seeds, the importance', async () => {
      const report = await searchReport(h.stack.db.pool, sweepId);
      const trials = await trialsOf(sweepId);
      const winners = trials.filter((t) => t.status === 'succeeded');
      expect(report?.epochs).toEqual({ trained: 42, full: 162 });
      expect(report?.rungs.map((r) => [r.candidates, r.promoted])).toEqual([
        [9, 3],
        [3, 1],
        [1, 0],
      ]);
      expect(report?.best?.candidate).toBe(winners[0]!.searchCandidate);
      const tests = winners.map((t) => t.testTop1!);
      expect(report?.best?.test?.mean).toBeCloseTo((tests[0]! + tests[1]!) / 2, 10);
      expect(report?.best?.test?.std).toBeCloseTo(Math.abs(tests[0]! - tests[1]!) / Math.SQRT2, 10);
      // Each candidate's parameters, read back from the stored file, are its trials' own settings.
      for (const c of report?.configurations ?? []) {
        for (const t of trials.filter((x) => x.searchCandidate === c.candidate)) {
          expect([t.lr, t.alpha]).toEqual([c.params.lr, c.params.alpha]);
        }
      }
      expect(report?.importance.axes.map((a) => a.key).sort()).toEqual(['alpha', 'lr']);
      const { stdout } = await run('node', [CLI, 'results', launchedName], {
        env: { ...process.env, DATABASE_URL: h.databaseUrl },
      });
      expect(stdout).toContain(
        'epochs trained: 42 of the 162 that training every configuration in full takes (74% saved)',
      );
      expect(stdout).toContain('rungs: 1 epoch: 9 → 3 promoted · 3 epochs: 3 → 1 promoted · 9 epochs: 1 → finished');
      console.log(stdout);
      // `export` writes every validation row with the trials (per seed, 9 configurations reach rung 1, 3 rung 2, 1 rung 3).
      const out = path.join(h.dir, 'sh.jsonl');
      await run('node', [CLI, 'export', launchedName, '--format', 'jsonl', '--out', out], {
        env: { ...process.env, DATABASE_URL: h.databaseUrl },
      });
      const records = readFileSync(out, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; searchCandidate?: number });
      expect(records.filter((r) => r.type === 'validation')).toHaveLength((9 + 3 + 1) * 2);
      expect(records.filter((r) => r.type === 'trial').every((r) => typeof r.searchCandidate === 'number')).toBe(true);
    });

    it('refuses to relaunch a started search with a changed file, and relaunching the same file changes nothing', async () => {
      const file = await halvingFile('sh-again');
      const same = YAML.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      const write = async (body: Record<string, unknown>) => {
        const target = path.join(h.dir, `${launchedName}-relaunch.yaml`);
        await writeFile(target, YAML.stringify({ ...body, name: launchedName }));
        return target;
      };
      const changed = { ...same, vary: { mode: 'grid', lr: [0.002, 0.2], alpha: [0, 1] } };
      await expect(launchSweep(h.stack, await write(changed))).rejects.toThrow(
        /is a search launched with a different file; a search cannot change once started/,
      );
      const again = await launchSweep(h.stack, await write(same));
      expect(again.trials).toBe(18);
      expect(await h.stack.db.prisma.trial.count({ where: { sweepId } })).toBe(18);
      await resultOf(sweepId);
    });

    it('a promoted trial, stopped and resumed twice, equals a straight run to 9 epochs bit for bit', async () => {
      const winner = (await trialsOf(sweepId)).find((t) => t.status === 'succeeded')!;
      const straight = await runTrial(parseTrialConfig(winner.config), { validate: true });
      expect(winner.epochMetrics.sort((a, b) => a.epoch - b.epoch).map((m) => m.loss)).toEqual(
        straight.epochs.map((m) => m.loss),
      );
      expect(winner.results[0]!.correct).toBe(straight.results[0]!.correct);
      expect(winner.validations.find((v) => v.epochs === 9)!.correct).toBe(straight.validation!.correct);
      // A stop at a rung is the straight run's prefix: its validation there equals a run stopped at that epoch.
      const atOne = await runTrial(parseTrialConfig(winner.config), { validate: true, stopAfter: 1 });
      expect(atOne.results).toEqual([]);
      expect(winner.validations.find((v) => v.epochs === 1)!.correct).toBe(atOne.validation!.correct);
    });

    it('a GPU worker SIGKILLed mid-search: same decisions and results, no trial or epoch twice', async () => {
      const launched = await launchSweep(h.stack, await halvingFile('sh-kill'), { heartbeatTimeout: '4 seconds' });
      // Killed in the last rung, 5 epochs before its end: tiny trials finish a rung within a second, so a kill timed
      // by the first rungs can land between two runs and interrupt nothing.
      await until('the last rung under way', async () => {
        const trial = { sweepId: launched.sweepId };
        const midway = await h.stack.db.prisma.epochMetric.count({ where: { trial, epoch: 3 } });
        const ended = await h.stack.db.prisma.trialValidation.count({ where: { trial, epochs: 9 } });
        return midway >= 1 && ended === 0;
      });
      for (const w of workers) w.kill('SIGKILL');
      startWorker();
      expect((await resultOf(launched.sweepId)).status).toBe('succeeded');
      const strip = (rows: Awaited<ReturnType<typeof rungsOf>>) =>
        rows.map(({ rung, candidate, epochs, objective, promoted }) => ({
          rung,
          candidate,
          epochs,
          objective,
          promoted,
        }));
      expect(strip(await rungsOf(launched.sweepId))).toEqual(strip(await rungsOf(sweepId)));
      const [killed, straight] = [await trialsOf(launched.sweepId), await trialsOf(sweepId)];
      expect(killed).toHaveLength(18);
      // The kill cost attempts (closed as timed out when their heartbeats stopped), not results.
      const outcomes = await h.stack.db.prisma.trialAttempt.findMany({
        where: { trial: { sweepId: launched.sweepId } },
      });
      expect(outcomes.some((a) => a.outcome === 'timed_out')).toBe(true);
      const byKey = new Map(straight.map((t) => [t.configKey, t]));
      for (const t of killed) {
        const twin = byKey.get(t.configKey)!;
        expect(t.status).toBe(twin.status);
        expect(t.epochMetrics.map((m) => m.epoch).sort((a, b) => a - b)).toEqual(
          twin.epochMetrics.map((m) => m.epoch).sort((a, b) => a - b),
        );
        expect(t.results.map((r) => r.correct)).toEqual(twin.results.map((r) => r.correct));
      }
      // Its history, retried activities included, replays on today's workflow code without a determinism error.
      await replays(launched.sweepId, 'sweep-search-halving-kill');
    });
  });

  describe('TPE', () => {
    let first: string;
    beforeAll(async () => {
      first = (await launchSweep(h.stack, await tpeFile('tpe-a'))).sweepId;
      expect((await resultOf(first)).status).toBe('succeeded');
    });

    it('suggests from the stored results: 6 suggestions x 2 seeds, the last ones by the model', async () => {
      const suggestions = await suggestionsOf(first);
      expect(suggestions.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
      const trials = await trialsOf(first);
      expect(trials).toHaveLength(12);
      for (const s of suggestions) {
        expect(s.trialIds).toHaveLength(2);
        const params = s.params as { lr: number; alpha: number };
        expect(params.lr).toBeGreaterThanOrEqual(0.001);
        expect(params.lr).toBeLessThanOrEqual(0.3);
        for (const id of s.trialIds) {
          const t = trials.find((x) => x.id === id)!;
          expect(t.searchCandidate).toBe(s.index);
          expect(t.lr).toBe(params.lr);
          expect(t.alpha).toBe(params.alpha);
          expect(t.status).toBe('succeeded');
          expect(t.validations.map((v) => v.epochs)).toEqual([2]);
        }
      }
    });

    it('the same file gives the same suggestions and objectives, also when cancelled and resumed midway', async () => {
      const again = (await launchSweep(h.stack, await tpeFile('tpe-b'))).sweepId;
      expect((await resultOf(again)).status).toBe('succeeded');
      const view = async (id: string) => {
        const trials = new Map((await trialsOf(id)).map((t) => [t.id, t]));
        return (await suggestionsOf(id)).map((s) => ({
          params: s.params,
          validation: s.trialIds.map((t) => trials.get(t)!.validations[0]!.correct),
        }));
      };
      const reference = await view(first);
      expect(await view(again)).toEqual(reference);

      const cancelled = await launchSweep(h.stack, await tpeFile('tpe-c'));
      await until('the second batch', async () => (await suggestionsOf(cancelled.sweepId)).length >= 4);
      await h.stack.client.workflow.getHandle(workflowIdFor(cancelled.sweepId)).cancel();
      await expect(resultOf(cancelled.sweepId)).rejects.toThrow();
      const row = await h.stack.db.prisma.sweep.findUniqueOrThrow({ where: { id: cancelled.sweepId } });
      expect(row.status).toBe('cancelled');
      await resetForResume(h.stack, cancelled.sweepId);
      await startSweepWorkflow(h.stack, {
        sweepId: cancelled.sweepId,
        name: cancelled.name,
        maxParallel: 2,
        taskQueue: h.gpuQueue,
      });
      expect((await resultOf(cancelled.sweepId)).status).toBe('succeeded');
      expect(await view(cancelled.sweepId)).toEqual(reference);
      // The resumed run, which found half the search in the database, replays too.
      await replays(cancelled.sweepId, 'sweep-search-tpe-resumed');
      expect(await h.stack.db.prisma.trial.count({ where: { sweepId: cancelled.sweepId } })).toBe(12);
    });
  });
});
