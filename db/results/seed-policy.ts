import type { CellReport } from '../ablation.ts';
import { showValue } from './pivot.ts';

/**
 * The note under every results table on its seeds: which seeds the cells were planned with, and a warning for every
 * cell whose mean is over fewer seeds than planned, saying which seeds are missing and whether their trials ended
 * without a result (so the mean is over a subset of the seeds that ran) or have not finished yet.
 */
export interface SeedNote {
  /** every seed some cell was planned with, ascending */
  seeds: number[];
  /** cells with fewer seeds than planned (incomplete means), and how many cells there are */
  incomplete: number;
  cells: number;
  lines: string[];
}

const SHOWN = 4;

export function seedNote(report: CellReport): SeedNote {
  const seeds = [...new Set(report.cells.flatMap((cell) => cell.plannedSeeds))].sort((a, b) => a - b);
  const planned = [...new Set(report.cells.map((cell) => cell.expectedN))].sort((a, b) => a - b);
  const perCell =
    planned.length === 0
      ? 'no cells'
      : planned.length === 1
        ? `${planned[0]} planned per cell`
        : `${planned[0]} to ${planned[planned.length - 1]} planned per cell`;
  const lines = [`seeds: ${seeds.length === 0 ? '(none)' : seeds.join(', ')} (${perCell})`];
  // A cell a search stopped early has no test result by design: said once, not warned about.
  const stopped = report.cells.filter((cell) => cell.n === 0 && cell.stoppedSeeds.length === cell.expectedN);
  if (stopped.length > 0) {
    lines.push(
      `${stopped.length} of ${report.cells.length} cells stopped early by the search (validation split only, no test result): \`dpt-sweep results <sweep>\` shows where`,
    );
  }
  const short = report.cells.filter((cell) => cell.n < cell.expectedN && !stopped.includes(cell));
  if (short.length > 0) {
    const described = short.slice(0, SHOWN).map((cell) => {
      const missing = cell.plannedSeeds.filter((seed) => !cell.seeds.includes(seed));
      const ended = cell.endedSeeds;
      const waiting = missing.filter((seed) => !ended.includes(seed) && !cell.stoppedSeeds.includes(seed));
      const early = cell.stoppedSeeds;
      const why = [
        ended.length > 0 ? `seed${ended.length === 1 ? '' : 's'} ${ended.join(', ')} ended without a result` : '',
        early.length > 0 ? `seed${early.length === 1 ? '' : 's'} ${early.join(', ')} stopped early by the search` : '',
        waiting.length > 0 ? `seed${waiting.length === 1 ? '' : 's'} ${waiting.join(', ')} not finished` : '',
      ].filter((part) => part !== '');
      const key = Object.values(cell.key).map(showValue).join(' · ');
      return `${key}: ${cell.n} of ${cell.expectedN} (${why.join('; ')})`;
    });
    const more = short.length > SHOWN ? `; and ${short.length - SHOWN} more` : '';
    const ranShort = short.some((cell) => cell.endedSeeds.length > 0);
    lines.push(
      `warning: ${short.length} of ${report.cells.length} cells have fewer seeds than planned${ranShort ? ', some computed from a subset of the seeds that ran' : ''}: ${described.join('; ')}${more}`,
    );
  }
  return { seeds, incomplete: short.length, cells: report.cells.length, lines };
}
