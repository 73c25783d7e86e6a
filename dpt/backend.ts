import { existsSync, readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { installedBinding, lastFailure, type NativeFlavour } from './native-tf.ts';
import { useUntransposedWasmMatMul } from './wasm-matmul.ts';

/** The TF.js backends dpt-sweep knows, in order of preference. */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  /** The chosen backend (one of BACKEND_NAMES). */
  name: string;
  /** One line per better backend that could not be used, with the reason. */
  fallbackReasons: string[];
  /** tensorflow-gpu only: why it runs on the CPU (no GPU visible), when it does. */
  noGpuReason?: string;
}

let chosen: Promise<BackendInfo> | undefined;

/**
 * Picks the fastest available backend once per process: tfjs-node-gpu → tfjs-node → wasm → cpu, or exactly the one
 * named by DPT_BACKEND. Logs the choice (and why better ones were skipped) once to stderr.
 */
export function initBackend(): Promise<BackendInfo> {
  chosen ??= chooseBackend(process.env.DPT_BACKEND);
  return chosen;
}

async function chooseBackend(override: string | undefined): Promise<BackendInfo> {
  if (override !== undefined && override !== '') {
    if (!isBackendName(override)) {
      throw new Error(`DPT_BACKEND=${override} is not a backend; use one of ${BACKEND_NAMES.join(', ')}`);
    }
    await activateBackend(override);
    const info = withGpuCheck({ name: override, fallbackReasons: [] });
    logChoice(info, true);
    return info;
  }
  const fallbackReasons: string[] = [];
  for (const name of automaticOrder()) {
    try {
      await activateBackend(name);
      const info = withGpuCheck({ name, fallbackReasons });
      logChoice(info, false);
      return info;
    } catch (err) {
      fallbackReasons.push(`${name}: ${oneLine(err)}`);
    }
  }
  throw new Error(`no TF.js backend could be initialised (${fallbackReasons.join('; ')})`);
}

/**
 * BACKEND_NAMES's order, except that without a visible GPU the CUDA build goes after the CPU build: it would run on
 * the CPU anyway, after loading 1.3 GB of CUDA libraries for nothing.
 */
function automaticOrder(): BackendName[] {
  if (gpuVisibility().visible > 0) return [...BACKEND_NAMES];
  return ['tensorflow', 'tensorflow-gpu', 'wasm', 'cpu'];
}

/**
 * Loads the package behind `name` if needed and makes it the active backend. Throws a one-line reason when it cannot
 * (package missing, native library failed to load). Benchmarks and tests use this to pin a backend explicitly.
 */
export async function activateBackend(name: BackendName): Promise<void> {
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    // Both native packages register themselves as the 'tensorflow' backend on the shared @tensorflow/tfjs core.
    // They are optional dependencies whose install downloads libtensorflow, so they are often absent.
    const flavour: NativeFlavour = name === 'tensorflow-gpu' ? 'gpu' : 'cpu';
    const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    // libtensorflow logs CPU features and devices at INFO; keep warnings and errors, and without a GPU also the CUDA
    // build's cuInit error, which the backend choice already reports in words.
    process.env.TF_CPP_MIN_LOG_LEVEL ??= name === 'tensorflow-gpu' && gpuVisibility().visible === 0 ? '3' : '1';
    await importOptional(pkg, flavour);
    await setOrThrow('tensorflow');
    return;
  }
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    await setOrThrow('wasm');
    useUntransposedWasmMatMul();
    return;
  }
  await setOrThrow('cpu');
  silenceCpuBanner();
}

/**
 * The cpu backend prints a multi-line "install tfjs-node" banner to stderr on its first tensor. initBackend already
 * logs the choice and why faster backends were skipped, so the first write happens here with that one banner
 * filtered out (other warnings pass through).
 */
function silenceCpuBanner(): void {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('looks like you are running TensorFlow.js in Node.js')) warn(...args);
  };
  try {
    tf.tensor1d([0]).dispose();
  } finally {
    console.warn = warn;
  }
}

async function importOptional(pkg: string, flavour: NativeFlavour): Promise<void> {
  const installed = installedBinding(pkg);
  if (installed.packageDir === undefined) throw new Error(`${pkg} is not installed`);
  if (installed.binding === undefined) {
    // The package is there but its binding is not: say why the build at install time did not make it.
    const setup = flavour === 'gpu' ? 'npx dpt-sweep setup gpu' : 'npx dpt-sweep setup cpu';
    throw new Error(lastFailure(flavour) ?? `${pkg} has no native build (run \`${setup}\`)`);
  }
  try {
    // A computed specifier keeps TypeScript from requiring the optional package at compile time.
    await import(/* @vite-ignore */ pkg);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new Error(`${pkg} is not installed`);
    throw new Error(`${pkg} failed to load: ${oneLine(err)}`);
  }
}

/**
 * The CUDA build runs every op on the CPU where no GPU is visible (libtensorflow only logs it at INFO), so the choice
 * says so itself: no NVIDIA driver (/proc/driver/nvidia/gpus), or CUDA_VISIBLE_DEVICES hiding every device.
 */
export function gpuVisibility(env: NodeJS.ProcessEnv = process.env): { visible: number; reason?: string } {
  const cvd = env.CUDA_VISIBLE_DEVICES;
  if (cvd !== undefined && (cvd.trim() === '' || cvd.trim() === '-1')) {
    return { visible: 0, reason: `CUDA_VISIBLE_DEVICES=${JSON.stringify(cvd)} hides every GPU` };
  }
  const gpus = nvidiaGpuCount();
  if (gpus === 0)
    return { visible: 0, reason: 'no NVIDIA GPU or driver found (no /proc/driver/nvidia/gpus, no /dev/nvidiaN)' };
  const listed = cvd === undefined ? gpus : Math.min(gpus, cvd.split(',').filter((d) => d.trim() !== '').length);
  return { visible: listed };
}

/** The driver lists its GPUs under /proc; some containers expose only the device files, so those count too. */
function nvidiaGpuCount(): number {
  const proc = '/proc/driver/nvidia/gpus';
  if (existsSync(proc)) {
    const n = readdirSync(proc).length;
    if (n > 0) return n;
  }
  return existsSync('/dev') ? readdirSync('/dev').filter((d) => /^nvidia\d+$/.test(d)).length : 0;
}

function withGpuCheck(info: BackendInfo): BackendInfo {
  const gpuBuilt =
    info.name === 'tensorflow-gpu' || installedBinding('@tensorflow/tfjs-node-gpu').binding !== undefined;
  if (!gpuBuilt || (info.name !== 'tensorflow-gpu' && info.name !== 'tensorflow')) return info;
  const { visible, reason } = gpuVisibility();
  return visible > 0 ? info : { ...info, noGpuReason: reason ?? 'no GPU visible' };
}

async function setOrThrow(backend: string): Promise<void> {
  if (tf.findBackendFactory(backend) === null) throw new Error(`backend '${backend}' is not registered`);
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`backend '${backend}' failed to initialise`);
  await tf.ready();
}

function isBackendName(value: string): value is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(value);
}

function logChoice(info: BackendInfo, fromEnv: boolean): void {
  const why = fromEnv
    ? ' (from DPT_BACKEND)'
    : info.fallbackReasons.length > 0
      ? ` (skipped ${info.fallbackReasons.join('; ')})`
      : '';
  const cpuOnly = !info.noGpuReason
    ? ''
    : info.name === 'tensorflow-gpu'
      ? `; ${info.noGpuReason}, so it runs on the CPU`
      : `; the CUDA build is installed, but ${info.noGpuReason}`;
  process.stderr.write(`dpt-sweep: TF.js backend ${info.name}${why}${cpuOnly}\n`);
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}
