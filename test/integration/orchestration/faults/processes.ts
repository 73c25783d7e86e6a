import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** GPU workers in processes of their own (`dpt-sweep worker`), as on GPU machines, so that they can be SIGKILLed. */
export class WorkerProcesses {
  private readonly children = new Set<ChildProcess>();
  started = 0;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  start(queue: string): ChildProcess {
    const child = spawn(
      process.execPath,
      ['bin/dpt-sweep.js', 'worker', '--queue', queue, '--slots', '1', '--cpu', '--checkpoint-every', '1'],
      { env: { ...process.env, ...this.env }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
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
    child.kill('SIGKILL');
    await gone;
    return true;
  }

  async killAll(): Promise<void> {
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

/** The trainer processes a worker forked (worker/trainer-process.ts), found through /proc (Linux). */
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
      if (cmdline.includes('trainer-process')) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}
