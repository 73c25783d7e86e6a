import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { DoctorReport } from '../../../cli/doctor/report.ts';
import { defaultBackend, nativeBuilt } from '../../support/backends.ts';

const run = promisify(execFile);
const repo = path.resolve(import.meta.dirname, '../../..');

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    cwd: repo,
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
}

describe('dpt-sweep doctor', () => {
  it('reports every backend, the one chosen, the builds, and what Temporal and the database would be', async () => {
    const { stdout } = await cli(['doctor', '--json'], {
      DATABASE_URL: 'postgresql://dpt:secret@db.example:5432/dpt',
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      DPT_BACKEND: '',
    });
    const r = JSON.parse(stdout) as DoctorReport;
    expect(r.backends.map((b) => b.backend)).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
    expect(r.backends.find((b) => b.backend === 'wasm')?.ok).toBe(true);
    expect(r.backends.find((b) => b.backend === 'tensorflow')?.ok).toBe(nativeBuilt);
    if (r.gpu.visible === 0) expect(r.chosen.name).toBe(defaultBackend);
    const cpuBuild = r.native.find((n) => n.flavour === 'cpu')!;
    if (nativeBuilt) expect(cpuBuild.manifest?.tensorflowVersion).toBe('2.21.0');
    expect(r.database.url).toBe('postgresql://dpt:***@db.example:5432/dpt');
    expect(stdout).not.toContain('secret');
    expect(r.temporal.address).toBe('temporal.example:7233');
  });

  it('prints one screen', async () => {
    const { stdout } = await cli(['doctor'], { DATABASE_URL: '' });
    expect(stdout).toMatch(/^TF\.js backends/);
    expect(stdout).toMatch(/chosen: (tensorflow|wasm)/);
    expect(stdout).toMatch(/Native TensorFlow/);
    expect(stdout).toMatch(/embedded PGlite/);
    expect(stdout.split('\n').length).toBeLessThan(40);
  });

  it('setup names what it takes in one line', async () => {
    await expect(cli(['setup', 'tpu'])).rejects.toMatchObject({
      code: 2,
      stderr: 'dpt-sweep: setup takes cpu or gpu, not "tpu"\n',
    });
  });
});
