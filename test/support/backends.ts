import type { BackendName } from '../../dpt/backend.ts';
import { installedBinding, lastFailure } from '../../dpt/native-tf.ts';

/** Whether `npm ci` built and linked the native CPU backend (tools/native-tf/install.ts). */
export const nativeBuilt = installedBinding('@tensorflow/tfjs-node').binding !== undefined;

/** The backend a trainer picks with DPT_BACKEND unset on this machine's install. */
export const defaultBackend: BackendName = nativeBuilt ? 'tensorflow' : 'wasm';

/**
 * The backends numerical tests run on: the given portable ones, plus the native 'tensorflow' backend. Without a native
 * build a developer's run leaves it out with a visible reason; under CI (`.ci/run` builds it) that is a failure.
 */
export function backendsUnderTest<const B extends BackendName>(portable: readonly B[]): (B | 'tensorflow')[] {
  if (nativeBuilt) return [...portable, 'tensorflow'];
  const why = lastFailure('cpu') ?? 'the native backend is not built (npx dpt-sweep setup cpu)';
  if (process.env.CI === 'true') throw new Error(`the native TensorFlow backend is required in CI: ${why}`);
  console.warn(`[skipped] tensorflow backend cases: ${why}`);
  return [...portable];
}
