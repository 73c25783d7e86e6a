/**
 * The paper's training schedule per (dataset, shots) (docs/method.md §12; not encoded in the official repo):
 * 100 epochs for 2–16 shots, 60 for 1 shot; Caltech101 and OxfordPets 60 at 16 shots; ImageNet 20 epochs with
 * general-knowledge warm-up C = 10 and one constant-LR warm-up epoch (the code's ImageNet override, DPT.py:612-613).
 * Everything else (α 0.3, β 0.1, K_N 10, CAVPT in the last layer, VPT length 10, text ctx 16, LR 0.01 / 0.002) is the
 * trial schema's default.
 */
export interface SchedulePreset {
  epochs: number;
  /** PRETRAIN.C */
  warmupEpochs: number;
  /** OPTIM.WARMUP_EPOCH of the visual/CAVPT groups */
  lrWarmupEpochs: number;
}

export function paperPreset(dataset: string, shots: number): SchedulePreset {
  if (!Number.isInteger(shots) || shots < 1) throw new Error(`shots must be a positive integer, got ${shots}`);
  if (dataset === 'imagenet') return { epochs: 20, warmupEpochs: 10, lrWarmupEpochs: 1 };
  if (shots === 1) return { epochs: 60, warmupEpochs: 30, lrWarmupEpochs: 10 };
  if (shots >= 16 && (dataset === 'caltech101' || dataset === 'oxford_pets')) {
    return { epochs: 60, warmupEpochs: 30, lrWarmupEpochs: 10 };
  }
  return { epochs: 100, warmupEpochs: 30, lrWarmupEpochs: 10 };
}
