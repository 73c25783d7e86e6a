import { open, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { ClipLoadError } from './errors.ts';

/** A tensor as stored on disk, converted to float32 on read. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export interface TensorEntry {
  name: string;
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  file: string;
  /** Absolute byte range inside `file`. */
  start: number;
  end: number;
}

const BYTES: Record<TensorEntry['dtype'], number> = { F32: 4, F16: 2, BF16: 2 };

const headerEntrySchema = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});

/** Reads and validates a safetensors header; data is read later, tensor by tensor. */
export async function readSafetensorsIndex(file: string): Promise<TensorEntry[]> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const name = basename(file);
    if (size < 8) throw new ClipLoadError(`${name} is truncated: ${size} bytes, not even a safetensors header`);
    const lenBuf = Buffer.alloc(8);
    await handle.read(lenBuf, 0, 8, 0);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > size - 8) {
      throw new ClipLoadError(
        `${name} is truncated or not safetensors: header claims ${headerLen} bytes, file has ${size}`,
      );
    }
    const headerBuf = Buffer.alloc(headerLen);
    await handle.read(headerBuf, 0, headerLen, 8);
    let header: unknown;
    try {
      header = JSON.parse(headerBuf.toString('utf8'));
    } catch {
      throw new ClipLoadError(`${name} is not a safetensors file (header is not JSON)`);
    }
    if (typeof header !== 'object' || header === null)
      throw new ClipLoadError(`${name}: safetensors header is not an object`);
    const dataStart = 8 + headerLen;
    const dataLen = size - dataStart;
    const entries: TensorEntry[] = [];
    for (const [tensorName, raw] of Object.entries(header)) {
      if (tensorName === '__metadata__') continue;
      const parsed = headerEntrySchema.safeParse(raw);
      if (!parsed.success) throw new ClipLoadError(`${name}: malformed header entry for tensor ${tensorName}`);
      const { dtype, shape, data_offsets } = parsed.data;
      if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
        throw new ClipLoadError(
          `${name}: tensor ${tensorName} has dtype ${dtype}; only F32, F16 and BF16 are supported`,
        );
      }
      const [begin, end] = data_offsets;
      const expected = shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
      if (end - begin !== expected) {
        throw new ClipLoadError(
          `${name}: tensor ${tensorName} [${shape.join(', ')}] ${dtype} needs ${expected} bytes but spans ${end - begin}`,
        );
      }
      if (end > dataLen) {
        throw new ClipLoadError(
          `${name} is truncated: tensor ${tensorName} ends at data byte ${end} but the file has only ${dataLen} data bytes`,
        );
      }
      entries.push({ name: tensorName, dtype, shape, file, start: dataStart + begin, end: dataStart + end });
    }
    return entries;
  } finally {
    await handle.close();
  }
}

const shardIndexSchema = z.object({ weight_map: z.record(z.string(), z.string()) });

/** Reads a sharded checkpoint's index (`model.safetensors.index.json`) and every shard's header. */
export async function readShardedIndex(indexFile: string): Promise<TensorEntry[]> {
  let parsed: z.infer<typeof shardIndexSchema>;
  try {
    parsed = shardIndexSchema.parse(JSON.parse(await readFile(indexFile, 'utf8')));
  } catch (err) {
    throw new ClipLoadError(
      `${basename(indexFile)} is not a valid safetensors index: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  const shards = [...new Set(Object.values(parsed.weight_map))];
  const entries: TensorEntry[] = [];
  for (const shard of shards) {
    const inShard = await readSafetensorsIndex(join(dirname(indexFile), shard));
    for (const entry of inShard) {
      if (parsed.weight_map[entry.name] !== shard) {
        throw new ClipLoadError(`tensor ${entry.name} is in ${shard} but the index places it elsewhere`);
      }
      entries.push(entry);
    }
  }
  const found = new Set(entries.map((e) => e.name));
  const lost = Object.keys(parsed.weight_map).filter((n) => !found.has(n));
  if (lost.length > 0) throw new ClipLoadError(`the index lists tensor ${lost[0]} but its shard does not contain it`);
  return entries;
}

/** Reads one tensor's bytes and converts them to float32. */
export async function readTensor(entry: TensorEntry): Promise<HostTensor> {
  const handle = await open(entry.file, 'r');
  try {
    const bytes = Buffer.alloc(entry.end - entry.start);
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, entry.start);
    if (bytesRead !== bytes.length)
      throw new ClipLoadError(`${basename(entry.file)} is truncated at tensor ${entry.name}`);
    return { shape: entry.shape, data: toFloat32(bytes, entry.dtype) };
  } finally {
    await handle.close();
  }
}

export function toFloat32(bytes: Uint8Array, dtype: TensorEntry['dtype']): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / BYTES[dtype];
  const out = new Float32Array(n);
  if (dtype === 'F32') {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (dtype === 'BF16') {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u32[i] = view.getUint16(i * 2, true) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  }
  return out;
}

/** IEEE 754 binary16 → number, exact for every value including subnormals, infinities and NaN. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
