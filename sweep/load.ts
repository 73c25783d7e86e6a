import { readFile } from 'node:fs/promises';
import { type PlanOptions, planSweepText, type SweepPlan } from './expand.ts';
import { SweepFileError } from './issues.ts';

/** Read a sweep file from disk and expand it. Throws SweepFileError for every problem, including an unreadable file. */
export async function loadSweepFile(
  path: string,
  options: PlanOptions = {},
): Promise<{ text: string; plan: SweepPlan }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new SweepFileError([{ path: '(file)', message: `expected a readable YAML file, got ${why}` }], path);
  }
  return { text, plan: planSweepText(text, path, options) };
}
