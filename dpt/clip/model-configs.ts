import type { ClipConfig, TextConfig } from './config.ts';

/**
 * Named CLIP sizes, like open_clip's model configs: the paper's backbones (OpenAI's ViT-B/32 and ViT-B/16) and the
 * quick start's small CLIP (examples/models/synth-clip/config.json). Code that needs these sizes without a checkpoint
 * (config defaults, benchmarks) reads them here; test/unit/clip/model-configs.test.ts checks them against the
 * checkpoint configs in the repository.
 */
export const MODEL_CONFIG_NAMES = ['ViT-B-32', 'ViT-B-16', 'synth-clip'] as const;
export type ModelConfigName = (typeof MODEL_CONFIG_NAMES)[number];

/** OpenAI's text transformer, the same for both ViT-B models. */
const VIT_B_TEXT: TextConfig = {
  width: 512,
  layers: 12,
  heads: 8,
  mlpDim: 2048,
  contextLength: 77,
  vocabSize: 49408,
  layerNormEps: 1e-5,
  activation: 'quick_gelu',
};

function vitB(patchSize: 16 | 32): ClipConfig {
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
    text: VIT_B_TEXT,
    projDim: 512,
    source: `model config ViT-B-${patchSize}`,
  };
}

export const MODEL_CONFIGS: Readonly<Record<ModelConfigName, ClipConfig>> = {
  'ViT-B-32': vitB(32),
  'ViT-B-16': vitB(16),
  'synth-clip': {
    vision: {
      width: 64,
      layers: 3,
      heads: 2,
      mlpDim: 256,
      patchSize: 8,
      imageSize: 48,
      layerNormEps: 1e-5,
      activation: 'quick_gelu',
    },
    text: {
      width: 64,
      layers: 2,
      heads: 2,
      mlpDim: 256,
      contextLength: 24,
      vocabSize: 579,
      layerNormEps: 1e-5,
      activation: 'quick_gelu',
    },
    projDim: 64,
    source: 'model config synth-clip',
  },
};

/** The named config; an unknown name is an error that lists the known ones. */
export function modelConfig(name: string): ClipConfig {
  if (!(MODEL_CONFIG_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown CLIP model config "${name}"; known: ${MODEL_CONFIG_NAMES.join(', ')}`);
  }
  return MODEL_CONFIGS[name as ModelConfigName];
}
