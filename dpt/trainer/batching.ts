import { epochBatches } from '../../data/batches.ts';
import type { PythonRandom } from '../../data/python-random.ts';

/** Dassl's RandomSampler + drop_last rule (drop_last only when the set holds at least one full batch). */
export function epochBatchesFor(n: number, batchSize: number, rng: PythonRandom): number[][] {
  if (n === 0) throw new Error('no training images');
  return epochBatches(n, batchSize, rng);
}
