import { ApplicationFailure } from '@temporalio/activity';
import { firstLine } from '../db/errors.ts';

/**
 * How trainTrial records an attempt that threw without recording its own end. A dropped database connection (a server
 * restart, a proxy's reset) is named as such — the attempt's row then says the database went away, not the worker —
 * and fails retryably as DatabaseUnavailable: the next attempt resumes from the newest checkpoint. Anything else is
 * recorded by its first line and rethrown as it is.
 */
export function unrecordedEnd(err: unknown): { message: string; error: unknown } {
  if (!isConnectionLoss(err)) return { message: firstLine(err), error: err };
  const message = `database connection lost during the attempt: ${firstLine(err)}`;
  return { message, error: ApplicationFailure.retryable(message, 'DatabaseUnavailable') };
}

/** PostgreSQL and node-postgres signs of a connection that went away, looked for along the cause chain. */
export function isConnectionLoss(err: unknown): boolean {
  for (let cause = err, depth = 0; cause instanceof Error && depth < 5; depth += 1) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
    if (/Connection terminated|terminating connection|server closed the connection/i.test(cause.message)) return true;
    cause = cause.cause;
  }
  return false;
}

const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  // SQLSTATE class 08 (connection exception) and 57P0x (the server shut the session down).
  '08000',
  '08003',
  '08006',
  '57P01',
  '57P02',
  '57P03',
]);
