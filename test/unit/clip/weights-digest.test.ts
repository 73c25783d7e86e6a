import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../../../dpt/backend.ts';
import { ClipLoadError } from '../../../dpt/clip/errors.ts';
import { loadClip } from '../../../dpt/clip/model.ts';
import { sha256OfWeightFiles } from '../../../dpt/clip/weights-digest.ts';
import { FIXTURES } from '../../support/clip-fixtures.ts';

const sha256 = (...files: string[]) => {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest('hex');
};

describe('the CLIP weights digest recorded with every result', () => {
  beforeAll(async () => {
    await activateBackend('cpu');
  });

  it('is the sha256 of the single file loadClip read', async () => {
    const clip = await loadClip(join(FIXTURES, 'tiny-a-hf'));
    clip.model.dispose();
    const file = join(FIXTURES, 'tiny-a-hf', 'model.safetensors');
    expect(clip.weightFiles).toEqual([file]);
    expect(await sha256OfWeightFiles(clip.weightFiles)).toBe(sha256(file));
  });

  it('covers every shard of a sharded model, concatenated in file-name order', async () => {
    const dir = join(FIXTURES, 'tiny-b-hf');
    const clip = await loadClip(dir);
    clip.model.dispose();
    const shards = [1, 2, 3, 4].map((i) => join(dir, `model-0000${i}-of-00004.safetensors`));
    expect(clip.weightFiles).toEqual(shards);
    expect(await sha256OfWeightFiles([...shards].reverse())).toBe(sha256(...shards));
  });

  it('names the file it cannot read', async () => {
    await expect(sha256OfWeightFiles([join(FIXTURES, 'missing.safetensors')])).rejects.toThrow(ClipLoadError);
    await expect(sha256OfWeightFiles([join(FIXTURES, 'missing.safetensors')])).rejects.toThrow(/missing\.safetensors/);
  });
});
