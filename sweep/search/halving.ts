import type { HalvingSpec } from '../schema.ts';

/**
 * Synchronous successive halving (Jamieson & Talwalkar 2016; the per-bracket rule that ASHA, Li et al. 2020, makes
 * asynchronous). Every candidate trains to the first rung; at each rung the best 1/eta of the candidates that reached
 * it, by their objective on the validation split, train on to the next, the others stop there. The last rung is
 * `maxEpochs`. Unlike ASHA, a promotion waits for the whole rung, so which candidates go on depends only on the
 * results, never on which trial happened to finish first: a killed and resumed search promotes the same ones.
 * Pure.
 */

/** Epochs of each rung: minEpochs · eta^k while below maxEpochs, then maxEpochs. */
export function rungEpochs(spec: Pick<HalvingSpec, 'eta' | 'minEpochs' | 'maxEpochs'>): number[] {
  const rungs: number[] = [];
  for (let epochs = spec.minEpochs; epochs < spec.maxEpochs; epochs *= spec.eta) rungs.push(epochs);
  rungs.push(spec.maxEpochs);
  return rungs;
}

/** How many of `n` candidates at a rung go on: floor(n / eta), at least one while any has a result. */
export function promotedCount(n: number, eta: number): number {
  return n === 0 ? 0 : Math.max(1, Math.floor(n / eta));
}

export interface CandidateScore {
  candidate: number;
  /** mean validation top-1 (sweep/search/objective.ts); null when none of its trials reached the rung */
  objective: number | null;
}

/**
 * The candidates promoted from one rung: the promotedCount best by objective, ties to the lower candidate number (its
 * place in the sweep file), so the choice is a function of the results alone. A candidate without a result never
 * goes on.
 */
export function promote(scores: readonly CandidateScore[], eta: number): Set<number> {
  const ranked = scores
    .filter((s): s is { candidate: number; objective: number } => s.objective !== null && Number.isFinite(s.objective))
    .sort((a, b) => b.objective - a.objective || a.candidate - b.candidate);
  return new Set(ranked.slice(0, promotedCount(ranked.length, eta)).map((s) => s.candidate));
}

/**
 * Epochs one replicate trial of each candidate trains when every rung promotes promotedCount of `candidates`,
 * against the grid that trains all of them to maxEpochs: what the search saves when no trial fails.
 */
export function halvingBudget(
  candidates: number,
  spec: Pick<HalvingSpec, 'eta' | 'minEpochs' | 'maxEpochs'>,
): { halving: number; grid: number } {
  let alive = candidates;
  let previous = 0;
  let halving = 0;
  for (const epochs of rungEpochs(spec)) {
    halving += alive * (epochs - previous);
    previous = epochs;
    alive = promotedCount(alive, spec.eta);
  }
  return { halving, grid: candidates * spec.maxEpochs };
}
