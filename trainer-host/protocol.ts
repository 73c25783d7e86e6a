/**
 * Messages between a training activity and the trainer process it forks (Node IPC with `serialization: 'advanced'`,
 * so checkpoint bytes travel as binary). The trainer never touches the database or Temporal: the activity, on the
 * worker's event loop, owns heartbeats and every write.
 */

export interface EpochReport {
  epoch: number;
  loss: number;
  lossMain?: number;
  lossCavpt?: number;
  lrText?: number;
  lrVisual?: number;
  trainAcc?: number;
  seconds?: number;
}

export interface EvalReport {
  evalDataset: string;
  split: string;
  /** all, or the base or novel half of the classes (base-to-novel) */
  classSubset: 'all' | 'base' | 'novel';
  top1: number;
  correct: number;
  total: number;
}

export type ParentMessage = {
  type: 'start';
  /** Raw trial config as stored in the database; the trainer validates it. */
  config: unknown;
  /** Bytes of the newest checkpoint to resume from. */
  resumeFrom?: Uint8Array;
  checkpointEvery: number;
  /** A search's rung: train to this many epochs only (dpt/trainer/run-trial.ts `stopAfter`). */
  stopAfter?: number;
  /** Evaluate the few-shot validation split where training ends. */
  validate?: boolean;
};

/** Top-1 on the few-shot validation split after `epochs` epochs. */
export interface ValidationReport {
  epochs: number;
  top1: number;
  correct: number;
  total: number;
}

/** What, besides the config and the code version, reproduces a result; stored on the trial row when it succeeds. */
export interface Provenance {
  /** sha256 of the CLIP weight files the trial trained from (dpt/clip/weights-digest.ts). */
  weightsSha256: string;
  /**
   * Hash of the few-shot picks (data/fewshot.ts `splitId`: dataset, shots, seed and the chosen images with their
   * labels); null when the trial's data source reports none.
   */
  splitHash: string | null;
}

/**
 * Why a trial failed, as far as retrying is concerned. 'checkpoint': the checkpoint it was given could not be resumed
 * from; the activity discards it and retries without it.
 */
export type FailureKind = 'config' | 'data' | 'checkpoint' | 'infrastructure';

/**
 * Proof of life from the trainer's own work (a train or eval batch done, a phase begun), sent at most a few times a
 * second. The activity heartbeats only while these keep coming and kills a trainer that stops sending them: a timer
 * would keep a hung trainer's trial forever.
 */
export interface ProgressReport {
  phase: 'load' | 'train' | 'eval';
  /** Epoch being trained (0-based), for `train`. */
  epoch?: number;
  /** Batch within the epoch or evaluation, 0-based. */
  batch?: number;
}

export type ChildMessage =
  | { type: 'progress'; report: ProgressReport }
  | { type: 'epoch'; report: EpochReport }
  | { type: 'checkpoint'; epoch: number; bytes: Uint8Array }
  | ({
      type: 'done';
      results: EvalReport[];
      backend: string;
      /** with `validate` */
      validation?: ValidationReport;
      /** set when training stopped before the configured epochs (results is then empty) */
      stoppedAt?: number;
    } & Provenance)
  | { type: 'failed'; kind: FailureKind; message: string };
