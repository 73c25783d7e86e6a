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
};

/** Why a trial failed, as far as retrying is concerned. */
export type FailureKind = 'config' | 'data' | 'infrastructure';

export type ChildMessage =
  | { type: 'epoch'; report: EpochReport }
  | { type: 'checkpoint'; epoch: number; bytes: Uint8Array }
  | { type: 'done'; results: EvalReport[]; backend: string }
  | { type: 'failed'; kind: FailureKind; message: string };
