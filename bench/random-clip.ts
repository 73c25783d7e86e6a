import type { ClipConfig } from '../dpt/clip/config.ts';
import { type CanonicalWeights, expectedOpenAi } from '../dpt/clip/weights.ts';

/** A ViT-B CLIP (OpenAI's ViT-B/32 or ViT-B/16 shapes: the paper's backbones) for benchmarks with random weights. */
export function vitBConfig(patchSize: 16 | 32): ClipConfig {
  return {
    vision: {
      width: 768,
      layers: 12,
      heads: 12,
      mlpDim: 3072,
      patchSize,
      imageSize: 224,
      layerNormEps: 1e-5,
      activation: 'quick_gelu',
    },
    text: {
      width: 512,
      layers: 12,
      heads: 8,
      mlpDim: 2048,
      contextLength: 77,
      vocabSize: 49408,
      layerNormEps: 1e-5,
      activation: 'quick_gelu',
    },
    projDim: 512,
    source: 'bench',
  };
}

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
