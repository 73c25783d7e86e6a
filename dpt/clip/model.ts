import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type ClipConfig, configFromHf, configFromOpenAiShapes, configFromOpenClip } from './config.ts';
import { ClipLoadError } from './errors.ts';
import { WeightStore } from './layers.ts';
import { readSafetensorsIndex, readShardedIndex, type TensorEntry } from './safetensors.ts';
import { TextTower } from './text.ts';
import { ClipTokenizer } from './tokenizer.ts';
import { VisionTower } from './vision.ts';
import { type CanonicalWeights, detectLayout, type Layout, loadCanonical, validateTensors } from './weights.ts';

/** A frozen CLIP model on TF.js. */
export class ClipModel {
  readonly vision: VisionTower;
  readonly text: TextTower;
  private readonly store: WeightStore;
  private readonly logitScaleLog: number;

  constructor(
    readonly config: ClipConfig,
    weights: CanonicalWeights,
  ) {
    this.store = new WeightStore(weights);
    this.vision = new VisionTower(config.vision, this.store);
    this.text = new TextTower(config.text, this.store);
    this.logitScaleLog = weights.get('logit_scale')?.data[0] ?? Math.log(100);
  }

  /** exp(logit_scale): the factor CLIP multiplies cosine similarities by (≈100 for OpenAI's weights). */
  logitScale(): number {
    return Math.exp(this.logitScaleLog);
  }

  dispose(): void {
    this.store.dispose();
  }
}

export interface LoadClipOptions {
  /** A tokenizer.json (or .json.gz) to use instead of the one in the model directory. */
  tokenizerPath?: string;
}

export interface LoadedClip {
  model: ClipModel;
  tokenizer: ClipTokenizer;
  layout: Layout;
}

/**
 * Loads CLIP from a Hugging Face directory (config.json, model.safetensors or model.safetensors.index.json,
 * tokenizer.json) or from OpenAI / open_clip-named safetensors (sizes from open_clip_config.json, config.json, or
 * the tensor shapes). `path` may also be a .safetensors file.
 */
export async function loadClip(path: string, options: LoadClipOptions = {}): Promise<LoadedClip> {
  const { dir, entries } = await findWeights(path);
  const layout = detectLayout(entries.map((e) => e.name));
  const config = await findConfig(dir, layout, entries);
  validateTensors(entries, layout, config);
  const tokenizer = await ClipTokenizer.fromFile(
    options.tokenizerPath ?? (await findTokenizer(dir)),
    config.text.contextLength,
  );
  if (tokenizer.vocabSize > config.text.vocabSize) {
    throw new ClipLoadError(
      `tokenizer has ${tokenizer.vocabSize} tokens but the model's embedding table has only ${config.text.vocabSize} rows`,
    );
  }
  const weights = await loadCanonical(entries, layout, config);
  return { model: new ClipModel(config, weights), tokenizer, layout };
}

async function findWeights(path: string): Promise<{ dir: string; entries: TensorEntry[] }> {
  const info = await stat(path).catch(() => {
    throw new ClipLoadError(`model path ${path} does not exist`);
  });
  if (info.isFile()) {
    if (path.endsWith('.index.json')) return { dir: dirname(path), entries: await readShardedIndex(path) };
    return { dir: dirname(path), entries: await readSafetensorsIndex(path) };
  }
  const files = await readdir(path);
  for (const name of ['model.safetensors.index.json', 'open_clip_model.safetensors.index.json']) {
    if (files.includes(name)) return { dir: path, entries: await readShardedIndex(join(path, name)) };
  }
  for (const name of ['model.safetensors', 'open_clip_model.safetensors']) {
    if (files.includes(name)) return { dir: path, entries: await readSafetensorsIndex(join(path, name)) };
  }
  const others = files.filter((f) => f.endsWith('.safetensors'));
  if (others.length === 1 && others[0])
    return { dir: path, entries: await readSafetensorsIndex(join(path, others[0])) };
  if (others.length > 1) {
    throw new ClipLoadError(`${path} holds several .safetensors files but no index; pass the file itself`);
  }
  throw new ClipLoadError(`${path} has no model.safetensors, model.safetensors.index.json or other .safetensors file`);
}

async function findConfig(dir: string, layout: Layout, entries: TensorEntry[]): Promise<ClipConfig> {
  const hf = await readJsonIfPresent(join(dir, 'config.json'));
  if (hf !== undefined) return configFromHf(hf, `${basename(dir)}/config.json`);
  const openClip = await readJsonIfPresent(join(dir, 'open_clip_config.json'));
  if (openClip !== undefined) return configFromOpenClip(openClip, `${basename(dir)}/open_clip_config.json`);
  if (layout === 'openai') return configFromOpenAiShapes(new Map(entries.map((e) => [e.name, e.shape])));
  throw new ClipLoadError(`${dir} has Hugging Face tensor names but no config.json`);
}

async function findTokenizer(dir: string): Promise<string> {
  for (const name of ['tokenizer.json', 'tokenizer.json.gz']) {
    const candidate = join(dir, name);
    if (
      await stat(candidate)
        .then((s) => s.isFile())
        .catch(() => false)
    )
      return candidate;
  }
  throw new ClipLoadError(`${dir} has no tokenizer.json (or tokenizer.json.gz)`);
}

async function readJsonIfPresent(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ClipLoadError(`${file} is not valid JSON`);
  }
}
