import type { SweepPlan } from '../expand.ts';
import { halvingBudget, rungEpochs } from './halving.ts';

/**
 * One line saying what a plan's search will do, for `validate` and the launch summary; null without a search. For
 * successive halving, the epochs it trains when no trial fails against the grid of the same trials. Pure.
 */
export function describeSearch(plan: Pick<SweepPlan, 'file' | 'trials' | 'datasets'>): string | null {
  const search = plan.file.search;
  if (!search) return null;
  if (search.kind === 'successive-halving') {
    const candidates = new Set(plan.trials.map((t) => t.variation)).size;
    const perCandidate = candidates === 0 ? 0 : plan.trials.length / candidates;
    const { halving, grid } = halvingBudget(candidates, search);
    const trained = Math.round(halving * perCandidate);
    const full = Math.round(grid * perCandidate);
    const saved = full > 0 ? Math.round((100 * (full - trained)) / full) : 0;
    return (
      `successive-halving on ${search.metric}: eta ${search.eta}, rungs at ${rungEpochs(search).join(', ')} epochs; ` +
      `${trained} epochs when no trial fails, of the ${full} the grid trains (${saved}% saved; the compute below is the grid's)`
    );
  }
  const perSuggestion = plan.datasets.length * plan.file.shots.length * plan.file.seeds.length;
  return (
    `tpe on ${search.metric}: ${search.trials} suggestions x ${perSuggestion} trials (datasets x shots x seeds), ` +
    `${search.batch} at a time, the first ${search.startup} at random, seed ${search.seed}; ` +
    'trials are planned as the search suggests them'
  );
}
