import type { ModelSizes } from '../dpt/trainable.ts';
import { expandTrials, materialiseVariations, resolveCells, type SweepPlan } from './expand.ts';
import { SweepFileError, type SweepIssue } from './issues.ts';
import { protocolCells } from './protocol.ts';
import { parseSweepText, type SweepFile } from './schema.ts';
import { searchIssues } from './search/rules.ts';
import { probeAssignments } from './search/space.ts';
import { cellIssues, fileIssues, type SizeOptions } from './validate.ts';
import { sweepWarnings } from './warnings.ts';

/**
 * The one place a sweep file goes through its stages, in order, each one pass: schema.ts (YAML → a file of the right
 * shape) → validate.ts `fileIssues` (cross-field rules and the size, before anything is built) → expand.ts
 * (variations, then every cell resolved with the unused-field resets) → validate.ts `cellIssues` (each cell as the
 * trainer would take it) → expand.ts `expandTrials` (× seeds, deduplicated) → warnings.ts. A stage that finds
 * problems throws SweepFileError with all of its own, so the later stages never see a file an earlier one refused.
 * Pure: no Node built-ins; sweep/load.ts adds what needs the disk (the file, the model's sizes, the data root).
 */

export interface PlanOptions extends SizeOptions {
  /**
   * Sizes of `base.model` when they could be read (sweep/load.ts does): with them every cell is also checked against
   * the model (CAVPT depth, VPT layers, text context length); without, those checks are left to the trainer.
   */
  model?: ModelSizes;
}

/** Parse, validate and expand a sweep file's text; throws SweepFileError with every problem found. */
export function planSweepText(text: string, source = 'sweep file', options: PlanOptions = {}): SweepPlan {
  return planSweep(parseSweepText(text, source), options, source);
}

/** Validate and expand a file schema.ts has accepted; throws SweepFileError with every problem found. */
export function planSweep(given: SweepFile, options: PlanOptions = {}, source = 'sweep file'): SweepPlan {
  const { cells: datasets, issues: protocolProblems } = protocolCells(given);
  const searchProblems = searchIssues(given, [...new Set(datasets.map((cell) => cell.dataset))]);
  if (protocolProblems.length + searchProblems.length > 0) {
    throw new SweepFileError([...protocolProblems, ...searchProblems], source);
  }
  const file = withSearchEpochs(given);
  const problems = fileIssues(file, datasets.length, options);
  if (problems.length > 0) throw new SweepFileError(problems, source);

  if (file.search?.kind === 'tpe') {
    // Nothing is planned at launch: the search's activity plans each suggestion's trials (search/suggestion.ts). The
    // space's corners are resolved here so that a range the trainer refuses is reported now, with line numbers.
    const probes = resolveCells(file, datasets, probeAssignments(file.search));
    const unrunnable = cellIssues(file, probes, options.model).map(asSpaceIssue);
    if (unrunnable.length > 0) throw new SweepFileError(unrunnable, source);
    return {
      file: given,
      datasets,
      variations: [],
      trials: [],
      upperBound: file.search.trials * datasets.length * file.shots.length * file.seeds.length,
      duplicates: 0,
      distinctCells: 0,
      warnings: sweepWarnings(probes.flatMap((cell) => (cell.outcome.ok ? [cell.outcome.config] : []))),
    };
  }

  const variations = materialiseVariations(file.vary);
  const cells = resolveCells(file, datasets, variations);
  const unrunnable = cellIssues(file, cells, options.model);
  if (unrunnable.length > 0) throw new SweepFileError(unrunnable, source);

  const { trials, duplicates, distinctCells } = expandTrials(cells, file.seeds);
  return {
    file: given,
    datasets,
    variations,
    trials,
    upperBound: variations.length * datasets.length * file.shots.length * file.seeds.length,
    duplicates,
    distinctCells,
    warnings: sweepWarnings(cells.flatMap((cell) => (cell.outcome.ok ? [cell.outcome.config] : []))),
  };
}

/** Under successive halving every trial is configured for maxEpochs (its LR schedule is the full run's). */
function withSearchEpochs(file: SweepFile): SweepFile {
  if (file.search?.kind !== 'successive-halving' || file.base.epochs !== undefined) return file;
  return { ...file, base: { ...file.base, epochs: file.search.maxEpochs } };
}

/** A TPE probe's problem said of the space: its values come from `search.space`, at its lowest or highest corner. */
function asSpaceIssue(issue: SweepIssue): SweepIssue {
  return {
    ...issue,
    path: issue.path.replace(/^vary\./, 'search.space.'),
    message: issue.message
      .replace(/, variation 0\b/, ", the space's lowest values")
      .replace(/, variation 1\b/, ", the space's highest values"),
  };
}
