/**
 * Durations as sweep files and CLI flags write them: a number and a unit, "90s", "2m", "1.5 h", "500ms". Pure (no
 * Node built-ins), like the rest of sweep/. Every accepted spelling is also one Temporal's duration strings accept, so
 * a validated value is handed to activity options unchanged.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  sec: 1_000,
  second: 1_000,
  seconds: 1_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
};

const DURATION = /^(\d+(?:\.\d+)?) ?([a-z]+)$/;

/** Milliseconds of a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  const unit = match ? UNIT_MS[match[2]!] : undefined;
  if (!match || unit === undefined) return undefined;
  return Number(match[1]) * unit;
}

/** Bounds of a training attempt's heartbeat timeout (also the stall limit of its trainer). */
export const HEARTBEAT_TIMEOUT_MIN_MS = 1_000;
export const HEARTBEAT_TIMEOUT_MAX_MS = 24 * 3_600_000;

/** Why `text` is not a usable heartbeat timeout, or undefined when it is one. */
export function heartbeatTimeoutProblem(text: string): string | undefined {
  const ms = parseDuration(text);
  if (ms === undefined) return `expected a duration such as "2m", "90s" or "1h", got "${text}"`;
  if (ms < HEARTBEAT_TIMEOUT_MIN_MS || ms > HEARTBEAT_TIMEOUT_MAX_MS) {
    return `expected a heartbeat timeout between 1s and 24h, got "${text}"`;
  }
  return undefined;
}
