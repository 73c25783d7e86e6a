/** What a trial reports: per-epoch metrics and per-evaluation-dataset accuracy (EpochMetric, TrialResult rows). */
export interface EpochMetrics {
  /** 0-based epoch */
  epoch: number;
  /** mean total loss over the epoch's batches */
  loss: number;
  lossMain: number;
  /** mean α-unweighted L_cavpt over the batches where it was computed (0 when never) */
  lossCavpt: number;
  lrText: number;
  lrVisual: number;
  /** training top-1 (%) of the main logits on the augmented batches */
  trainAcc: number;
  seconds: number;
}

/** Which classes of the evaluated dataset a result covers: all of them, or the base or novel half (base-to-novel). */
export type ClassSubsetOfResult = 'all' | 'base' | 'novel';

export interface EvalResult {
  evalDataset: string;
  classSubset: ClassSubsetOfResult;
  split: 'test';
  /** top-1 accuracy in percent, 100·correct/total */
  top1: number;
  correct: number;
  total: number;
}

/** Top-1 on the few-shot validation split after `epochs` epochs (the search metric). */
export interface ValidationResult {
  epochs: number;
  top1: number;
  correct: number;
  total: number;
}

export interface TrialOutcome {
  epochs: EpochMetrics[];
  results: EvalResult[];
  /** the TF.js backend the trial ran on */
  backend: string;
  /** trainable parameter count */
  parameters: number;
  /** few-shot split identity from data/fewshot.ts, when known */
  splitId?: string;
  /** with `validate`: the validation split where training ended */
  validation?: ValidationResult;
  /** with `stopAfter` below the configured epochs: the epochs trained; `results` is then empty */
  stoppedAt?: number;
}
