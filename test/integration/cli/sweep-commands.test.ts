import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, inject, it, vi } from 'vitest';
import { launchSweep, workflowIdFor } from '../../../cli/sweeps/launch.ts';
import { sweepIdFor } from '../../../db/repositories.ts';
import { freePort, SEARCH_ATTRIBUTES, waitUntilServing } from '../../../worker/dev/temporal-server.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { createHarness, type Harness, tinyBase } from '../orchestration/harness.ts';

const run = promisify(execFile);
const CLI = path.resolve('bin/dpt-sweep.js');
const home = mkdtempSync(path.join(tmpdir(), 'dpt-cli-home-'));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI binary as a user runs it; DPT_HOME is empty so no `dpt-sweep dev` stack of this machine is found. */
function cli(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  // A command that should have failed at once must not hang the suite (a dashboard serves until killed).
  return run('node', [CLI, ...args], { env: { ...process.env, DPT_HOME: home, ...env }, timeout: 60_000 }).then(
    (out) => ({ code: 0, stdout: out.stdout, stderr: out.stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );
}

/** A user error: exit code 2 and exactly one line on stderr, matching `line`. */
function expectOneLine(result: CliResult, line: RegExp): void {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(line)]);
  expect(result.stderr).not.toMatch(/unexpected error/);
}

/** A TCP server answering any PostgreSQL startup with FATAL 28P01, as a server with password auth does. */
async function passwordRefusingServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const field = (code: string, value: string) => Buffer.concat([Buffer.from(code), Buffer.from(`${value}\0`)]);
  const fields = Buffer.concat([
    field('S', 'FATAL'),
    field('V', 'FATAL'),
    field('C', '28P01'),
    field('M', 'password authentication failed for user "dpt"'),
    Buffer.from([0]),
  ]);
  const length = Buffer.alloc(4);
  length.writeInt32BE(fields.length + 4);
  const reply = Buffer.concat([Buffer.from('E'), length, fields]);
  const server = createServer((socket) => {
    socket.once('data', () => socket.end(reply));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

afterAll(() => rmSync(home, { recursive: true, force: true }));

describeWith(
  'PostgreSQL + Temporal',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('sweep commands: pause, resume, cancel and status answer in one line', () => {
  let h: Harness;
  let env: Record<string, string>;
  let name: string;
  let sweepId: string;
  const sweepStatus = async () =>
    (await h.stack.db.prisma.sweep.findUniqueOrThrow({ where: { id: sweepId }, select: { status: true } })).status;

  beforeAll(async () => {
    // No GPU worker: the sweep's trials stay scheduled, so the workflow runs until the test ends it.
    h = await createHarness('cli');
    env = {
      DATABASE_URL: h.databaseUrl,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    };
    const file = await h.writeSweep('cli', {
      base: tinyBase(h.dataRoot, { epochs: true }),
      datasets: ['eurosat'],
      shots: [1],
      seeds: [1, 2, 3],
      vary: { mode: 'grid', method: ['coop'] },
      resources: { maxParallel: 1, taskQueue: h.gpuQueue },
    });
    const launched = await launchSweep(h.stack, file);
    name = launched.name;
    sweepId = launched.sweepId;
    await vi.waitFor(async () => expect(await sweepStatus()).toBe('running'), { timeout: 60_000, interval: 200 });
  });
  afterAll(async () => {
    await h?.stack.client.workflow
      .getHandle(workflowIdFor(sweepId))
      .terminate('test over')
      .catch(() => undefined);
    await h?.dispose();
  });

  it('names an unknown sweep instead of its workflow id', async () => {
    for (const command of ['pause', 'cancel', 'unpause']) {
      const result = await cli(env, command, 'no-such-sweep');
      expectOneLine(result, /^dpt-sweep: no sweep named no-such-sweep; `dpt-sweep list` shows the sweeps$/);
      expect(result.stderr).not.toContain(sweepIdFor('no-such-sweep'));
    }
  });

  it('records pause and unpause in Sweep.status, which status shows', async () => {
    expect((await cli(env, 'pause', name)).code).toBe(0);
    await vi.waitFor(async () => expect(await sweepStatus()).toBe('paused'), { timeout: 60_000, interval: 200 });
    const shown = await cli(env, 'status', name);
    expect(shown.stdout).toMatch(new RegExp(`^${name} \\(${sweepId}\\) paused: 3 trials .*\\(paused\\)`));
    expect((await cli(env, 'unpause', name)).code).toBe(0);
    await vi.waitFor(async () => expect(await sweepStatus()).toBe('running'), { timeout: 60_000, interval: 200 });
  });

  it('refuses resume while the sweep runs, naming what applies', async () => {
    expectOneLine(
      await cli(env, 'resume', name),
      new RegExp(`^dpt-sweep: sweep ${name} is still running; resume is for a sweep that has ended .*unpause.*cancel`),
    );
  });

  it('falls back to the database when Temporal does not answer', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const result = await cli({ ...env, TEMPORAL_ADDRESS: closed }, 'status', name);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^${name} \\(${sweepId}\\) running: 3 trials`));
    expect(result.stdout).not.toMatch(/running now/);
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^dpt-sweep: Temporal is unreachable, showing the database's view without live progress/),
    ]);
  });

  it('cancels, then says the sweep has ended to pause and cancel, and resume runs every unfinished trial', async () => {
    expect((await cli(env, 'cancel', name)).code).toBe(0);
    await vi.waitFor(async () => expect(await sweepStatus()).toBe('cancelled'), { timeout: 60_000, interval: 200 });
    for (const command of ['pause', 'cancel', 'set-parallel']) {
      const args = command === 'set-parallel' ? [command, name, '2'] : [command, name];
      expectOneLine(
        await cli(env, ...args),
        new RegExp(`^dpt-sweep: sweep ${name} has already ended \\(\\w+\\); nothing to ${command} — .*resume ${name}`),
      );
    }
    // One trial was launched (then cancelled), two never started: all three run again, not "1" or "0".
    const resumed = await cli(env, 'resume', name);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toBe(`${name}: 3 trials to run again\n`);
  });

  it('reports a wrong database password in one line, for the dashboard too', async () => {
    // The test server trusts loopback connections, so the refusal comes from a stand-in that answers every startup
    // with PostgreSQL's own error for a wrong password (SQLSTATE 28P01).
    const refusing = await passwordRefusingServer();
    try {
      const url = `postgresql://dpt:wrong@127.0.0.1:${refusing.port}/dpt_sweep`;
      for (const args of [['dashboard', '--port', '0'], ['list']]) {
        expectOneLine(
          await cli({ ...env, DATABASE_URL: url }, ...args),
          /^dpt-sweep: cannot reach PostgreSQL .*password authentication failed for user "dpt".*; check the user and password in DATABASE_URL$/,
        );
      }
    } finally {
      await refusing.close();
    }
  });
});

describeWith(
  'PostgreSQL + Temporal CLI',
  realPostgresUrl !== undefined && process.env.TEMPORAL_CLI_PATH !== undefined,
  'DATABASE_URL or TEMPORAL_CLI_PATH is not set',
)('launch on a Temporal server without the sweep search attributes', () => {
  let h: Harness;
  let server: ChildProcess;
  let address: string;

  beforeAll(async () => {
    h = await createHarness('attrs');
    // A plain `temporal server start-dev`, as a user starts one: no --search-attribute flags.
    address = `127.0.0.1:${await freePort()}`;
    const [ip, port] = address.split(':') as [string, string];
    server = spawn(
      process.env.TEMPORAL_CLI_PATH as string,
      ['server', 'start-dev', '--ip', ip, '--port', port, '--headless', '--log-level', 'error'],
      { stdio: 'ignore' },
    );
    await waitUntilServing(address, 60_000);
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await h?.dispose();
  });

  it('registers them and starts the workflow', async () => {
    const connection = await Connection.connect({ address });
    try {
      const before = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(before.customAttributes ?? {})).not.toContain('SweepId');

      const file = await h.writeSweep('attrs', {
        base: tinyBase(h.dataRoot, { epochs: true }),
        datasets: ['eurosat'],
        shots: [1],
        seeds: [1],
        vary: { mode: 'grid', method: ['coop'] },
        resources: { maxParallel: 1, taskQueue: h.gpuQueue },
      });
      const env = { DATABASE_URL: h.databaseUrl, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default' };
      const launched = await cli(env, 'launch', file);
      expect(launched.code, launched.stderr).toBe(0);
      expect(launched.stdout).toMatch(/: 1 trials, launched\n/);

      const after = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const key of Object.keys(SEARCH_ATTRIBUTES))
        expect(Object.keys(after.customAttributes ?? {})).toContain(key);
      const sweep = await h.stack.db.prisma.sweep.findFirstOrThrow({ select: { id: true, name: true } });
      const client = new Client({ connection, namespace: 'default' });
      const handle = client.workflow.getHandle(workflowIdFor(sweep.id));
      const described = await handle.describe();
      expect(described.status.name).toBe('RUNNING');
      expect(described.searchAttributes.SweepName).toEqual([sweep.name]);

      // Launching again finds the attributes registered and the workflow running.
      const again = await cli(env, 'launch', file);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/already running/);
      await handle.terminate('test over');
    } finally {
      await connection.close();
    }
  });
});
