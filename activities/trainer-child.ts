import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentMessage } from '../worker/trainer-protocol.ts';

const TRAINER_ENTRY = fileURLToPath(new URL('../worker/trainer-process.ts', import.meta.url));

export interface TrainerChildOptions {
  /** GPU slot of this worker; becomes CUDA_VISIBLE_DEVICES of the child. */
  gpu?: string;
  /** Called for each message, in order, awaited before the next one is handled. */
  onMessage: (message: ChildMessage) => Promise<void>;
  signal: AbortSignal;
  /** Grace period between SIGTERM and SIGKILL when cancelled. */
  killAfterMs?: number;
}

export interface TrainerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last lines of the child's stderr, for the failure message of a crash. */
  stderrTail: string;
}

/**
 * Runs one trial in a forked trainer process and relays its messages. Resolves when the process has exited; the
 * caller decides from the messages whether the trial succeeded. Cancellation kills the process.
 */
export function runTrainerChild(start: ParentMessage, options: TrainerChildOptions): Promise<TrainerExit> {
  const child = fork(TRAINER_ENTRY, [], {
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: { ...process.env, ...(options.gpu === undefined ? {} : { CUDA_VISIBLE_DEVICES: options.gpu }) },
  });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-2000);
  });

  // Messages are handled strictly in order (a checkpoint write finishes before the next epoch's metrics).
  let queue = Promise.resolve();
  let handlerError: unknown;
  child.on('message', (message: ChildMessage) => {
    queue = queue.then(() =>
      options.onMessage(message).catch((err: unknown) => {
        handlerError ??= err;
        terminate(child, options.killAfterMs);
      }),
    );
  });

  const onAbort = () => terminate(child, options.killAfterMs);
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener('abort', onAbort, { once: true });

  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('spawn', () => child.send(start));
    // 'close' (not 'exit') fires after the IPC channel is drained, so every message has been delivered.
    child.once('close', (code, signal) => {
      options.signal.removeEventListener('abort', onAbort);
      queue.then(() => {
        if (handlerError) reject(handlerError);
        else resolve({ code, signal, stderrTail: stderrTail.trim() });
      }, reject);
    });
  });
}

function terminate(child: ChildProcess, killAfterMs = 5_000): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, killAfterMs).unref();
}
