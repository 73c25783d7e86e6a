import { createHash } from 'node:crypto';
import type { PythonRandomState } from '../../data/python-random.ts';
import type { SgdState } from '../optim/sgd.ts';
import type { TrialConfig } from '../trial-config.ts';
import type { EpochMetrics } from './types.ts';

/**
 * A trial checkpoint as ONE byte buffer (stored by the orchestrator in PostgreSQL):
 *   "DPTCKPT1" | u32 LE header length | UTF-8 JSON header | zero padding to 4 bytes | float32 LE tensor data
 * The header names each tensor (trainable parameters and momentum buffers) with its shape and offset, and carries the
 * completed epoch count, the generator state, the optimizer step count, the metrics of the epochs done so far and a
 * fingerprint of the training-relevant config so a checkpoint cannot be resumed into a different trial.
 */
const MAGIC = 'DPTCKPT1';

export interface TensorBlob {
  key: string;
  shape: number[];
  values: Float32Array;
}

export interface CheckpointData {
  configFingerprint: string;
  /** number of completed epochs; training resumes at this 0-based epoch */
  epochsDone: number;
  rngState: PythonRandomState;
  optimizerSteps: number;
  params: TensorBlob[];
  momentum: TensorBlob[];
  history: EpochMetrics[];
}

interface TensorEntry {
  key: string;
  shape: number[];
  /** offset in float32 elements from the start of the data section */
  offset: number;
}

interface Header {
  format: 'dpt-sweep-checkpoint';
  version: 1;
  configFingerprint: string;
  epochsDone: number;
  rngState: PythonRandomState;
  optimizerSteps: number;
  params: TensorEntry[];
  momentum: TensorEntry[];
  history: EpochMetrics[];
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** What decides the trained parameters: method, data selection, seed, prompts, losses, optimisation. */
export function configFingerprint(cfg: TrialConfig): string {
  const relevant = {
    method: cfg.method,
    dataset: cfg.dataset,
    shots: cfg.shots,
    seed: cfg.seed,
    text: cfg.text,
    vpt: cfg.vpt,
    cavpt: cfg.cavpt,
    loss: cfg.loss,
    optim: cfg.optim,
    // Only when it is set, so that checkpoints written before base-to-novel existed still resume.
    ...(cfg.subsampleClasses === 'base' ? { subsampleClasses: cfg.subsampleClasses } : {}),
  };
  return createHash('sha256').update(canonicalJson(relevant)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function encodeCheckpoint(data: CheckpointData): Buffer {
  let offset = 0;
  const place = (blobs: TensorBlob[]): TensorEntry[] =>
    blobs.map((b) => {
      const size = b.shape.reduce((x, y) => x * y, 1);
      if (size !== b.values.length)
        throw new CheckpointError(`tensor ${b.key}: shape [${b.shape}] ≠ ${b.values.length} values`);
      const entry = { key: b.key, shape: b.shape, offset };
      offset += size;
      return entry;
    });
  const header: Header = {
    format: 'dpt-sweep-checkpoint',
    version: 1,
    configFingerprint: data.configFingerprint,
    epochsDone: data.epochsDone,
    rngState: data.rngState,
    optimizerSteps: data.optimizerSteps,
    params: place(data.params),
    momentum: place(data.momentum),
    history: data.history,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const dataStart = align4(MAGIC.length + 4 + headerBytes.length);
  const out = Buffer.alloc(dataStart + offset * 4);
  out.write(MAGIC, 0, 'ascii');
  out.writeUInt32LE(headerBytes.length, MAGIC.length);
  headerBytes.copy(out, MAGIC.length + 4);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let pos = dataStart;
  for (const blob of [...data.params, ...data.momentum]) {
    for (const v of blob.values) {
      view.setFloat32(pos, v, true);
      pos += 4;
    }
  }
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): CheckpointData {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MAGIC.length + 4 || buf.toString('ascii', 0, MAGIC.length) !== MAGIC) {
    throw new CheckpointError('not a dpt-sweep checkpoint (bad magic bytes)');
  }
  const headerLength = buf.readUInt32LE(MAGIC.length);
  const headerEnd = MAGIC.length + 4 + headerLength;
  if (headerEnd > buf.length) throw new CheckpointError('checkpoint is truncated (header)');
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, headerEnd)) as Header;
  } catch {
    throw new CheckpointError('checkpoint header is not valid JSON');
  }
  if (header.format !== 'dpt-sweep-checkpoint' || header.version !== 1) {
    throw new CheckpointError(`unsupported checkpoint format ${String(header.format)} v${String(header.version)}`);
  }
  const dataStart = align4(headerEnd);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const read = (entries: TensorEntry[]): TensorBlob[] =>
    entries.map((e) => {
      const size = e.shape.reduce((x, y) => x * y, 1);
      const start = dataStart + e.offset * 4;
      if (start + size * 4 > buf.length) throw new CheckpointError(`checkpoint is truncated (tensor ${e.key})`);
      const values = new Float32Array(size);
      for (let i = 0; i < size; i++) values[i] = view.getFloat32(start + i * 4, true);
      return { key: e.key, shape: e.shape, values };
    });
  return {
    configFingerprint: header.configFingerprint,
    epochsDone: header.epochsDone,
    rngState: header.rngState,
    optimizerSteps: header.optimizerSteps,
    params: read(header.params),
    momentum: read(header.momentum),
    history: header.history,
  };
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

export function sgdStateToBlobs(state: SgdState): TensorBlob[] {
  return Object.entries(state.buffers).map(([key, b]) => ({ key, shape: b.shape, values: b.values }));
}

export function blobsToSgdState(steps: number, blobs: TensorBlob[]): SgdState {
  return { steps, buffers: Object.fromEntries(blobs.map((b) => [b.key, { shape: b.shape, values: b.values }])) };
}
