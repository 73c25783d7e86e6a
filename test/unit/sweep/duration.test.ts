import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { storedHeartbeatTimeout } from '../../../cli/sweeps/launch.ts';
import { heartbeatTimeoutProblem, parseDuration } from '../../../sweep/duration.ts';

describe('durations in sweep files and flags', () => {
  it('reads a number and a unit', () => {
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1.5 h')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('4 seconds')).toBe(4_000);
    for (const bad of ['', '2', 'm', 'two minutes', '-1s', '2 fortnights']) expect(parseDuration(bad)).toBeUndefined();
  });

  it('bounds a heartbeat timeout to 1s..24h', () => {
    expect(heartbeatTimeoutProblem('2m')).toBeUndefined();
    expect(heartbeatTimeoutProblem('999ms')).toMatch(/between 1s and 24h/);
    expect(heartbeatTimeoutProblem('25h')).toMatch(/between 1s and 24h/);
    expect(heartbeatTimeoutProblem('soon')).toMatch(/expected a duration/);
  });

  it('resume takes the heartbeat timeout from the stored sweep file', () => {
    expect(storedHeartbeatTimeout({ resources: { maxParallel: 2, heartbeatTimeout: '30s' } })).toBe('30s');
    expect(storedHeartbeatTimeout({ resources: { maxParallel: 2 } })).toBeUndefined();
    expect(storedHeartbeatTimeout(null)).toBeUndefined();
  });

  it('dpt-sweep launch refuses a bad --heartbeat-timeout before doing anything', async () => {
    const run = promisify(execFile)(process.execPath, [
      'bin/dpt-sweep.js',
      'launch',
      'examples/quickstart.yaml',
      '--heartbeat-timeout',
      'soon',
    ]);
    await expect(run).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--heartbeat-timeout: expected a duration such as "2m"'),
    });
  });
});
