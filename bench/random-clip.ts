import type { ClipConfig } from '../dpt/clip/config.ts';
import { type CanonicalWeights, expectedOpenAi } from '../dpt/clip/weights.ts';

/** Deterministic pseudo-random weights at CLIP-like scale (LayerNorm gains 1); values do not affect speed or memory. */
export function randomClipWeights(config: ClipConfig): CanonicalWeights {
  let state = 12345;
  const weights: CanonicalWeights = new Map();
  for (const [name, shape] of expectedOpenAi(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (/ln_.*weight|ln_(pre|post|final)\.weight/.test(name)) data.fill(1);
    else if (name === 'logit_scale') data.fill(Math.log(100));
    else {
      for (let i = 0; i < n; i++) {
        state = (state * 1103515245 + 12345) >>> 0;
        data[i] = (state / 2 ** 32 - 0.5) * 0.04;
      }
    }
    weights.set(name, { shape, data });
  }
  return weights;
}
