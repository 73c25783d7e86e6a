import { findTokenizer, locateClip } from './clip/locate.ts';
import { ClipTokenizer } from './clip/tokenizer.ts';
import { type ModelSizes, modelSizesOf } from './trainable.ts';

/**
 * What the trainability rules need to know of a CLIP directory, read as loadClip reads it but without any tensor
 * data: the sizes from its config or safetensors headers, and its tokenizer, which makes the text.ctxInit checks exact.
 * Throws ClipLoadError when the trainer could not load the model either.
 */
export async function readModelSizes(path: string): Promise<ModelSizes> {
  const { dir, config } = await locateClip(path);
  const tokenizer = await ClipTokenizer.fromFile(await findTokenizer(dir), config.text.contextLength);
  return { ...modelSizesOf(config), countTokens: (text) => tokenizer.tokenize(text).length };
}
