import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { averageOver, type CellReport } from '../../../db/ablation.ts';
import { openDatabase } from '../../../db/client.ts';
import { isDatabaseError } from '../../../db/errors.ts';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('database client errors', () => {
  it('an unreachable DATABASE_URL gives one line naming host and port', async () => {
    const port = await closedPort();
    const error = await openDatabase({ env: { DATABASE_URL: `postgres://u:secret@127.0.0.1:${port}/dpt` } }).catch(
      (e: unknown) => e,
    );
    expect(isDatabaseError(error) && error.code).toBe('unreachable');
    expect((error as Error).message).toBe(
      `cannot reach PostgreSQL at 127.0.0.1:${port}/dpt (DATABASE_URL): connection refused (is the server running?)`,
    );
    expect((error as Error).message).not.toContain('secret');
  });

  it('a server that accepts but never answers is reported as unreachable, not waited on forever', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const error = await openDatabase({ url: `postgres://u@127.0.0.1:${port}/dpt` }).catch((e: unknown) => e);
      expect(isDatabaseError(error) && error.code).toBe('unreachable');
      expect((error as Error).message).toMatch(new RegExp(`^cannot reach PostgreSQL at 127\\.0\\.0\\.1:${port}/dpt`));
    } finally {
      silent.close();
    }
  }, 20_000);

  it('a malformed DATABASE_URL is a one-line error', async () => {
    for (const url of ['not a url', 'mysql://x@y/z']) {
      const error = await openDatabase({ url }).catch((e: unknown) => e);
      expect(isDatabaseError(error) && error.code).toBe('bad-url');
      expect((error as Error).message).toMatch(/^DATABASE_URL /);
    }
  });
});

describe('averageOver', () => {
  const cell = (dataset: string, shots: number, mean: number | null) => ({
    key: { dataset, shots },
    n: mean === null ? 0 : 3,
    expectedN: 3,
    mean,
    stdPop: null,
    stdSample: null,
    seeds: [],
    plannedSeeds: [1],
    endedSeeds: [],
    stoppedSeeds: [],
  });
  const report: CellReport = {
    factors: ['dataset', 'shots'],
    added: [],
    cells: [cell('a', 1, 50), cell('b', 1, 70), cell('c', 1, null), cell('a', 16, 90)],
    missing: [],
  };

  it('averages cell means per remaining factor and lists missing values instead of counting them as zero', () => {
    expect(averageOver(report, 'dataset')).toEqual([
      { key: { shots: 1 }, mean: 60, n: 2, expectedN: 3, missing: ['c'] },
      { key: { shots: 16 }, mean: 90, n: 1, expectedN: 1, missing: [] },
    ]);
  });

  it('refuses a factor the report does not have', () => {
    expect(() => averageOver(report, 'kN')).toThrow(/not a factor/);
  });
});
