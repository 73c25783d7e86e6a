/**
 * What `dpt-sweep doctor` finds: which TF.js backends load and which one a trainer would choose, where libtensorflow
 * came from, the GPUs and CUDA libraries, and the Temporal server and database a command would use. Only looks:
 * builds, downloads and starts nothing.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { embeddedPaths } from '../../db/embedded.ts';
import { BACKEND_NAMES, type BackendName, gpuVisibility } from '../../dpt/backend.ts';
import {
  installedBinding,
  lastFailure,
  NATIVE_FLAVOURS,
  NATIVE_PACKAGE,
  type NativeFlavour,
  type NativeManifest,
  nativeCacheRoot,
  readManifest,
} from '../../dpt/native-tf.ts';
import { sourcePath } from '../../source-root.ts';
import { findTemporalCli, TEMPORAL_CLI_MODULE, toolsBinDir } from '../../worker/dev/temporal-server.ts';
import { configuredTemporal, describeTemporal } from '../../worker/temporal-config.ts';
import type { ProbeResult } from './probe-backend.ts';

const run = promisify(execFile);

export interface BackendReport extends ProbeResult {
  backend: BackendName;
}

export interface NativeReport {
  flavour: NativeFlavour;
  package: string;
  /** The build linked into the package, or undefined. */
  buildDir?: string;
  manifest?: NativeManifest;
  lastFailure?: string;
}

export interface GpuReport {
  visible: number;
  reason?: string;
  /** nvidia-smi's one line per GPU: name, memory, driver. */
  devices: string[];
  /** libcuda.so.1, from the NVIDIA driver: the one CUDA library the wheels do not bring. */
  driverLibrary?: string;
  /** CUDA libraries beside the GPU build's libtensorflow (deps/nvidia/<name>/lib). */
  cudaLibraries: string[];
  cudaVisibleDevices?: string;
}

export interface DoctorReport {
  chosen: ProbeResult;
  backendOverride?: string;
  backends: BackendReport[];
  native: NativeReport[];
  nativeCache: string;
  gpu: GpuReport;
  temporal: { address?: string; namespace: string; cli?: string; cliVersion?: string; plan: string };
  database: { url?: string; plan: string };
}

const probeScript = sourcePath('cli', 'doctor', 'probe-backend.ts');

/** Each backend in a child of its own (the native packages cannot share a process), all at once. */
async function probeBackend(which: string): Promise<ProbeResult> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', probeScript, which], {
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 16 << 20,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '3' },
    });
    const last = stdout.trim().split('\n').pop() ?? '';
    return JSON.parse(last) as ProbeResult;
  } catch (err) {
    return { ok: false, reason: `probe failed: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}` };
  }
}

function nativeReport(flavour: NativeFlavour): NativeReport {
  const pkg = NATIVE_PACKAGE[flavour];
  const { binding } = installedBinding(pkg);
  const report: NativeReport = { flavour, package: pkg };
  if (binding) {
    // lib/napi-vN/tfjs_binding.node -> the build folder, whose manifest says what it was built from.
    const buildDir = dirname(dirname(dirname(realpathSync(binding))));
    report.buildDir = buildDir;
    report.manifest = readManifest(buildDir);
  }
  const failure = lastFailure(flavour);
  if (failure) report.lastFailure = failure;
  return report;
}

function gpuReport(native: NativeReport[]): GpuReport {
  const { visible, reason } = gpuVisibility();
  const smi = spawnSync('nvidia-smi', ['--query-gpu=index,name,memory.total,driver_version', '--format=csv,noheader'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  const devices = smi.status === 0 ? smi.stdout.trim().split('\n').filter(Boolean) : [];
  const ldconfig = spawnSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' });
  const driverLine =
    ldconfig.status === 0 ? ldconfig.stdout.split('\n').find((l) => l.includes('libcuda.so.1')) : undefined;
  const gpuBuild = native.find((n) => n.flavour === 'gpu')?.buildDir;
  const nvidiaDir = gpuBuild ? join(gpuBuild, 'deps', 'nvidia') : undefined;
  const cudaLibraries = nvidiaDir && existsSync(nvidiaDir) ? readdirSync(nvidiaDir).sort() : [];
  const report: GpuReport = { visible, devices, cudaLibraries };
  if (reason) report.reason = reason;
  if (driverLine) report.driverLibrary = driverLine.split('=>').pop()?.trim();
  if (process.env.CUDA_VISIBLE_DEVICES !== undefined) report.cudaVisibleDevices = process.env.CUDA_VISIBLE_DEVICES;
  return report;
}

async function temporalReport(): Promise<DoctorReport['temporal']> {
  const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
  let configured: ReturnType<typeof configuredTemporal>;
  try {
    configured = configuredTemporal();
  } catch (err) {
    return {
      namespace,
      plan: `none: the Temporal client configuration is unreadable (${err instanceof Error ? err.message : String(err)})`,
    };
  }
  if (configured) {
    const { connection } = configured;
    return {
      address: connection.address,
      namespace: configured.namespace,
      plan: `the cluster at ${describeTemporal(connection)} (TEMPORAL_* variables or profile)`,
    };
  }
  const cli = findTemporalCli(process.env, process.cwd(), []);
  if (!cli) {
    return {
      namespace,
      plan: `a dev server from a Temporal CLI built on first use with go install ${TEMPORAL_CLI_MODULE} into ${toolsBinDir()}`,
    };
  }
  const version = await run(cli, ['--version'], { encoding: 'utf8', timeout: 10_000 }).then(
    (r) => r.stdout.trim(),
    () => undefined,
  );
  return { namespace, cli, ...(version ? { cliVersion: version } : {}), plan: `a dev server started from ${cli}` };
}

function databaseReport(): DoctorReport['database'] {
  const url = process.env.DATABASE_URL?.trim();
  if (url) return { url: redact(url), plan: 'the PostgreSQL server at DATABASE_URL' };
  const paths = embeddedPaths();
  return { plan: `embedded PGlite in ${paths.dataDir}, served on 127.0.0.1:${paths.port}` };
}

/** Passwords never reach a screen or a log. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

export async function gatherDoctorReport(): Promise<DoctorReport> {
  const [chosen, ...probes] = await Promise.all([probeBackend('auto'), ...BACKEND_NAMES.map((b) => probeBackend(b))]);
  const native = NATIVE_FLAVOURS.map(nativeReport);
  const report: DoctorReport = {
    chosen: chosen!,
    backends: BACKEND_NAMES.map((backend, i) => ({ backend, ...probes[i]! })),
    native,
    nativeCache: nativeCacheRoot(),
    gpu: gpuReport(native),
    temporal: await temporalReport(),
    database: databaseReport(),
  };
  if (process.env.DPT_BACKEND) report.backendOverride = process.env.DPT_BACKEND;
  return report;
}
