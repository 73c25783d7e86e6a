import * as tf from '@tensorflow/tfjs';
import type { Command } from 'commander';
import { clipEvalTransform } from '../../data/image.ts';
import { initBackend } from '../../dpt/backend.ts';
import { ClipLoadError } from '../../dpt/clip/errors.ts';
import { type LoadedClip, loadClip } from '../../dpt/clip/model.ts';
import { UserError } from '../errors.ts';
import { collect } from '../options.ts';

interface EmbedOptions {
  model: string;
  image: string[];
  text: string[];
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('embed')
    .description(
      'Projected, unnormalised CLIP features of images and texts (like get_image_features / get_text_features)',
    )
    .requiredOption('--model <dir>', 'CLIP checkpoint: Hugging Face directory or OpenAI/open_clip safetensors')
    .option('--image <path>', 'image file (repeatable)', collect, [])
    .option('--text <string>', 'text (repeatable)', collect, [])
    .option('--json', 'print {"image_embeds", "text_embeds", "logit_scale"} as JSON')
    .action(async (options: EmbedOptions) => {
      const result = await embed(options);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const lines = [
        ...result.image_embeds.map((e, i) => `image ${options.image[i]}: ${describe(e)}`),
        ...result.text_embeds.map((e, i) => `text ${JSON.stringify(options.text[i])}: ${describe(e)}`),
        `logit_scale ${result.logit_scale}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

interface EmbedResult {
  image_embeds: number[][];
  text_embeds: number[][];
  logit_scale: number;
}

/** Everything is validated and computed before anything is printed, so a failure leaves no partial output. */
async function embed(options: EmbedOptions): Promise<EmbedResult> {
  if (options.image.length === 0 && options.text.length === 0) {
    throw new UserError('embed needs at least one --image or --text');
  }
  const empty = options.text.findIndex((t) => t.trim() === '');
  if (empty >= 0) throw new UserError(`--text number ${empty + 1} is empty`);
  await initBackend();
  let clip: LoadedClip;
  try {
    clip = await loadClip(options.model);
  } catch (err) {
    if (err instanceof ClipLoadError) throw new UserError(`cannot load CLIP from ${options.model}: ${err.message}`);
    throw err;
  }
  const { model } = clip;
  try {
    const size = model.vision.imageSize;
    const pixels: Float32Array[] = [];
    for (const path of options.image) {
      try {
        pixels.push(await clipEvalTransform(path, size));
      } catch (err) {
        throw new UserError((err as Error).message);
      }
    }
    const image_embeds = pixels.length === 0 ? [] : encodeImages(clip, pixels);
    const text_embeds = options.text.length === 0 ? [] : encodeTexts(clip, options.text);
    return { image_embeds, text_embeds, logit_scale: model.logitScale() };
  } finally {
    model.dispose();
  }
}

function encodeImages({ model }: LoadedClip, pixels: Float32Array[]): number[][] {
  const size = model.vision.imageSize;
  const flat = new Float32Array(pixels.length * size * size * 3);
  pixels.forEach((p, i) => {
    flat.set(p, i * p.length);
  });
  return tf.tidy(() => model.vision.encode(tf.tensor4d(flat, [pixels.length, size, size, 3])).arraySync());
}

function encodeTexts({ model, tokenizer }: LoadedClip, texts: string[]): number[][] {
  const { ids, eotIndex } = tokenizer.encode(texts);
  return tf.tidy(() => model.text.encode(ids, eotIndex).arraySync());
}

function describe(embedding: number[]): string {
  const norm = Math.sqrt(embedding.reduce((s, v) => s + v * v, 0));
  const head = embedding
    .slice(0, 4)
    .map((v) => v.toFixed(4))
    .join(', ');
  return `dim ${embedding.length}, norm ${norm.toFixed(4)}, [${head}, …]`;
}
