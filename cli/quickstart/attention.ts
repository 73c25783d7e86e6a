import { writeFile } from 'node:fs/promises';
import type { Queryable } from '../../db/migrate.ts';
import { attentionFigure } from '../attention/figure.ts';
import { sweepAttention } from '../attention/maps.ts';
import { UserError } from '../errors.ts';

/** The quick start's Figure 1: zero-shot CLIP, CoOp and DPT on the task whose label is about one of several objects. */
const FIGURE_METHODS = ['zeroshot', 'coop', 'dpt'];
const FIGURE_DATASET = 'synth_target';

/**
 * Computes (or, on a later run, reads back) the attention maps of the quick start's base-arm trials and writes the
 * side-by-side figure. A sweep file without those trials gets a note instead of a figure: the tables are the job.
 */
export async function quickstartFigure(
  db: Queryable,
  sweep: { id: string; datasets: string[]; base: Record<string, unknown> },
  file: string,
  log: (line: string) => void,
): Promise<string | null> {
  const dataset = sweep.datasets.includes(FIGURE_DATASET) ? FIGURE_DATASET : sweep.datasets[0];
  if (dataset === undefined) return null;
  // The base arm: DPT at the sweep's own CAVPT length, not one of the length ablation's arms.
  const length = sweep.base['cavpt.length'];
  try {
    const { columns, trials, computed } = await sweepAttention(db, sweep.id, {
      dataset,
      methods: FIGURE_METHODS,
      where: typeof length === 'number' ? [`kN=${length}`] : [],
      images: 4,
      reuseStored: true,
    });
    await writeFile(file, await attentionFigure(columns));
    log(`attention maps: ${computed} of ${trials} trials computed now, the others read back`);
    return file;
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    log(`no attention figure: ${error.message}`);
    return null;
  }
}
