import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { sourcePath } from '../source-root.ts';
import type { ChildMessage, ParentMessage } from './protocol.ts';

const TRAINER_ENTRY = sourcePath('trainer-host', 'child.ts');

export interface TrainerRun {
  /** Called for each message, in order, awaited before the next one is handled. */
  onMessage: (message: ChildMessage) => Promise<void>;
  /** Called synchronously as each message arrives, before it waits its turn in the queue (proof of life). */
  onAlive?: (message: ChildMessage) => void;
  signal: AbortSignal;
}

export interface TrainerExit {
  /** The trainer ended the trial with `done` or `failed`; otherwise it died (or was killed) first. */
  finished: boolean;
  /** How the process ended, when it did. */
  code?: number | null;
  exitSignal?: NodeJS.Signals | null;
  stderrTail: string;
}

interface Slot {
  device: string | undefined;
  child?: ChildProcess;
  busy: boolean;
}

/**
 * Long-lived trainer processes, one per slot, each pinned to its GPU (CUDA_VISIBLE_DEVICES). Training never runs on
 * the worker's event loop, yet a cheap trial does not pay a process start and a model load: a trainer serves trials
 * one after another and keeps its CLIP weights cached. A cancelled trial kills its process (the slot restarts one for
 * the next trial), and so does a crash.
 */
export class TrainerPool {
  private readonly slots: Slot[];

  constructor(
    devices: Array<string | undefined>,
    private readonly killAfterMs = 5_000,
  ) {
    this.slots = devices.map((device) => ({ device, busy: false }));
  }

  async run(start: ParentMessage, run: TrainerRun): Promise<TrainerExit> {
    const slot = this.slots.find((s) => !s.busy);
    if (!slot) throw new Error(`all ${this.slots.length} trainer slots are busy (worker concurrency > slots)`);
    slot.busy = true;
    try {
      return await this.runOn(slot, start, run);
    } finally {
      slot.busy = false;
    }
  }

  /** Process ids of the trainers alive now (for operators and tests). */
  livePids(): number[] {
    return this.slots.flatMap((s) => (s.child && isAlive(s.child) && s.child.pid ? [s.child.pid] : []));
  }

  /** Stops every idle trainer; busy ones end with their trial. */
  async close(): Promise<void> {
    await Promise.all(
      this.slots.map(async (slot) => {
        const child = slot.child;
        slot.child = undefined;
        if (child && isAlive(child)) {
          const closed = new Promise((resolve) => child.once('exit', resolve));
          child.disconnect();
          terminate(child, this.killAfterMs);
          await closed;
        }
      }),
    );
  }

  /**
   * A GPU slot sees its GPU only. CPU slots share the cores: libtensorflow would give each trainer a thread per core,
   * so N trainers would run N× as many threads as cores and slow each other down; each gets its share instead
   * (TF_NUM_INTRAOP_THREADS, read by libtensorflow; a value the user set wins).
   */
  private deviceEnv(slot: Slot): NodeJS.ProcessEnv {
    if (slot.device !== undefined) return { CUDA_VISIBLE_DEVICES: slot.device };
    if (process.env.TF_NUM_INTRAOP_THREADS) return {};
    const share = Math.max(1, Math.floor(availableParallelism() / this.slots.length));
    return { TF_NUM_INTRAOP_THREADS: String(share) };
  }

  private spawn(slot: Slot): ChildProcess {
    const child = fork(TRAINER_ENTRY, [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      env: { ...process.env, ...this.deviceEnv(slot) },
    });
    child.once('exit', () => {
      if (slot.child === child) slot.child = undefined;
    });
    return child;
  }

  private runOn(slot: Slot, start: ParentMessage, run: TrainerRun): Promise<TrainerExit> {
    if (!slot.child || !isAlive(slot.child)) slot.child = this.spawn(slot);
    const child = slot.child;
    let stderrTail = '';
    const onStderr = (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-2000);
    };
    child.stderr?.on('data', onStderr);

    return new Promise<TrainerExit>((resolve, reject) => {
      // Messages are handled strictly in order: a checkpoint write finishes before the next epoch's metrics.
      let queue = Promise.resolve();
      let handlerError: unknown;
      let settled = false;
      const finish = (exit: Omit<TrainerExit, 'stderrTail'>) => {
        if (settled) return;
        settled = true;
        child.off('message', onMessage);
        child.off('exit', onExit);
        child.stderr?.off('data', onStderr);
        run.signal.removeEventListener('abort', onAbort);
        queue.then(() => {
          if (handlerError) reject(handlerError);
          else resolve({ ...exit, stderrTail: stderrTail.trim() });
        }, reject);
      };
      const onMessage = (message: ChildMessage) => {
        run.onAlive?.(message);
        queue = queue.then(() =>
          run.onMessage(message).catch((err: unknown) => {
            handlerError ??= err;
            terminate(child, this.killAfterMs);
          }),
        );
        if (message.type === 'done' || message.type === 'failed') finish({ finished: true });
      };
      // Not 'close': that waits for every holder of the stderr pipe, and tsx's esbuild service inherits it.
      // Messages already received are queued, so a crash report still sees them.
      const onExit = (code: number | null, exitSignal: NodeJS.Signals | null) =>
        finish({ finished: false, code, exitSignal });
      const onAbort = () => terminate(child, this.killAfterMs);

      child.on('message', onMessage);
      child.once('exit', onExit);
      if (run.signal.aborted) onAbort();
      else run.signal.addEventListener('abort', onAbort, { once: true });
      child.send(start, (err) => {
        if (err) terminate(child, this.killAfterMs);
      });
    });
  }
}

function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.connected;
}

function terminate(child: ChildProcess, killAfterMs: number): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, killAfterMs).unref();
}
