/**
 * Readers for the CoOp dataset layouts, following CoOp's `datasets/*.py` (the copies DPT ships): same files, same
 * label assignment, same item order. One deliberate difference: where the official code lists image files with an
 * unsorted `os.listdir` (ImageNet and its four variants), the order of items within a class folder is the
 * filesystem's and differs between machines; here it is sorted (by UTF-16 code unit, equal to Python's order for
 * the ASCII names these sets use) so every worker of a sweep sees the same list and the same few-shot picks.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DatasetError } from '../errors.ts';
import type { DatasetInfo, Item } from './types.ts';

export interface RawSplits {
  train: Item[];
  val: Item[];
  test: Item[];
}

const splitEntry = z.tuple([z.string().min(1), z.number().int(), z.string()]);
const splitFileSchema = z.object({
  train: z.array(splitEntry),
  val: z.array(splitEntry),
  test: z.array(splitEntry),
});

export async function readRawSplits(info: DatasetInfo, datasetDir: string): Promise<RawSplits> {
  switch (info.layout) {
    case 'split-json':
      return readSplitJson(info, datasetDir);
    case 'fgvc-text':
      return readFgvc(info, datasetDir);
    case 'imagenet-folders':
      return readImagenet(info, datasetDir);
    case 'imagenet-v2':
      return { train: [], val: [], test: await readImagenetV2(info, datasetDir) };
    case 'imagenet-variant':
      return { train: [], val: [], test: await readImagenetVariant(info, datasetDir) };
  }
}

/** `OxfordPets.read_split`: `os.path.join(prefix, relpath)` for every triple, in file order. */
async function readSplitJson(info: DatasetInfo, datasetDir: string): Promise<RawSplits> {
  const file = path.join(datasetDir, info.requiredFiles[0] as string);
  const text = await readText(file, `the split file of ${info.name} (CoOp's ${path.basename(file)})`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DatasetError(`${file} is not valid JSON: ${(err as Error).message}`, 'bad-format');
  }
  const parsed = splitFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.')}: ${issue.message}` : 'unexpected structure';
    throw new DatasetError(
      `${file} is not a split_zhou file ({"train"|"val"|"test": [[relpath, label, classname], ...]}); ${where}`,
      'bad-format',
    );
  }
  const prefix = path.join(datasetDir, info.imageDir);
  const convert = (entries: [string, number, string][]): Item[] =>
    entries.map(([rel, label, classname]) => ({ impath: path.resolve(prefix, rel), label, classname }));
  return { train: convert(parsed.data.train), val: convert(parsed.data.val), test: convert(parsed.data.test) };
}

/** FGVCAircraft: one class per line of variants.txt; `<id> <variant words...>` lines in the split files. */
async function readFgvc(info: DatasetInfo, datasetDir: string): Promise<RawSplits> {
  const variantsFile = path.join(datasetDir, 'variants.txt');
  const variants = textLines(await readText(variantsFile, 'the FGVCAircraft class list')).map((l) => l.trim());
  const labelOf = new Map<string, number>();
  for (const [i, name] of variants.entries()) labelOf.set(name, i);
  const imageDir = path.join(datasetDir, info.imageDir);

  const readSplit = async (split: string): Promise<Item[]> => {
    const file = path.join(datasetDir, `images_variant_${split}.txt`);
    const lines = textLines(await readText(file, `the FGVCAircraft ${split} list`));
    const items: Item[] = [];
    lines.forEach((line, i) => {
      const trimmed = line.trim();
      if (trimmed === '') return;
      const words = trimmed.split(' ');
      const classname = words.slice(1).join(' ');
      const label = labelOf.get(classname);
      if (label === undefined) {
        throw new DatasetError(
          `${file}:${i + 1}: variant "${classname}" is not in variants.txt (label outside the class list)`,
          'bad-label',
        );
      }
      items.push({ impath: path.join(imageDir, `${words[0]}.jpg`), label, classname });
    });
    return items;
  };
  return { train: await readSplit('train'), val: await readSplit('val'), test: await readSplit('test') };
}

/** ImageNet: labels by sorted class folder of images/train; images/val is the test set (and the official val). */
async function readImagenet(info: DatasetInfo, datasetDir: string): Promise<RawSplits> {
  const classnames = await readClassnamesTxt(path.join(datasetDir, 'classnames.txt'));
  const imageDir = path.join(datasetDir, info.imageDir);
  const trainFolders = await listSubfolders(path.join(imageDir, 'train'));
  const valFolders = await listSubfolders(path.join(imageDir, 'val'));
  if (trainFolders.join('\n') !== valFolders.join('\n')) {
    // The official reader enumerates each split's folders separately; differing sets would silently shift labels.
    throw new DatasetError(
      `${imageDir}/train and ${imageDir}/val must hold the same class folders (${trainFolders.length} vs ${valFolders.length})`,
      'bad-format',
    );
  }
  const readSplit = async (split: string, folders: string[]): Promise<Item[]> => {
    const items: Item[] = [];
    for (const [label, folder] of folders.entries()) {
      const classname = classnameOf(classnames, folder, path.join(datasetDir, 'classnames.txt'));
      const dir = path.join(imageDir, split, folder);
      for (const name of await listNonHidden(dir)) items.push({ impath: path.join(dir, name), label, classname });
    }
    return items;
  };
  return { train: await readSplit('train', trainFolders), val: [], test: await readSplit('val', valFolders) };
}

/** ImageNetV2: folder `<label>` for label 0..C-1, C and the names from classnames.txt in file order. */
async function readImagenetV2(info: DatasetInfo, datasetDir: string): Promise<Item[]> {
  const classnames = await readClassnamesTxt(path.join(datasetDir, 'classnames.txt'));
  const imageDir = path.join(datasetDir, info.imageDir);
  const items: Item[] = [];
  let label = 0;
  for (const classname of classnames.values()) {
    const dir = path.join(imageDir, String(label));
    for (const name of await listNonHidden(dir)) items.push({ impath: path.join(dir, name), label, classname });
    label++;
  }
  return items;
}

/** ImageNet-Sketch/-A/-R: every non-hidden entry of the image dir is a class folder, labelled in sorted order. */
async function readImagenetVariant(info: DatasetInfo, datasetDir: string): Promise<Item[]> {
  const classnamesFile = path.join(datasetDir, 'classnames.txt');
  const classnames = await readClassnamesTxt(classnamesFile);
  const imageDir = path.join(datasetDir, info.imageDir);
  const ignored = new Set(info.ignoredEntries ?? []);
  const folders = (await listNonHidden(imageDir)).filter((f) => !ignored.has(f));
  const items: Item[] = [];
  for (const [label, folder] of folders.entries()) {
    const classname = classnameOf(classnames, folder, classnamesFile);
    const dir = path.join(imageDir, folder);
    for (const name of await listNonHidden(dir)) items.push({ impath: path.join(dir, name), label, classname });
  }
  return items;
}

/** `ImageNet.read_classnames`: `<folder> <class name words...>` per line, in file order. */
export async function readClassnamesTxt(file: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const line of textLines(await readText(file, 'the ImageNet class-name list (CoOp classnames.txt)'))) {
    const words = line.trim().split(' ');
    map.set(words[0] as string, words.slice(1).join(' '));
  }
  return map;
}

function classnameOf(classnames: Map<string, string>, folder: string, file: string): string {
  const name = classnames.get(folder);
  if (name === undefined) {
    throw new DatasetError(
      `class folder "${folder}" has no line in ${file} (label outside the class list)`,
      'bad-label',
    );
  }
  return name;
}

/** Lines as Python's `readlines()` gives them: a final newline does not start another line. */
function textLines(text: string): string[] {
  const lines = text.split(/\r\n|\n|\r/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (isNotFound(err)) throw new DatasetError(`missing ${what}: ${file}`, 'missing-file');
    throw err;
  }
}

async function listNonHidden(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isNotFound(err)) throw new DatasetError(`missing folder: ${dir}`, 'missing-file');
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new DatasetError(`expected a class folder but found a file: ${dir}`, 'bad-format');
    }
    throw err;
  }
  return names.filter((n) => !n.startsWith('.')).sort(compareNames);
}

async function listSubfolders(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isNotFound(err)) throw new DatasetError(`missing folder: ${dir}`, 'missing-file');
    throw err;
  }
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort(compareNames);
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Paths among `impaths` that are not regular files, checked with bounded concurrency. */
export async function findMissingFiles(impaths: readonly string[], concurrency = 32): Promise<string[]> {
  const missing: boolean[] = new Array(impaths.length).fill(false);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < impaths.length) {
      const i = next++;
      try {
        const s = await stat(impaths[i] as string);
        if (!s.isFile()) missing[i] = true;
      } catch (err) {
        if (!isNotFound(err) && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
        missing[i] = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, impaths.length) }, worker));
  return impaths.filter((_, i) => missing[i]);
}
