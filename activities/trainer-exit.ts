import type { TrainerExit } from '../trainer-host/pool.ts';

/**
 * Lines a trainer writes to stderr that are not about a failure: the backend choice (dpt/backend.ts), TensorFlow's
 * own C++ log lines at info/warning level, node's version trailer after an uncaught error, stack frames. The last
 * line of a killed trainer's stderr is usually one of these, which says nothing about why it died.
 */
const NOT_A_CAUSE: readonly RegExp[] = [
  /^dpt-sweep: TF\.js backend /,
  /^\d{4}-\d\d-\d\d[ T][\d:.]+Z?: [IW] /,
  /^[IW]\d{4} [\d:.]+ /,
  /^Node\.js v\d/,
  /^at /,
  /^\^+$/,
];

/** The last stderr line that could say why the trainer failed, or undefined when there is none. */
export function lastErrorLine(stderrTail: string): string | undefined {
  const lines = stderrTail.split('\n').map((line) => line.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line !== '' && !NOT_A_CAUSE.some((pattern) => pattern.test(line))) return line;
  }
  return undefined;
}

/**
 * One line for a trainer that ended without a result: how it ended (the signal that killed it, or its exit code),
 * then its last error line when it wrote one.
 */
export function describeTrainerExit(exit: Pick<TrainerExit, 'code' | 'exitSignal' | 'stderrTail'>): string {
  const how = exit.exitSignal
    ? `killed by ${exit.exitSignal}`
    : exit.code === undefined || exit.code === null
      ? 'ended'
      : `exited with code ${exit.code}`;
  const cause = lastErrorLine(exit.stderrTail);
  return `trainer process ${how} without a result${cause ? `: ${cause}` : ''}`;
}
