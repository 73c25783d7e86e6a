/**
 * Writes canonical CLIP weights as a Hugging Face `CLIPModel` directory: config.json (the fields `configFromHf`
 * reads, plus transformers' bookkeeping) and model.safetensors in float32 with transformers' tensor names. The
 * tensor mapping is the loader's own (`hfRecipes`) run backwards, so whatever loadClip reads, saveHf writes.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClipConfig } from './config.ts';
import type { HostTensor } from './safetensors.ts';
import { type CanonicalWeights, expectedOpenAi, hfRecipes } from './weights.ts';

export interface SaveHfOptions {
  /** tokenizer.json contents to write beside the weights. */
  tokenizer?: unknown;
  /** Token ids recorded in text_config (transformers uses them for generation bookkeeping only). */
  bosTokenId?: number;
  eosTokenId?: number;
  /** String metadata stored in the safetensors header. */
  metadata?: Record<string, string>;
}

/** transformers' CLIPConfig JSON for `config`. */
export function hfConfigJson(config: ClipConfig, opts: SaveHfOptions = {}, logitScale = Math.log(1 / 0.07)) {
  const { vision: v, text: t } = config;
  return {
    architectures: ['CLIPModel'],
    model_type: 'clip',
    projection_dim: config.projDim,
    logit_scale_init_value: logitScale,
    initializer_factor: 1.0,
    torch_dtype: 'float32',
    text_config: {
      model_type: 'clip_text_model',
      hidden_size: t.width,
      intermediate_size: t.mlpDim,
      num_attention_heads: t.heads,
      num_hidden_layers: t.layers,
      max_position_embeddings: t.contextLength,
      vocab_size: t.vocabSize,
      layer_norm_eps: t.layerNormEps,
      hidden_act: t.activation,
      projection_dim: config.projDim,
      ...(opts.bosTokenId !== undefined ? { bos_token_id: opts.bosTokenId } : {}),
      ...(opts.eosTokenId !== undefined ? { eos_token_id: opts.eosTokenId } : {}),
      pad_token_id: 0,
    },
    vision_config: {
      model_type: 'clip_vision_model',
      hidden_size: v.width,
      intermediate_size: v.mlpDim,
      num_attention_heads: v.heads,
      num_hidden_layers: v.layers,
      image_size: v.imageSize,
      patch_size: v.patchSize,
      num_channels: 3,
      layer_norm_eps: v.layerNormEps,
      hidden_act: v.activation,
      projection_dim: config.projDim,
    },
  };
}

/** Canonical (OpenAI-named) weights → transformers-named tensors. Every tensor the config implies must be present. */
function toHfTensors(config: ClipConfig, weights: CanonicalWeights): Map<string, HostTensor> {
  const expected = expectedOpenAi(config);
  for (const [name, shape] of expected) {
    const w = weights.get(name);
    if (!w) throw new Error(`cannot save: canonical tensor ${name} is missing`);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw new Error(
        `cannot save: ${name} has shape [${w.shape.join(', ')}], the config implies [${shape.join(', ')}]`,
      );
    }
  }
  const out = new Map<string, HostTensor>();
  for (const [canonical, recipe] of hfRecipes(config)) {
    const w = weights.get(canonical) as HostTensor;
    if (recipe.kind === 'copy') out.set(recipe.source, { shape: [...recipe.shape], data: w.data });
    else if (recipe.kind === 'transpose') out.set(recipe.source, transposed(w));
    else {
      let offset = 0;
      recipe.sources.forEach((source, i) => {
        const shape = recipe.shapes[i] ?? [];
        const n = shape.reduce((a, b) => a * b, 1);
        out.set(source, { shape: [...shape], data: w.data.slice(offset, offset + n) });
        offset += n;
      });
      if (offset !== w.data.length) throw new Error(`internal: ${canonical} does not split into its HF parts`);
    }
  }
  return out;
}

/** safetensors bytes (float32, little-endian), tensors in name order, header padded to 8 bytes. */
function encodeSafetensors(tensors: Map<string, HostTensor>, metadata?: Record<string, string>): Buffer {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name) as HostTensor;
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8);
  const headerBytes = Buffer.from(headerText, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let at = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors.get(name) as HostTensor;
    for (const v of t.data) {
      out.writeFloatLE(v, at);
      at += 4;
    }
  }
  return out;
}

/**
 * Writes config.json, model.safetensors and (when given) tokenizer.json into `dir`, each through a temporary file and
 * a rename, so an interrupted save never leaves a half-written file under the final name.
 */
export async function saveHf(
  dir: string,
  config: ClipConfig,
  weights: CanonicalWeights,
  opts: SaveHfOptions = {},
): Promise<void> {
  const tensors = toHfTensors(config, weights);
  const logitScale = weights.get('logit_scale')?.data[0] ?? Math.log(1 / 0.07);
  await mkdir(dir, { recursive: true });
  const files: [string, Buffer | string][] = [
    ['model.safetensors', encodeSafetensors(tensors, { format: 'pt', ...opts.metadata })],
    ['config.json', `${JSON.stringify(hfConfigJson(config, opts, logitScale), null, 2)}\n`],
  ];
  if (opts.tokenizer !== undefined) files.push(['tokenizer.json', JSON.stringify(opts.tokenizer)]);
  for (const [name, content] of files) {
    const tmp = join(dir, `.${name}.tmp`);
    await writeFile(tmp, content);
    await rename(tmp, join(dir, name));
  }
}

function transposed(t: HostTensor): HostTensor {
  const [rows = 0, cols = 0] = t.shape;
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = t.data[r * cols + c] ?? 0;
  return { shape: [cols, rows], data };
}
