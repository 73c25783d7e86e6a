/**
 * Per-epoch learning rate of one parameter group (docs/method.md §11).
 *
 * Dassl's ConstantWarmupScheduler with WARMUP_RECOUNT=True wraps torch's CosineAnnealingLR(T_max = maxEpochs):
 * the first `warmupEpochs` epochs run at a constant `warmupLr`, after which the cosine restarts its own count at 0 but
 * is only stepped `maxEpochs - warmupEpochs` times, so the last epoch never reaches zero.
 * The learning rate is constant within an epoch; `epoch` is 0-based.
 */
export interface LrSchedule {
  baseLr: number;
  maxEpochs: number;
  warmupEpochs: number;
  warmupLr: number;
}

export function learningRateAt(schedule: LrSchedule, epoch: number): number {
  const { baseLr, maxEpochs, warmupEpochs, warmupLr } = schedule;
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`epoch must be a non-negative integer, got ${epoch}`);
  if (maxEpochs <= 0) throw new Error(`maxEpochs must be positive, got ${maxEpochs}`);
  if (epoch < warmupEpochs) return warmupLr;
  return baseLr * 0.5 * (1 + Math.cos((Math.PI * (epoch - warmupEpochs)) / maxEpochs));
}
