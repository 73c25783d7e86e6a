import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** GPU workers in processes of their own (`dpt-sweep worker`), as on GPU machines, so that they can be SIGKILLed. */
export class WorkerProcesses {
  private readonly children = new Set<ChildProcess>();
  private readonly killing = new Set<ChildProcess>();
  private stopping = false;
  started = 0;
  /** Workers that exited while serving, without being killed here: a fault they should have survived ended them. */
  readonly died: string[] = [];
  /**
   * Workers that gave up before serving (the CLI exits when PostgreSQL is unreachable at start) and were started
   * again, as a supervisor would; a documented start-up refusal, not a crash.
   */
  startRetries = 0;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  start(queue: string): ChildProcess {
    const child = spawn(
      process.execPath,
      ['bin/dpt-sweep.js', 'worker', '--queue', queue, '--slots', '1', '--cpu', '--checkpoint-every', '1'],
      { env: { ...process.env, ...this.env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.children.add(child);
    // Its log goes on to ours; the CLI's "worker on queue" line says it got past its start-up.
    let serving = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('worker on queue')) serving = true;
      process.stderr.write(chunk);
    });
    child.once('exit', (code, signal) => {
      this.children.delete(child);
      if (this.killing.delete(child)) return;
      if (serving || this.stopping) {
        if (!this.stopping) this.died.push(`worker ${child.pid} exited (${signal ?? `code ${code}`})`);
        return;
      }
      this.startRetries += 1;
      setTimeout(() => {
        if (!this.stopping) this.start(queue);
      }, 1_000);
    });
    this.started += 1;
    return child;
  }

  pids(): number[] {
    return [...this.children].flatMap((c) => (c.pid !== undefined && c.exitCode === null ? [c.pid] : []));
  }

  /** SIGKILLs one worker and waits until it is gone, so that the caller can start its replacement. */
  async kill(pid: number): Promise<boolean> {
    const child = [...this.children].find((c) => c.pid === pid);
    if (!child) return false;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    this.killing.add(child);
    child.kill('SIGKILL');
    await gone;
    return true;
  }

  async killAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.pids().map((pid) => this.kill(pid)));
  }
}

export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The trainer processes a worker forked (trainer-host/child.ts), found through /proc (Linux). */
export function trainerPidsOf(workerPid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may contain spaces and parentheses; the parent pid is the second field after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== workerPid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('trainer-host/child.ts')) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}
