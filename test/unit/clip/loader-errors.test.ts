import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../../../dpt/backend.ts';
import { ClipLoadError } from '../../../dpt/clip/errors.ts';
import { loadClip } from '../../../dpt/clip/model.ts';
import { halfToFloat, toFloat32 } from '../../../dpt/clip/safetensors.ts';
import { FIXTURES } from '../../support/clip-fixtures.ts';

let work: string;
beforeAll(async () => {
  await activateBackend('cpu');
  work = mkdtempSync(join(tmpdir(), 'clip-loader-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function copyFixture(name: string): string {
  const dir = join(work, `${name}-${Math.random().toString(36).slice(2)}`);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

function editJson(file: string, edit: (json: Record<string, Record<string, unknown>>) => void): void {
  const json = JSON.parse(readFileSync(file, 'utf8'));
  edit(json);
  writeFileSync(file, JSON.stringify(json));
}

/** Rewrites a safetensors file with one tensor renamed (header edit only; offsets stay valid). */
function renameTensor(file: string, from: string, to: string): void {
  const buf = readFileSync(file);
  const len = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + len).toString('utf8'));
  header[to] = header[from];
  delete header[from];
  const text = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  writeFileSync(file, Buffer.concat([prefix, text, buf.subarray(8 + len)]));
}

describe('CLIP checkpoint errors name the tensor and both shapes', () => {
  it('wrong MLP width in config.json → misshaped tensor with both shapes', async () => {
    const dir = copyFixture('tiny-a-hf');
    editJson(join(dir, 'config.json'), (j) => {
      (j.vision_config as Record<string, unknown>).intermediate_size = 64;
    });
    await expect(loadClip(dir)).rejects.toThrow(
      /tensor vision_model\.encoder\.layers\.0\.mlp\.fc1\.(weight|bias) has shape \[128(, 32)?\] but .*config\.json implies \[64(, 32)?\]/,
    );
  });

  it('more layers in the config than in the file → missing tensor', async () => {
    const dir = copyFixture('tiny-a-openai');
    editJson(join(dir, 'open_clip_config.json'), (j) => {
      ((j.model_cfg as Record<string, unknown>).text_cfg as Record<string, unknown>).layers = 3;
    });
    await expect(loadClip(dir)).rejects.toThrow(
      /missing tensor transformer\.resblocks\.2\.ln_1\.weight \(expected shape \[32\]\)/,
    );
  });

  it('fewer layers in the config than in the file → unexpected tensor', async () => {
    const dir = copyFixture('tiny-a-hf');
    editJson(join(dir, 'config.json'), (j) => {
      (j.text_config as Record<string, unknown>).num_hidden_layers = 1;
    });
    await expect(loadClip(dir)).rejects.toThrow(
      /unexpected tensor text_model\.encoder\.layers\.1\.\S+ \[\d+(, \d+)?\]/,
    );
  });

  it('a renamed tensor → unexpected tensor', async () => {
    const dir = copyFixture('tiny-a-openai');
    renameTensor(join(dir, 'open_clip_model.safetensors'), 'visual.proj', 'visual.projection');
    await expect(loadClip(dir)).rejects.toThrow(/unexpected tensor visual\.projection \[32, 24\]/);
  });

  it('truncated safetensors', async () => {
    const dir = copyFixture('tiny-a-hf');
    const file = join(dir, 'model.safetensors');
    truncateSync(file, Math.floor(readFileSync(file).length / 2));
    await expect(loadClip(dir)).rejects.toThrow(/model\.safetensors is truncated: tensor \S+ ends at data byte \d+/);
  });

  it('a file that is not safetensors', async () => {
    const dir = copyFixture('tiny-a-hf');
    writeFileSync(join(dir, 'model.safetensors'), 'this is not a checkpoint at all, just some text');
    await expect(loadClip(dir)).rejects.toThrow(ClipLoadError);
  });

  it('sharded HF checkpoint with a shard missing', async () => {
    const dir = copyFixture('tiny-b-hf');
    rmSync(join(dir, 'model-00002-of-00004.safetensors'));
    await expect(loadClip(dir)).rejects.toThrow(/model-00002-of-00004\.safetensors/);
  });

  it('no tokenizer', async () => {
    const dir = copyFixture('tiny-a-hf');
    rmSync(join(dir, 'tokenizer.json'));
    await expect(loadClip(dir)).rejects.toThrow(/no tokenizer\.json/);
  });
});

describe('reduced-precision decoding', () => {
  it('fp16 values decode exactly', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7c00)).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
    expect(Array.from(toFloat32(new Uint8Array([0x00, 0x3c, 0x55, 0x35]), 'F16'))).toEqual([1, halfToFloat(0x3555)]);
  });

  it('bf16 values decode exactly', () => {
    // 0x3f80 = 1.0, 0xc040 = -3.0, 0x3eaa ≈ 0.33203125
    expect(Array.from(toFloat32(new Uint8Array([0x80, 0x3f, 0x40, 0xc0, 0xaa, 0x3e]), 'BF16'))).toEqual([
      1, -3, 0.33203125,
    ]);
  });
});
