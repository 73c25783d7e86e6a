import type { ClipConfig } from './config.ts';
import { ClipLoadError } from './errors.ts';
import { WeightStore } from './layers.ts';
import { findTokenizer, locateClip } from './locate.ts';
import { TextTower } from './text.ts';
import { ClipTokenizer } from './tokenizer.ts';
import { VisionTower } from './vision.ts';
import { type CanonicalWeights, type Layout, loadCanonical, validateTensors } from './weights.ts';

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
  /** The safetensors files the tensors were read from, sorted (one, or the shards): what the weights digest covers. */
  weightFiles: string[];
}

/**
 * Loads CLIP from a Hugging Face directory (config.json, model.safetensors or model.safetensors.index.json,
 * tokenizer.json) or from OpenAI / open_clip-named safetensors (sizes from open_clip_config.json, config.json, or
 * the tensor shapes). `path` may also be a .safetensors file.
 */
export async function loadClip(path: string, options: LoadClipOptions = {}): Promise<LoadedClip> {
  const { dir, entries, layout, config } = await locateClip(path);
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
  const weightFiles = [...new Set(entries.map((e) => e.file))].sort();
  return { model: new ClipModel(config, weights), tokenizer, layout, weightFiles };
}
