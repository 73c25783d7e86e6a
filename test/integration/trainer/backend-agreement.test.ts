import { describe, expect, it } from 'vitest';
import { activateBackend, type BackendName } from '../../../dpt/backend.ts';
import { runTrial } from '../../../dpt/trainer/run-trial.ts';
import type { TrialOutcome } from '../../../dpt/trainer/types.ts';
import type { Method } from '../../../dpt/trial-config.ts';
import { backendsUnderTest } from '../../support/backends.ts';
import { makeTinyTask, tinyConfig, tinyDeps } from '../../support/tiny-task.ts';

/**
 * The same trial on every backend this install has. Backends sum in different orders (XNNPACK, Eigen, plain JS), so
 * they agree only up to float rounding, which training then carries along; the tolerances say how far:
 * - every epoch's losses within 1e-3 relative (measured: worst 2e-5 over 6 epochs);
 * - test top-1 within one test image (of 24).
 */
const LOSS_RTOL = 1e-3;
const task = makeTinyTask(6, 6);
const schedule = { epochs: 6, batchSize: 8, lrVisual: 0.03, lrText: 0.5, lrWarmupEpochs: 0, textLrWarmupEpochs: 0 };

async function trainOn(backend: BackendName, method: Method): Promise<TrialOutcome> {
  await activateBackend(backend);
  const config = tinyConfig({ method, vpt: { length: 4 }, optim: schedule, loss: { warmupEpochs: 2 } });
  return runTrial(config, { deps: tinyDeps(task) });
}

const backends = backendsUnderTest(['wasm', 'cpu']);

describe.each(['dpt', 'coop'] as const)('%s trains the same on every backend', (method) => {
  it(`agrees across ${backends.join(', ')}`, async () => {
    const outcomes = new Map<BackendName, TrialOutcome>();
    for (const backend of backends) outcomes.set(backend, await trainOn(backend, method));
    const reference = outcomes.get('wasm')!;
    for (const [backend, out] of outcomes) {
      expect(out.epochs).toHaveLength(reference.epochs.length);
      let worst = 0;
      out.epochs.forEach((e, i) => {
        const ref = reference.epochs[i]!;
        for (const key of ['loss', 'lossMain', 'lossCavpt'] as const) {
          const rel = Math.abs(e[key] - ref[key]) / Math.max(Math.abs(ref[key]), 1e-6);
          worst = Math.max(worst, rel);
        }
      });
      console.log(`${method} ${backend} vs wasm: worst relative loss difference ${worst.toExponential(2)}`);
      expect(worst, `${backend} losses vs wasm`).toBeLessThan(LOSS_RTOL);
      const total = reference.results[0]!.total;
      expect(Math.abs(out.results[0]!.correct - reference.results[0]!.correct), `${backend} top-1`).toBeLessThanOrEqual(
        1,
      );
      expect(out.results[0]!.total).toBe(total);
    }
  });
});
