/**
 * What bench/clip.ts and bench/train.ts share: flags, one child process per measurement, the optional PyTorch
 * reference, and the conditions a figure was measured under.
 *
 * Every measurement runs in a child process because the wasm backend's heap exhaustion is an emscripten abort (not a
 * catchable error) and a native out-of-memory ends in the kernel's SIGKILL: either must cost one row of the report, not
 * the whole invocation. It also gives each backend a fresh process, so one backend's allocator state or thread pools
 * cannot slow the next.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..');

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** A comma-separated flag as positive integers; throws on anything else so that a typo is not timed as batch NaN. */
export function intList(name: string, fallback: string): number[] {
  const values = arg(name, fallback)
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(Number);
  for (const v of values) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} takes positive integers, got ${arg(name, fallback)}`);
  }
  return values;
}

export function positiveInt(name: string, fallback: number): number {
  const [v] = intList(name, String(fallback));
  return v ?? fallback;
}

export function round(x: number): number {
  return Number(x.toPrecision(4));
}

/** 1-minute load average rounded: printed beside every figure because these machines are shared. */
export function load1(): number {
  return round(loadavg()[0] ?? 0);
}

export function hostConditions(): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model,
    loadavg_1_5_15: loadavg().map(round),
    total_mem_gib: round(totalmem() / 2 ** 30),
    free_mem_gib: round(freemem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    tf_num_intraop_threads: process.env.TF_NUM_INTRAOP_THREADS ?? 'unset (libtensorflow uses every core)',
  };
}

export type ChildOutcome<T> =
  | { ok: true; value: T; wallSeconds: number; stderr: string }
  | { ok: false; error: string; wallSeconds: number; stderr: string };

/**
 * Runs `command args`, and takes the JSON object it prints last on stdout (a whole pretty-printed document or the last
 * line). On failure, returns the most telling line of stderr: a wasm abort, a JS error, or the signal that ended it.
 */
export function runJsonChild<T>(
  command: string,
  args: string[],
  opts: { timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<ChildOutcome<T>> {
  const start = performance.now();
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { maxBuffer: 64 << 20, timeout: opts.timeoutMs, killSignal: 'SIGKILL', env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        const wallSeconds = round((performance.now() - start) / 1000);
        const value = err ? undefined : parseLastJson<T>(stdout);
        if (value !== undefined) {
          resolve({ ok: true, value, wallSeconds, stderr });
          return;
        }
        resolve({ ok: false, error: failureReason(err, stderr, opts.timeoutMs), wallSeconds, stderr });
      },
    );
  });
}

function parseLastJson<T>(stdout: string): T | undefined {
  const text = stdout.trim();
  const candidates = [text, text.split('\n').at(-1) ?? ''];
  for (const c of candidates) {
    if (!c.startsWith('{')) continue;
    try {
      return JSON.parse(c) as T;
    } catch {
      // not this one; try the next candidate
    }
  }
  return undefined;
}

interface ExecError {
  killed?: boolean;
  signal?: NodeJS.Signals | null;
  code?: number | string | null;
  message: string;
}

function failureReason(err: ExecError | null, stderr: string, timeoutMs: number): string {
  const patterns = [
    /RuntimeError: [^\n]*/,
    /Aborted\([^\n]*/,
    /(?:Range|Type)?Error: [^\n]*/,
    /Traceback[\s\S]*\n(\w+(?:Error|Exception)[^\n]*)/,
  ];
  for (const p of patterns) {
    const m = p.exec(stderr);
    if (m) return (m[1] ?? m[0]).slice(0, 300);
  }
  if (err?.signal === 'SIGKILL') {
    return err.killed
      ? `killed after the ${timeoutMs / 1000} s limit`
      : 'killed by SIGKILL (most likely the out-of-memory killer)';
  }
  if (err?.signal) return `ended by ${err.signal}`;
  if (err) return `exit ${String(err.code)}: ${stderr.trim().split('\n').at(-1)?.slice(0, 300) ?? err.message}`;
  return 'the child printed no JSON result';
}

/** argv for running a bench file again as a child of itself under tsx. */
export function tsxArgs(script: string, args: string[]): string[] {
  return ['--import', 'tsx', script, ...args];
}

/**
 * The Python of tools/reference/.venv (built by tools/reference/setup.sh), or DPT_REFERENCE_PYTHON; undefined when
 * neither exists, in which case the benches skip the PyTorch twin and say so.
 */
export function referencePython(): string | undefined {
  const fromEnv = process.env.DPT_REFERENCE_PYTHON;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  const venv = path.join(repoRoot, 'tools/reference/.venv/bin/python');
  return existsSync(venv) ? venv : undefined;
}

/**
 * Environment for the PyTorch child. torch.set_num_threads sizes its OpenMP pool, but Debian's torch multiplies
 * matrices in OpenBLAS (pthreads build), which sizes its own pool from these variables. OMP_WAIT_POLICY is left as
 * the caller has it, so that PyTorch runs as its users get it. On a machine whose cores other work also uses, pass
 * OMP_WAIT_POLICY=PASSIVE: with libgomp's spinning a descheduled worker stalls every barrier while its partner burns
 * the slice (measured on a loaded machine, DPT step at batch 2, 2 threads: 7-12 s a step spinning, 1.5 s passive).
 */
export function torchEnv(threads: number): NodeJS.ProcessEnv {
  const t = String(threads);
  return {
    ...process.env,
    OMP_NUM_THREADS: t,
    OPENBLAS_NUM_THREADS: t,
    MKL_NUM_THREADS: t,
  };
}

/** How the PyTorch child's threads were set, for the report. */
export function torchEnvSummary(threads: number): string {
  const e = torchEnv(threads);
  return `OMP_NUM_THREADS=${e.OMP_NUM_THREADS} OPENBLAS_NUM_THREADS=${e.OPENBLAS_NUM_THREADS} OMP_WAIT_POLICY=${e.OMP_WAIT_POLICY ?? '(unset)'}`;
}

/**
 * What libtensorflow said about its devices on stderr (it logs from C++, past Node's streams): the GPU it created, or
 * why it found none. This is how a run tells that tensorflow-gpu really ran on the GPU and not on the CPU.
 */
export function nativeDeviceLines(stderr: string): string[] {
  const wanted = /Created device|Could not find cuda|cuda_(?:driver|diagnostics)|CUDA_ERROR|GPU|cuDNN|StreamExecutor/i;
  return stderr
    .split('\n')
    .filter((l) => wanted.test(l))
    .map((l) =>
      l
        .replace(/^.*?\] /, '')
        .trim()
        .slice(0, 240),
    )
    .slice(0, 8);
}

/** `--torch auto` (default): run the twin when the reference env exists; `on`: require it; `off`: skip it. */
export function torchMode(): 'auto' | 'on' | 'off' {
  const v = arg('torch', 'auto');
  if (v === 'auto' || v === 'on' || v === 'off') return v;
  throw new Error(`--torch takes auto, on or off, got ${v}`);
}

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && b > 0 ? round(a / b) : undefined;
}
