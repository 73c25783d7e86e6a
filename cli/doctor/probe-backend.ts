/**
 * Child process of `dpt-sweep doctor`: activates one TF.js backend (or the automatic choice, `auto`) and runs one
 * small matmul on it, then prints a JSON line. A child per backend, because the two native packages register the same
 * 'tensorflow' backend and cannot both load into one process.
 */
import * as tf from '@tensorflow/tfjs';
import { activateBackend, type BackendName, gpuVisibility, initBackend } from '../../dpt/backend.ts';

export interface ProbeResult {
  ok: boolean;
  /** The backend activated (for `auto`: the one chosen). */
  name?: string;
  reason?: string;
  fallbackReasons?: string[];
  noGpuReason?: string;
  /** Milliseconds to load the backend and run a 256² matmul. */
  ms?: number;
}

async function probe(which: string): Promise<ProbeResult> {
  const started = performance.now();
  try {
    let result: ProbeResult;
    if (which === 'auto') {
      const info = await initBackend();
      result = { ok: true, name: info.name, fallbackReasons: info.fallbackReasons, noGpuReason: info.noGpuReason };
    } else {
      await activateBackend(which as BackendName);
      const gpu = which === 'tensorflow-gpu' ? gpuVisibility() : undefined;
      result = { ok: true, name: which, ...(gpu?.reason ? { noGpuReason: gpu.reason } : {}) };
    }
    const a = tf.randomNormal([256, 256]);
    tf.matMul(a, a).dataSync();
    return { ...result, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, reason: (err instanceof Error ? err.message : String(err)).split('\n')[0] };
  }
}

const result = await probe(process.argv[2] ?? 'auto');
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
