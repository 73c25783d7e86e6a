import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type ClipConfig, configFromHf, configFromOpenAiShapes, configFromOpenClip } from './config.ts';
import { ClipLoadError } from './errors.ts';
import { readSafetensorsIndex, readShardedIndex, type TensorEntry } from './safetensors.ts';
import { detectLayout, type Layout } from './weights.ts';

/**
 * Where a CLIP's weights are, their naming layout and the model's sizes, from the safetensors headers and config
 * files alone (no tensor data, no TF.js). loadClip starts from it; dpt/model-sizes.ts reads the sizes with it to check
 * trial configs against the model before anything trains.
 */
export interface LocatedClip {
  dir: string;
  entries: TensorEntry[];
  layout: Layout;
  config: ClipConfig;
}

export async function locateClip(path: string): Promise<LocatedClip> {
  const { dir, entries } = await findWeights(path);
  const layout = detectLayout(entries.map((e) => e.name));
  const config = await findConfig(dir, layout, entries);
  return { dir, entries, layout, config };
}

/** The tokenizer.json loadClip reads by default. Throws ClipLoadError. */
export async function findTokenizer(dir: string): Promise<string> {
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
