import { isIP } from 'node:net';
import { hostname } from 'node:os';

/**
 * Which Host headers the dashboard answers, against DNS rebinding: a page on an attacker's domain whose name is
 * re-pointed at 127.0.0.1 reaches the dashboard with the attacker's name in Host, so only names that are really this
 * server's are accepted.
 *
 * - Bound to loopback (127.0.0.1, ::1, localhost): 127.0.0.1, localhost and [::1], any port.
 * - Bound to a wildcard (0.0.0.0, ::): IP literals (no name can be rebound to them), localhost, this machine's
 *   hostname (also with a domain suffix it is the first label of), and the names given in `allowedHosts`.
 * - Bound to another address or name: that one, the loopback names, and `allowedHosts`.
 */
export function hostChecker(
  boundHost: string,
  allowedHosts: readonly string[] = [],
): (header: string | undefined) => boolean {
  const bound = normalise(boundHost);
  const loopback = ['127.0.0.1', 'localhost', '::1'];
  const extra = allowedHosts.map(normalise);
  const wildcard = bound === '0.0.0.0' || bound === '::';
  const machine = hostname().toLowerCase();
  return (header) => {
    const name = hostName(header);
    if (name === undefined) return false;
    if (loopback.includes(name) || extra.includes(name) || name === bound) return true;
    if (!wildcard) return false;
    return isIP(name) !== 0 || name === machine || name.startsWith(`${machine}.`);
  };
}

/** The name part of a Host header (`name[:port]`, `[v6][:port]`), lower-cased; undefined when malformed. */
export function hostName(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const value = header.trim().toLowerCase();
  const v6 = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(value);
  if (v6) return isIP(v6[1] as string) === 6 ? (v6[1] as string) : undefined;
  const plain = /^([a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(value);
  if (!plain) return undefined;
  return (plain[1] as string).replace(/\.$/, '');
}

function normalise(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
}
