import { trainsAnything } from '../dpt/methods/registry.ts';
import type { TrialConfig } from '../dpt/trial-config.ts';
import { datasetSizes } from './datasets.ts';
import type { SweepPlan } from './expand.ts';
import { trainedClassCount } from './protocol.ts';

/**
 * Rough compute of a sweep, counted in images pushed through the model: per trial, epochs × the images one epoch
 * trains on (classes × shots, minus the last partial batch Dassl drops when there are at least batchSize images)
 * plus one pass over every test split it is evaluated on. Zero-shot trials only evaluate. Sizes come from the data
 * registry's expected counts (data/datasets/registry.ts), so the estimate needs no dataset on disk. Pure.
 */

/**
 * PLACEHOLDER, not a measurement: images per second assumed when no `--rate` is given. Replace with the DPT figure
 * of `bench/train.ts` on the target GPU (training and evaluation are lumped into one rate here).
 */
export const DEFAULT_RATE_IMAGES_PER_SECOND = 100;

export interface TrialImages {
  train: number;
  eval: number;
}

export function trialImages(config: TrialConfig): TrialImages {
  const source = datasetSizes(config.dataset);
  const evalImages = source.test + config.evalDatasets.reduce((sum, name) => sum + datasetSizes(name).test, 0);
  if (!trainsAnything(config.method)) return { train: 0, eval: evalImages };
  // Base-to-novel trains on the base half of the classes; its base and novel test sets together are the whole split.
  const perEpochAvailable = trainedClassCount(config.dataset, config.subsampleClasses) * config.shots;
  const batch = config.optim.batchSize;
  const perEpoch = perEpochAvailable >= batch ? Math.floor(perEpochAvailable / batch) * batch : perEpochAvailable;
  return { train: config.optim.epochs * perEpoch, eval: evalImages };
}

export interface ComputeEstimate {
  trainImages: number;
  evalImages: number;
  images: number;
  rate: number;
  /** images / rate, in hours of one worker slot */
  hours: number;
  /** the rate is DEFAULT_RATE_IMAGES_PER_SECOND, not one the user measured */
  placeholderRate: boolean;
}

export function estimateCompute(plan: Pick<SweepPlan, 'trials'>, rate?: number): ComputeEstimate {
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) {
    throw new Error(`rate must be a positive number of images per second, got ${rate}`);
  }
  let trainImages = 0;
  let evalImages = 0;
  for (const trial of plan.trials) {
    const images = trialImages(trial.config);
    trainImages += images.train;
    evalImages += images.eval;
  }
  const used = rate ?? DEFAULT_RATE_IMAGES_PER_SECOND;
  const images = trainImages + evalImages;
  return {
    trainImages,
    evalImages,
    images,
    rate: used,
    hours: images / used / 3600,
    placeholderRate: rate === undefined,
  };
}
