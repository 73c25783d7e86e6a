import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseError } from './errors.ts';

/**
 * The embedded server's password: a random secret in `$DPT_HOME/pg.secret`, readable by its owner only (0600). The
 * server asks every client for it and the local dpt-sweep processes read it from the file, so another user of the
 * machine, who can reach 127.0.0.1 but not the file, can neither read nor change the results.
 *
 * Created atomically on first use: the secret is written to a private temporary file and hard-linked to its name,
 * which fails if another process got there first; then that process's secret is the one everybody reads.
 */
export function embeddedSecret(secretFile: string): string {
  const existing = readSecret(secretFile);
  if (existing !== undefined) return existing;
  fs.mkdirSync(path.dirname(secretFile), { recursive: true, mode: 0o700 });
  const temporary = `${secretFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(temporary, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(temporary, secretFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  const secret = readSecret(secretFile);
  if (secret === undefined) throw new DatabaseError(`embedded database secret ${secretFile} is empty`, 'unreachable');
  return secret;
}

function readSecret(secretFile: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(secretFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DatabaseError(
      `cannot read the embedded database's secret ${secretFile} (${(error as Error).message}); it belongs to the user who created ${path.dirname(secretFile)}`,
      'unreachable',
    );
  }
  // A secret others can read protects nothing: take it back (the file is ours, or reading it would have failed).
  if ((fs.statSync(secretFile).mode & 0o077) !== 0) fs.chmodSync(secretFile, 0o600);
  const secret = text.trim();
  return secret.length > 0 ? secret : undefined;
}
