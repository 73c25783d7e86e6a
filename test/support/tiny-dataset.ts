import { readFile, writeFile } from 'node:fs/promises';

// Tests generate their datasets with the same generator the demo uses.
export * from '../../data/synthetic/shapes-dataset.ts';

/**
 * Damages one image the ways real datasets get damaged: 'truncated' keeps the first half of the file (an interrupted
 * copy), 'garbage' replaces it with bytes that are no image at all.
 */
export async function corruptImage(file: string, how: 'truncated' | 'garbage'): Promise<void> {
  if (how === 'garbage') return writeFile(file, Buffer.from('this is not a PNG\n'.repeat(16)));
  const bytes = await readFile(file);
  await writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
}
