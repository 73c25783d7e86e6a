import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { ClipLoadError } from './errors.ts';

/**
 * sha256 of a CLIP's weights, recorded next to every result so that a result names the exact checkpoint it came
 * from. `files` are the safetensors files loadClip read (LoadedClip.weightFiles): for a single-file model the digest
 * is that file's own (`sha256sum model.safetensors`); for a sharded one it covers the shards' bytes concatenated in
 * file-name order (`cat model-*-of-*.safetensors | sha256sum`). Streamed in 1 MiB chunks, so a 600 MB ViT-B never
 * sits in memory a second time next to its tensors.
 */
export async function sha256OfWeightFiles(files: readonly string[]): Promise<string> {
  if (files.length === 0) throw new ClipLoadError('no weight files to hash');
  const hash = createHash('sha256');
  for (const file of [...files].sort()) {
    try {
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    } catch (err) {
      throw new ClipLoadError(`cannot read ${basename(file)} to hash it: ${(err as Error).message}`);
    }
  }
  return hash.digest('hex');
}
