/**
 * How long a trainer that has answered may stay silent, and how long one that has not may take to answer its first
 * message: node, tsx and libtensorflow load before a fresh trainer reads its start message, and on a loaded machine
 * that can take longer than a heartbeat timeout meant for batches.
 */
export const FIRST_MESSAGE_ALLOWANCE_MS = 60_000;

export interface StallWatch {
  /** The trainer showed life (any message). */
  alive(now?: number): void;
  /** True while the trainer has shown life recently enough; false once it is stalled. */
  fresh(now?: number): boolean;
  /** Seconds since the trainer last showed life (or since the watch began). */
  silentSeconds(now?: number): number;
}

/**
 * Tracks a trainer's proof of life against a stall limit. The activity heartbeats only while the watch is fresh and
 * kills the trainer once it is not, so a hung trainer loses its trial after the limit instead of holding it for the
 * attempt's start-to-close timeout.
 */
export function stallWatch(limitMs: number, started = Date.now()): StallWatch {
  let last = started;
  let answered = false;
  return {
    alive(now = Date.now()) {
      last = now;
      answered = true;
    },
    fresh(now = Date.now()) {
      return now - last <= (answered ? limitMs : Math.max(limitMs, FIRST_MESSAGE_ALLOWANCE_MS));
    },
    silentSeconds(now = Date.now()) {
      return Math.round((now - last) / 1000);
    },
  };
}

/** The one-line reason a stalled attempt failed with (retryably). */
export function stallMessage(seconds: number): string {
  return `trainer made no progress for ${seconds} s; killed`;
}
