/**
 * One epoch of training batches, as Dassl's train loader builds them (docs/method.md §13): a RandomSampler
 * reshuffles the indices every epoch, and the last incomplete batch is dropped only when the set holds at least one
 * full batch (`drop_last = len(train) >= batch_size`), so a 10-image EuroSAT 1-shot set still trains on one batch.
 *
 * The shuffle is `random.shuffle` of the one seeded generator (the official code draws it from torch's generator,
 * which is not reproduced).
 */
import { DatasetError } from './errors.ts';
import type { PythonRandom } from './python-random.ts';

export const TRAIN_BATCH_SIZE = 32;
export const TEST_BATCH_SIZE = 50;

export function epochBatches(n: number, batchSize: number, rng: PythonRandom): number[][] {
  if (!Number.isInteger(n) || n < 0) throw new DatasetError(`epochBatches: n must be a count, got ${n}`, 'bad-request');
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new DatasetError(`epochBatches: batch size must be a positive integer, got ${batchSize}`, 'bad-request');
  }
  const order = Array.from({ length: n }, (_, i) => i);
  rng.shuffle(order);
  const dropLast = n >= batchSize;
  const batches: number[][] = [];
  for (let start = 0; start < n; start += batchSize) {
    const batch = order.slice(start, start + batchSize);
    if (batch.length < batchSize && dropLast) break;
    batches.push(batch);
  }
  return batches;
}

/** Number of batches per epoch for a set of n items: floor(n / b) when n ≥ b, else 1 (0 for an empty set). */
export function batchesPerEpoch(n: number, batchSize: number): number {
  if (n === 0) return 0;
  return n >= batchSize ? Math.floor(n / batchSize) : 1;
}
