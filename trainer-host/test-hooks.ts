import { open } from 'node:fs/promises';
import type { TrialDeps } from '../dpt/trainer/deps.ts';

/**
 * Test-only fault: with DPT_TEST_TRAINER_HANG_ONCE=<path>, the first trainer to ask for a training image after
 * DPT_TEST_TRAINER_HANG_AFTER (default 0) of them creates <path> and never gets that image, so its trial hangs
 * mid-epoch with the process alive; every later trainer (the file exists) trains normally. This is how the stall
 * watchdog is tested against a real hang on real Temporal. Unset, it replaces nothing.
 */
export async function hangOnceHook(): Promise<Partial<TrialDeps>> {
  const marker = process.env.DPT_TEST_TRAINER_HANG_ONCE;
  if (!marker) return {};
  const { defaultDeps } = await import('../dpt/trainer/default-deps.ts');
  let before = Number(process.env.DPT_TEST_TRAINER_HANG_AFTER ?? 0);
  let armed = true;
  return {
    async trainImage(item, rng, size) {
      if (armed && before-- <= 0) {
        armed = false;
        // 'wx' fails when the file exists: only one trainer, across processes, ever hangs.
        const claimed = await open(marker, 'wx').then(
          async (handle) => {
            await handle.close();
            return true;
          },
          () => false,
        );
        if (claimed) return new Promise<Float32Array>(() => {});
      }
      return defaultDeps.trainImage(item, rng, size);
    },
  };
}
