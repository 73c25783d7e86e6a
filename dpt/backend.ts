import * as tf from '@tensorflow/tfjs';
import { useUntransposedWasmMatMul } from './wasm-matmul.ts';

/** The TF.js backends dpt-sweep knows, in order of preference. */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendInfo {
  /** The chosen backend (one of BACKEND_NAMES). */
  name: string;
  /** One line per better backend that could not be used, with the reason. */
  fallbackReasons: string[];
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
    const info = { name: override, fallbackReasons: [] };
    logChoice(info, true);
    return info;
  }
  const fallbackReasons: string[] = [];
  for (const name of BACKEND_NAMES) {
    try {
      await activateBackend(name);
      const info = { name, fallbackReasons };
      logChoice(info, false);
      return info;
    } catch (err) {
      fallbackReasons.push(`${name}: ${oneLine(err)}`);
    }
  }
  throw new Error(`no TF.js backend could be initialised (${fallbackReasons.join('; ')})`);
}

/**
 * Loads the package behind `name` if needed and makes it the active backend. Throws a one-line reason when it cannot
 * (package missing, native library failed to load). Benchmarks and tests use this to pin a backend explicitly.
 */
export async function activateBackend(name: BackendName): Promise<void> {
  if (name === 'tensorflow-gpu' || name === 'tensorflow') {
    // Both native packages register themselves as the 'tensorflow' backend on the shared @tensorflow/tfjs core.
    // They are optional dependencies whose install downloads libtensorflow, so they are often absent.
    const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
    await importOptional(pkg);
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

async function importOptional(pkg: string): Promise<void> {
  try {
    // A computed specifier keeps TypeScript from requiring the optional package at compile time.
    await import(/* @vite-ignore */ pkg);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new Error(`${pkg} is not installed`);
    throw new Error(`${pkg} failed to load: ${oneLine(err)}`);
  }
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
  process.stderr.write(`dpt-sweep: TF.js backend ${info.name}${why}\n`);
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}
