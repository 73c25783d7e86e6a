import { z } from 'zod';
import { ClipLoadError } from './errors.ts';
import { MODEL_CONFIGS } from './model-configs.ts';

export type Activation = 'quick_gelu' | 'gelu';

export interface VisionConfig {
  width: number;
  layers: number;
  heads: number;
  mlpDim: number;
  patchSize: number;
  imageSize: number;
  layerNormEps: number;
  activation: Activation;
}

export interface TextConfig {
  width: number;
  layers: number;
  heads: number;
  mlpDim: number;
  contextLength: number;
  vocabSize: number;
  layerNormEps: number;
  activation: Activation;
}

/** Every size of a CLIP model; all tensor shapes follow from it. */
export interface ClipConfig {
  vision: VisionConfig;
  text: TextConfig;
  projDim: number;
  /** Where the sizes came from, for error messages ("config.json", "open_clip_config.json", "tensor shapes"). */
  source: string;
}

const positive = z.number().int().positive();
const activation = z.enum(['quick_gelu', 'gelu']);

// Defaults are those of transformers' CLIPTextConfig / CLIPVisionConfig / CLIPConfig, i.e. ViT-B/32, which is what
// transformers itself assumes for fields a config.json leaves out.
const VIT_B_32 = MODEL_CONFIGS['ViT-B-32'];
const hfTextSchema = z.object({
  hidden_size: positive.default(VIT_B_32.text.width),
  intermediate_size: positive.default(VIT_B_32.text.mlpDim),
  num_attention_heads: positive.default(VIT_B_32.text.heads),
  num_hidden_layers: positive.default(VIT_B_32.text.layers),
  max_position_embeddings: positive.default(VIT_B_32.text.contextLength),
  vocab_size: positive.default(VIT_B_32.text.vocabSize),
  layer_norm_eps: z.number().positive().default(VIT_B_32.text.layerNormEps),
  hidden_act: activation.default(VIT_B_32.text.activation),
});
const hfVisionSchema = z.object({
  hidden_size: positive.default(VIT_B_32.vision.width),
  intermediate_size: positive.default(VIT_B_32.vision.mlpDim),
  num_attention_heads: positive.default(VIT_B_32.vision.heads),
  num_hidden_layers: positive.default(VIT_B_32.vision.layers),
  image_size: positive.default(VIT_B_32.vision.imageSize),
  patch_size: positive.default(VIT_B_32.vision.patchSize),
  num_channels: z.literal(3).default(3),
  layer_norm_eps: z.number().positive().default(VIT_B_32.vision.layerNormEps),
  hidden_act: activation.default(VIT_B_32.vision.activation),
});
const hfConfigSchema = z.object({
  text_config: hfTextSchema.default(hfTextSchema.parse({})),
  vision_config: hfVisionSchema.default(hfVisionSchema.parse({})),
  projection_dim: positive.default(VIT_B_32.projDim),
});

/** Parses a Hugging Face CLIPModel `config.json`. */
export function configFromHf(json: unknown, source = 'config.json'): ClipConfig {
  const parsed = hfConfigSchema.safeParse(json);
  if (!parsed.success) throw new ClipLoadError(`${source}: not a CLIP config (${summarise(parsed.error)})`);
  const { text_config: t, vision_config: v, projection_dim } = parsed.data;
  return checked({
    vision: {
      width: v.hidden_size,
      layers: v.num_hidden_layers,
      heads: v.num_attention_heads,
      mlpDim: v.intermediate_size,
      patchSize: v.patch_size,
      imageSize: v.image_size,
      layerNormEps: v.layer_norm_eps,
      activation: v.hidden_act,
    },
    text: {
      width: t.hidden_size,
      layers: t.num_hidden_layers,
      heads: t.num_attention_heads,
      mlpDim: t.intermediate_size,
      contextLength: t.max_position_embeddings,
      vocabSize: t.vocab_size,
      layerNormEps: t.layer_norm_eps,
      activation: t.hidden_act,
    },
    projDim: projection_dim,
    source,
  });
}

// open_clip's model config: vision heads = width / head_width (default 64), text heads default 8, mlp_ratio 4,
// quick_gelu for OpenAI weights (open_clip's `-quickgelu` model names and OpenAI-pretrained configs). Its text
// defaults are OpenAI's ViT-B text transformer.
const openClipSchema = z.object({
  model_cfg: z.object({
    embed_dim: positive,
    quick_gelu: z.boolean().default(true),
    vision_cfg: z.object({
      image_size: positive,
      layers: positive,
      width: positive,
      patch_size: positive,
      head_width: positive.default(64),
      mlp_ratio: z.number().positive().default(4),
    }),
    text_cfg: z.object({
      context_length: positive.default(VIT_B_32.text.contextLength),
      vocab_size: positive.default(VIT_B_32.text.vocabSize),
      width: positive.default(VIT_B_32.text.width),
      heads: positive.default(VIT_B_32.text.heads),
      layers: positive.default(VIT_B_32.text.layers),
      mlp_ratio: z.number().positive().default(4),
    }),
  }),
});

/** Parses an open_clip `open_clip_config.json` (the file open_clip writes next to hub checkpoints). */
export function configFromOpenClip(json: unknown, source = 'open_clip_config.json'): ClipConfig {
  const parsed = openClipSchema.safeParse(json);
  if (!parsed.success) throw new ClipLoadError(`${source}: not an open_clip model config (${summarise(parsed.error)})`);
  const { embed_dim, quick_gelu, vision_cfg: v, text_cfg: t } = parsed.data.model_cfg;
  const act: Activation = quick_gelu ? 'quick_gelu' : 'gelu';
  return checked({
    vision: {
      width: v.width,
      layers: v.layers,
      heads: v.width / v.head_width,
      mlpDim: Math.round(v.width * v.mlp_ratio),
      patchSize: v.patch_size,
      imageSize: v.image_size,
      layerNormEps: 1e-5,
      activation: act,
    },
    text: {
      width: t.width,
      layers: t.layers,
      heads: t.heads,
      mlpDim: Math.round(t.width * t.mlp_ratio),
      contextLength: t.context_length,
      vocabSize: t.vocab_size,
      layerNormEps: 1e-5,
      activation: act,
    },
    projDim: embed_dim,
    source,
  });
}

/**
 * Without any config file, sizes follow from the OpenAI-named tensors the way OpenAI's `build_model` derives them:
 * heads = width / 64 on both towers, MLP 4× width, QuickGELU.
 */
export function configFromOpenAiShapes(shapes: Map<string, number[]>): ClipConfig {
  const need = (name: string): number[] => {
    const shape = shapes.get(name);
    if (!shape) throw new ClipLoadError(`missing tensor ${name} (needed to infer the model size without a config)`);
    return shape;
  };
  const countLayers = (prefix: string): number => {
    let n = 0;
    while (shapes.has(`${prefix}${n}.ln_1.weight`)) n++;
    return n;
  };
  const conv = need('visual.conv1.weight');
  const visionWidth = conv[0] ?? 0;
  const patch = conv[3] ?? 0;
  const grid = Math.round(Math.sqrt((need('visual.positional_embedding')[0] ?? 1) - 1));
  const textWidth = need('ln_final.weight')[0] ?? 0;
  return checked({
    vision: {
      width: visionWidth,
      layers: countLayers('visual.transformer.resblocks.'),
      heads: visionWidth / 64,
      mlpDim: visionWidth * 4,
      patchSize: patch,
      imageSize: patch * grid,
      layerNormEps: 1e-5,
      activation: 'quick_gelu',
    },
    text: {
      width: textWidth,
      layers: countLayers('transformer.resblocks.'),
      heads: textWidth / 64,
      mlpDim: textWidth * 4,
      contextLength: need('positional_embedding')[0] ?? 0,
      vocabSize: need('token_embedding.weight')[0] ?? 0,
      layerNormEps: 1e-5,
      activation: 'quick_gelu',
    },
    projDim: need('text_projection')[1] ?? 0,
    source: 'tensor shapes',
  });
}

function checked(config: ClipConfig): ClipConfig {
  for (const [tower, c] of [
    ['vision', config.vision],
    ['text', config.text],
  ] as const) {
    if (!Number.isInteger(c.heads) || c.heads < 1 || c.width % c.heads !== 0) {
      throw new ClipLoadError(`${config.source}: ${tower} width ${c.width} cannot be split into ${c.heads} heads`);
    }
    if (c.layers < 1) throw new ClipLoadError(`${config.source}: ${tower} tower has no layers`);
  }
  if (config.vision.imageSize % config.vision.patchSize !== 0) {
    throw new ClipLoadError(
      `${config.source}: image size ${config.vision.imageSize} is not a multiple of patch size ${config.vision.patchSize}`,
    );
  }
  return config;
}

function summarise(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
}
