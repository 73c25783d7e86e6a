import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ClipConfig, configFromHf, configFromOpenAiShapes, configFromOpenClip } from '../../../dpt/clip/config.ts';
import { MODEL_CONFIG_NAMES, MODEL_CONFIGS, modelConfig } from '../../../dpt/clip/model-configs.ts';
import { ClipTokenizer } from '../../../dpt/clip/tokenizer.ts';
import { expectedOpenAi } from '../../../dpt/clip/weights.ts';
import { FIXTURES } from '../../support/clip-fixtures.ts';

const SYNTH_CLIP = join(dirname(fileURLToPath(import.meta.url)), '../../../examples/models/synth-clip');

/** A config without the field that only names where it was read from. */
function sizes(config: ClipConfig): Omit<ClipConfig, 'source'> {
  const { source: _source, ...rest } = config;
  return rest;
}

/**
 * OpenAI's ViT-B models as open_clip states them in its `-quickgelu` model configs, every field spelled out so that
 * none of the parser's defaults (themselves read from MODEL_CONFIGS) takes part.
 */
function openClipVitB(patchSize: number): unknown {
  return {
    model_cfg: {
      embed_dim: 512,
      quick_gelu: true,
      vision_cfg: { image_size: 224, layers: 12, width: 768, patch_size: patchSize, head_width: 64, mlp_ratio: 4 },
      text_cfg: { context_length: 77, vocab_size: 49408, width: 512, heads: 8, layers: 12, mlp_ratio: 4 },
    },
  };
}

describe('named CLIP model configs', () => {
  it('synth-clip is what configFromHf reads from the shipped config.json', () => {
    const json: unknown = JSON.parse(readFileSync(join(SYNTH_CLIP, 'config.json'), 'utf8'));
    expect(sizes(MODEL_CONFIGS['synth-clip'])).toEqual(sizes(configFromHf(json)));
  });

  it.each([
    ['ViT-B-32', 32],
    ['ViT-B-16', 16],
  ] as const)('%s has OpenAI sizes, and the tensor shapes they imply give them back', (name, patch) => {
    const config = MODEL_CONFIGS[name];
    expect(sizes(config)).toEqual(sizes(configFromOpenClip(openClipVitB(patch))));
    // OpenAI's build_model derives heads as width / 64 from the shapes alone: a check of the head counts.
    expect(sizes(configFromOpenAiShapes(expectedOpenAi(config)))).toEqual(sizes(config));
    expect(expectedOpenAi(config).get('visual.positional_embedding')).toEqual([1 + (224 / patch) ** 2, 768]);
  });

  it("ViT-B's text tower fits the full CLIP tokenizer in the repository", async () => {
    const reference = JSON.parse(readFileSync(join(FIXTURES, 'tokenizer-full/reference.json'), 'utf8')) as {
      context_length: number;
    };
    const tokenizer = await ClipTokenizer.fromFile(
      join(FIXTURES, 'tokenizer-full/tokenizer.json.gz'),
      reference.context_length,
    );
    for (const name of ['ViT-B-32', 'ViT-B-16'] as const) {
      expect(MODEL_CONFIGS[name].text.vocabSize).toBe(tokenizer.vocabSize);
      expect(MODEL_CONFIGS[name].text.contextLength).toBe(reference.context_length);
    }
  });

  it("is ViT-B/32 that fills in what a Hugging Face config.json leaves out (transformers' defaults)", () => {
    expect(sizes(configFromHf({}))).toEqual(sizes(MODEL_CONFIGS['ViT-B-32']));
  });

  it('looks configs up by name and names the known ones otherwise', () => {
    for (const name of MODEL_CONFIG_NAMES) expect(modelConfig(name)).toBe(MODEL_CONFIGS[name]);
    expect(() => modelConfig('ViT-L-14')).toThrow(/unknown CLIP model config "ViT-L-14"; known: ViT-B-32, ViT-B-16/);
  });
});
