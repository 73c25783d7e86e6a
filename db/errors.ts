/**
 * Database failures a user can act on. Each message is one line naming the cause, so the CLI can print it as is
 * (it wraps these in its own UserError); anything else escaping db/ is a bug.
 */
export class DatabaseError extends Error {
  constructor(
    message: string,
    readonly code: DatabaseErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatabaseError';
  }
}

export type DatabaseErrorCode =
  | 'unreachable'
  | 'bad-url'
  | 'data-dir-newer'
  | 'data-dir-corrupt'
  | 'port-taken'
  | 'migrations-missing'
  | 'migrations-modified'
  | 'checkpoint-corrupt';

export function isDatabaseError(error: unknown): error is DatabaseError {
  return error instanceof DatabaseError;
}

/** The first line of any thrown value, for embedding a cause in a one-line message. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n').find((line) => line.trim() !== '') ?? text).trim();
}
