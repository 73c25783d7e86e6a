/**
 * A fault schedule that is a pure function of a seed, so that a failing run can be repeated: which faults, in which
 * order, when (after how many epoch rows of the whole sweep) and at which running trial.
 */

export const KILL_KINDS = ['worker-epoch', 'worker-mid', 'trainer-epoch', 'trainer-mid'] as const;
export type KillKind = (typeof KILL_KINDS)[number];
export type FaultKind = KillKind | 'temporal-restart' | 'postgres-restart';

export interface Fault {
  kind: FaultKind;
  /** Fires once the sweep has written this many EpochMetric rows. */
  afterEpochRows: number;
  /**
   * Mid-epoch kills come this fraction of the target trial's epoch time after its last epoch row (epoch times differ
   * by machine, a fraction does not); epoch-boundary faults fire at once (0).
   */
  midEpoch: number;
  /**
   * How long a restarted server stays down: past the 4 s heartbeat timeout for some seeds, so that attempts time out
   * while their trainers still run (Temporal) or trainers' writes fail for a while (PostgreSQL).
   */
  downMs: number;
  /** Index into the trials eligible at that moment (modulo their number). */
  target: number;
}

/** mulberry32: a small PRNG whose sequence is the same on every platform for a given 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface ScheduleOptions {
  seed: number;
  /** Epoch rows the finished sweep has (trials × epochs). */
  totalEpochRows: number;
  killsPerKind: number;
}

/**
 * Faults spread over the first 80% of the sweep's epochs, one per equal band (so two never pile onto one moment), in
 * a seeded order; the last 20% run undisturbed, so the test also sees trials finish after the faults.
 */
export function faultSchedule({ seed, totalEpochRows, killsPerKind }: ScheduleOptions): Fault[] {
  const random = mulberry32(seed);
  const kinds: FaultKind[] = [
    ...KILL_KINDS.flatMap((kind) => Array.from({ length: killsPerKind }, () => kind)),
    'temporal-restart',
    'postgres-restart',
  ];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const first = Math.max(2, Math.floor(totalEpochRows * 0.05));
  const band = (Math.floor(totalEpochRows * 0.8) - first) / kinds.length;
  return kinds.map((kind, i) => ({
    kind,
    afterEpochRows: first + Math.floor(i * band + random() * band * 0.5),
    midEpoch: kind.endsWith('-mid') ? Math.round((0.2 + random() * 0.6) * 100) / 100 : 0,
    target: Math.floor(random() * 1_000),
    downMs: kind.endsWith('-restart') ? 1_000 + Math.floor(random() * 7_000) : 0,
  }));
}
