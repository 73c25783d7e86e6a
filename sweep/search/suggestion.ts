import type { Assignment } from '../axes.ts';
import { type ExpandedTrial, expandTrials, resolveCells } from '../expand.ts';
import { protocolCells } from '../protocol.ts';
import type { SweepFile } from '../schema.ts';

/**
 * The trials that evaluate one configuration of a search: the assignment crossed with the file's datasets, shots and
 * seeds, resolved exactly as a launch resolves a variation (expand.ts), so a suggested trial is the trial a grid
 * with that value would have planned. Cells the trainer's schema refuses yield no trial. Pure.
 */
export function trialsForAssignment(file: SweepFile, assignment: Assignment): ExpandedTrial[] {
  const { cells: datasets } = protocolCells(file);
  return expandTrials(resolveCells(file, datasets, [assignment]), file.seeds).trials;
}
