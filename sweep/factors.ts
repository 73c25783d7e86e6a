import type { Method, TrialConfig } from '../dpt/trial-config.ts';
import { datasetSizes } from './datasets.ts';

/**
 * The typed factor columns the database stores next to a trial's JSON config (ARCHITECTURE §4), so that ablation
 * queries group by columns instead of digging in JSON. A factor the trial's method does not use is null (CoOp has no
 * CAVPT, zero-shot has no learning rate), which keeps "not applicable" apart from any real value. Pure.
 */
export interface TrialFactors {
  method: Method;
  dataset: string;
  shots: number;
  seed: number;
  /** the visual/CAVPT learning rate; for CoOp, which trains only text prompts, the text learning rate */
  lr: number | null;
  cavptMode: string | null;
  cavptLayers: number | null;
  /** effective number of class-aware prompts: min(K_N, classes of the dataset), as the trainer uses it */
  cavptLength: number | null;
  /** K_N as configured (SELECTED_COVPT.CPN) */
  kN: number | null;
  alpha: number | null;
  beta: number | null;
  epochs: number | null;
}

const USES_WARMUP_LOSS: readonly Method[] = ['vlp', 'dpt'];

export function trialFactors(config: TrialConfig): TrialFactors {
  const { method } = config;
  const trains = method !== 'zeroshot';
  const dpt = method === 'dpt';
  const lr = !trains ? null : method === 'coop' ? config.optim.lrText : config.optim.lrVisual;
  const classes = datasetSizes(config.dataset).classes;
  return {
    method,
    dataset: config.dataset,
    shots: config.shots,
    seed: config.seed,
    lr,
    cavptMode: dpt ? config.cavpt.mode : null,
    cavptLayers: dpt ? config.cavpt.layers : null,
    cavptLength: dpt ? Math.min(config.cavpt.kN, classes) : null,
    kN: dpt ? config.cavpt.kN : null,
    alpha: dpt ? config.loss.alpha : null,
    beta: USES_WARMUP_LOSS.includes(method) ? config.loss.beta : null,
    epochs: trains ? config.optim.epochs : null,
  };
}
