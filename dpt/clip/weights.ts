import type { ClipConfig } from './config.ts';
import { ClipLoadError } from './errors.ts';
import { type HostTensor, readTensor, type TensorEntry } from './safetensors.ts';

/**
 * Canonical weights use OpenAI's CLIP names and orientations (packed q,k,v `in_proj_weight` [3D, D], Linear weights
 * [out, in], `visual.proj` / `text_projection` applied as x @ P). Both checkpoint layouts are converted to this.
 */
export type CanonicalWeights = Map<string, HostTensor>;

export type Layout = 'hf' | 'openai';

/** Buffers some checkpoints carry that are not weights. */
const IGNORED = [/(^|\.)position_ids$/, /(^|\.)attn_mask$/];

export function detectLayout(names: string[]): Layout {
  if (names.some((n) => n.startsWith('vision_model.') || n.startsWith('text_model.'))) return 'hf';
  if (names.some((n) => n.startsWith('visual.'))) return 'openai';
  throw new ClipLoadError(
    `the checkpoint has neither Hugging Face (vision_model.*) nor OpenAI (visual.*) CLIP tensor names (first: ${names[0] ?? 'none'})`,
  );
}

/** The tensors OpenAI names imply for `config`, with their shapes. */
export function expectedOpenAi(config: ClipConfig): Map<string, number[]> {
  const { vision: v, text: t, projDim } = config;
  const grid = v.imageSize / v.patchSize;
  const out = new Map<string, number[]>();
  const block = (prefix: string, d: number, m: number) => {
    out.set(`${prefix}ln_1.weight`, [d]);
    out.set(`${prefix}ln_1.bias`, [d]);
    out.set(`${prefix}attn.in_proj_weight`, [3 * d, d]);
    out.set(`${prefix}attn.in_proj_bias`, [3 * d]);
    out.set(`${prefix}attn.out_proj.weight`, [d, d]);
    out.set(`${prefix}attn.out_proj.bias`, [d]);
    out.set(`${prefix}ln_2.weight`, [d]);
    out.set(`${prefix}ln_2.bias`, [d]);
    out.set(`${prefix}mlp.c_fc.weight`, [m, d]);
    out.set(`${prefix}mlp.c_fc.bias`, [m]);
    out.set(`${prefix}mlp.c_proj.weight`, [d, m]);
    out.set(`${prefix}mlp.c_proj.bias`, [d]);
  };
  out.set('visual.conv1.weight', [v.width, 3, v.patchSize, v.patchSize]);
  out.set('visual.class_embedding', [v.width]);
  out.set('visual.positional_embedding', [grid * grid + 1, v.width]);
  out.set('visual.ln_pre.weight', [v.width]);
  out.set('visual.ln_pre.bias', [v.width]);
  for (let i = 0; i < v.layers; i++) block(`visual.transformer.resblocks.${i}.`, v.width, v.mlpDim);
  out.set('visual.ln_post.weight', [v.width]);
  out.set('visual.ln_post.bias', [v.width]);
  out.set('visual.proj', [v.width, projDim]);
  out.set('token_embedding.weight', [t.vocabSize, t.width]);
  out.set('positional_embedding', [t.contextLength, t.width]);
  for (let i = 0; i < t.layers; i++) block(`transformer.resblocks.${i}.`, t.width, t.mlpDim);
  out.set('ln_final.weight', [t.width]);
  out.set('ln_final.bias', [t.width]);
  out.set('text_projection', [t.width, projDim]);
  out.set('logit_scale', []);
  return out;
}

/** How each canonical tensor is assembled from Hugging Face tensors. */
export type HfRecipe =
  | { kind: 'copy'; source: string; shape: number[] }
  | { kind: 'concat'; sources: string[]; shapes: number[][] }
  | { kind: 'transpose'; source: string; shape: number[] };

export function hfRecipes(config: ClipConfig): Map<string, HfRecipe> {
  const { vision: v, text: t, projDim } = config;
  const grid = v.imageSize / v.patchSize;
  const recipes = new Map<string, HfRecipe>();
  const copy = (canonical: string, source: string, shape: number[]) =>
    recipes.set(canonical, { kind: 'copy', source, shape });
  const block = (oa: string, hf: string, d: number, m: number) => {
    copy(`${oa}ln_1.weight`, `${hf}layer_norm1.weight`, [d]);
    copy(`${oa}ln_1.bias`, `${hf}layer_norm1.bias`, [d]);
    recipes.set(`${oa}attn.in_proj_weight`, {
      kind: 'concat',
      sources: ['q', 'k', 'v'].map((p) => `${hf}self_attn.${p}_proj.weight`),
      shapes: [
        [d, d],
        [d, d],
        [d, d],
      ],
    });
    recipes.set(`${oa}attn.in_proj_bias`, {
      kind: 'concat',
      sources: ['q', 'k', 'v'].map((p) => `${hf}self_attn.${p}_proj.bias`),
      shapes: [[d], [d], [d]],
    });
    copy(`${oa}attn.out_proj.weight`, `${hf}self_attn.out_proj.weight`, [d, d]);
    copy(`${oa}attn.out_proj.bias`, `${hf}self_attn.out_proj.bias`, [d]);
    copy(`${oa}ln_2.weight`, `${hf}layer_norm2.weight`, [d]);
    copy(`${oa}ln_2.bias`, `${hf}layer_norm2.bias`, [d]);
    copy(`${oa}mlp.c_fc.weight`, `${hf}mlp.fc1.weight`, [m, d]);
    copy(`${oa}mlp.c_fc.bias`, `${hf}mlp.fc1.bias`, [m]);
    copy(`${oa}mlp.c_proj.weight`, `${hf}mlp.fc2.weight`, [d, m]);
    copy(`${oa}mlp.c_proj.bias`, `${hf}mlp.fc2.bias`, [d]);
  };
  copy('visual.conv1.weight', 'vision_model.embeddings.patch_embedding.weight', [v.width, 3, v.patchSize, v.patchSize]);
  copy('visual.class_embedding', 'vision_model.embeddings.class_embedding', [v.width]);
  copy('visual.positional_embedding', 'vision_model.embeddings.position_embedding.weight', [grid * grid + 1, v.width]);
  // "pre_layrnorm" is transformers' own spelling.
  copy('visual.ln_pre.weight', 'vision_model.pre_layrnorm.weight', [v.width]);
  copy('visual.ln_pre.bias', 'vision_model.pre_layrnorm.bias', [v.width]);
  for (let i = 0; i < v.layers; i++) {
    block(`visual.transformer.resblocks.${i}.`, `vision_model.encoder.layers.${i}.`, v.width, v.mlpDim);
  }
  copy('visual.ln_post.weight', 'vision_model.post_layernorm.weight', [v.width]);
  copy('visual.ln_post.bias', 'vision_model.post_layernorm.bias', [v.width]);
  recipes.set('visual.proj', { kind: 'transpose', source: 'visual_projection.weight', shape: [projDim, v.width] });
  copy('token_embedding.weight', 'text_model.embeddings.token_embedding.weight', [t.vocabSize, t.width]);
  copy('positional_embedding', 'text_model.embeddings.position_embedding.weight', [t.contextLength, t.width]);
  for (let i = 0; i < t.layers; i++) {
    block(`transformer.resblocks.${i}.`, `text_model.encoder.layers.${i}.`, t.width, t.mlpDim);
  }
  copy('ln_final.weight', 'text_model.final_layer_norm.weight', [t.width]);
  copy('ln_final.bias', 'text_model.final_layer_norm.bias', [t.width]);
  recipes.set('text_projection', { kind: 'transpose', source: 'text_projection.weight', shape: [projDim, t.width] });
  copy('logit_scale', 'logit_scale', []);
  return recipes;
}

/** Source tensor name → expected shape, for either layout. */
function expectedSourceShapes(layout: Layout, config: ClipConfig): Map<string, number[]> {
  if (layout === 'openai') return expectedOpenAi(config);
  const out = new Map<string, number[]>();
  for (const recipe of hfRecipes(config).values()) {
    if (recipe.kind !== 'concat') {
      out.set(recipe.source, recipe.shape);
      continue;
    }
    for (const [i, source] of recipe.sources.entries()) out.set(source, recipe.shapes[i] ?? []);
  }
  return out;
}

/**
 * Checks the checkpoint's tensors against what the config implies, before any data is read: the first missing,
 * unexpected or wrongly shaped tensor is reported by name, with both shapes.
 */
export function validateTensors(entries: TensorEntry[], layout: Layout, config: ClipConfig): void {
  const expected = expectedSourceShapes(layout, config);
  const present = new Map<string, TensorEntry>();
  for (const entry of entries) {
    if (IGNORED.some((re) => re.test(entry.name))) continue;
    present.set(entry.name, entry);
  }
  for (const [name, entry] of present) {
    const shape = expected.get(name);
    if (shape === undefined) {
      throw new ClipLoadError(
        `unexpected tensor ${name} [${entry.shape.join(', ')}]: not part of a CLIP model with the sizes in ${config.source}`,
      );
    }
    if (!sameShape(shape, entry.shape)) {
      throw new ClipLoadError(
        `tensor ${name} has shape [${entry.shape.join(', ')}] but ${config.source} implies [${shape.join(', ')}]`,
      );
    }
  }
  for (const [name, shape] of expected) {
    if (!present.has(name)) throw new ClipLoadError(`missing tensor ${name} (expected shape [${shape.join(', ')}])`);
  }
}

/** Reads every needed tensor (already validated) and converts it to the canonical OpenAI layout. */
export async function loadCanonical(
  entries: TensorEntry[],
  layout: Layout,
  config: ClipConfig,
): Promise<CanonicalWeights> {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const read = (name: string): Promise<HostTensor> => {
    const entry = byName.get(name);
    if (!entry) throw new ClipLoadError(`missing tensor ${name}`);
    return readTensor(entry);
  };
  const out: CanonicalWeights = new Map();
  if (layout === 'openai') {
    for (const name of expectedOpenAi(config).keys()) out.set(name, await read(name));
    return out;
  }
  for (const [canonical, recipe] of hfRecipes(config)) {
    if (recipe.kind === 'copy') out.set(canonical, await read(recipe.source));
    else if (recipe.kind === 'transpose') out.set(canonical, transpose2d(await read(recipe.source)));
    else out.set(canonical, concatRows(await Promise.all(recipe.sources.map(read))));
  }
  return out;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function transpose2d(t: HostTensor): HostTensor {
  const [rows = 0, cols = 0] = t.shape;
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[c * rows + r] = t.data[r * cols + c] ?? 0;
  return { shape: [cols, rows], data };
}

function concatRows(parts: HostTensor[]): HostTensor {
  const total = parts.reduce((n, p) => n + p.data.length, 0);
  const data = new Float32Array(total);
  let offset = 0;
  for (const p of parts) {
    data.set(p.data, offset);
    offset += p.data.length;
  }
  const rows = parts.reduce((n, p) => n + (p.shape[0] ?? 0), 0);
  return { shape: [rows, ...(parts[0]?.shape.slice(1) ?? [])], data };
}
