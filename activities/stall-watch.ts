/**
 * The least silence allowed before a trainer reports its first batch: a fresh trainer loads node, tsx and
 * libtensorflow before it reads its start message, then the CLIP weights (hashing them) and the data, and on a loaded
 * machine or a network file system each step can take longer than a heartbeat timeout meant for batches.
 */
export const LOAD_ALLOWANCE_MS = 60_000;

export interface StallWatch {
  /** The trainer showed life (any message); `working` when it reported a train or eval batch or an epoch. */
  alive(working: boolean, now?: number): void;
  /** True while the trainer has shown life recently enough; false once it is stalled. */
  fresh(now?: number): boolean;
  /** Seconds since the trainer last showed life (or since the watch began). */
  silentSeconds(now?: number): number;
}

/**
 * Tracks a trainer's proof of life against a stall limit (and, while it is still loading, the load allowance). The activity heartbeats only while the watch is fresh and
 * kills the trainer once it is not, so a hung trainer loses its trial after the limit instead of holding it for the
 * attempt's start-to-close timeout.
 */
export function stallWatch(limitMs: number, started = Date.now()): StallWatch {
  let last = started;
  let working = false;
  return {
    alive(batch, now = Date.now()) {
      last = now;
      working ||= batch;
    },
    fresh(now = Date.now()) {
      return now - last <= (working ? limitMs : Math.max(limitMs, LOAD_ALLOWANCE_MS));
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
