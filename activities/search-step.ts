import type { SearchStep, TrialRun } from '../contract/activities.ts';
import type { Database } from '../db/client.ts';
import { plannedTrialInputs } from '../db/planned-trials.ts';
import { planTrials } from '../db/repositories.ts';
import {
  insertSuggestion,
  type RungDecision,
  readRungDecisions,
  readSuggestions,
  type SearchTrial,
  searchTrials,
  writeRungDecisions,
} from '../db/search.ts';
import { type HalvingSpec, parseSweepObject, type SweepFile, type TpeSpec } from '../sweep/schema.ts';
import { promote, rungEpochs } from '../sweep/search/halving.ts';
import { configurationObjective } from '../sweep/search/objective.ts';
import { searchDimensions, toAssignment } from '../sweep/search/space.ts';
import { trialsForAssignment } from '../sweep/search/suggestion.ts';
import { type Observation, suggestTpe } from '../sweep/search/tpe.ts';

/**
 * A search's next step, computed from PostgreSQL alone (contract/activities.ts `SearchStep`): the workflow keeps no
 * search state, and this activity may run any number of times for the same state and answer the same. Decisions are
 * written before the runs they allow are returned, each once (db/search.ts), so a crash between the two only makes
 * the next call read the decision instead of taking it.
 */
export async function nextSearchStep(db: Database, sweepId: string): Promise<SearchStep> {
  const sweep = await db.prisma.sweep.findUnique({ where: { id: sweepId }, select: { spec: true, codeVersion: true } });
  if (!sweep) throw new Error(`sweep ${sweepId} not found`);
  const file = parseSweepObject(sweep.spec, `sweep ${sweepId}`);
  if (!file.search) return { runs: [], stage: 'no search' };
  return file.search.kind === 'successive-halving'
    ? halvingStep(db, sweepId, file.search)
    : tpeStep(db, sweepId, file, file.search, sweep.codeVersion);
}

/** Ended without a validation result it could still get: the search goes on without it. */
const ENDED = new Set(['failed', 'cancelled', 'reused']);

async function halvingStep(db: Database, sweepId: string, spec: HalvingSpec): Promise<SearchStep> {
  const rungs = rungEpochs(spec);
  const trials = await searchTrials(db.pool, sweepId);
  const decided = await readRungDecisions(db.pool, sweepId);
  let alive = new Set(trials.flatMap((t) => (t.candidate === null ? [] : [t.candidate])));
  for (const [rung, epochs] of rungs.entries()) {
    const stage = `rung ${rung + 1} of ${rungs.length} (${epochs} epoch${epochs === 1 ? '' : 's'})`;
    const members = trials.filter((t) => t.candidate !== null && alive.has(t.candidate));
    const last = rung === rungs.length - 1;
    const runs: TrialRun[] = members
      .filter((t) => !t.validation.has(epochs) && !ENDED.has(t.status))
      .map((t) => ({ trialId: t.id, validate: true, ...(last ? {} : { stopAfter: epochs }) }));
    if (runs.length > 0) return { runs, stage };
    let decisions = decided.filter((d) => d.rung === rung);
    if (decisions.length === 0) {
      decisions = decide(rung, epochs, members, last ? 0 : spec.eta);
      await writeRungDecisions(db.pool, sweepId, decisions);
    }
    if (last) return { runs: [], stage: `done: ${stage}` };
    alive = new Set(decisions.filter((d) => d.promoted).map((d) => d.candidate));
  }
  return { runs: [], stage: 'done' };
}

/** One rung's decisions over its candidates; eta 0 marks the last rung, where nobody goes on. */
function decide(rung: number, epochs: number, members: readonly SearchTrial[], eta: number): RungDecision[] {
  const byCandidate = new Map<number, SearchTrial[]>();
  for (const t of members) {
    const list = byCandidate.get(t.candidate as number);
    if (list) list.push(t);
    else byCandidate.set(t.candidate as number, [t]);
  }
  const scores = [...byCandidate].map(([candidate, list]) => ({
    candidate,
    objective: configurationObjective(
      list.flatMap((t) => {
        const top1 = t.validation.get(epochs);
        return top1 === undefined ? [] : [{ dataset: t.dataset, shots: t.shots, top1 }];
      }),
    ),
  }));
  const promoted = eta === 0 ? new Set<number>() : promote(scores, eta);
  return scores
    .sort((a, b) => a.candidate - b.candidate)
    .map((s) => ({
      rung,
      candidate: s.candidate,
      epochs,
      objective: s.objective,
      promoted: promoted.has(s.candidate),
    }));
}

async function tpeStep(
  db: Database,
  sweepId: string,
  file: SweepFile,
  spec: TpeSpec,
  codeVersion: string,
): Promise<SearchStep> {
  const trials = new Map((await searchTrials(db.pool, sweepId)).map((t) => [t.id, t]));
  const suggestions = await readSuggestions(db.pool, sweepId);
  const pendingOf = (ids: readonly string[]): TrialRun[] =>
    ids.flatMap((id) => {
      const t = trials.get(id);
      return t && !t.validation.has(t.epochs) && !ENDED.has(t.status) ? [{ trialId: id, validate: true }] : [];
    });
  const made = suggestions.length;
  const stageOf = (from: number) =>
    `suggestions ${from + 1}-${Math.min(from + spec.batch, spec.trials)} of ${spec.trials}`;
  const pending = pendingOf([...new Set(suggestions.flatMap((s) => s.trialIds))]);
  // Earlier batches finished before the newest was made, so what is pending belongs to the newest.
  if (pending.length > 0) return { runs: pending, stage: stageOf(Math.floor((made - 1) / spec.batch) * spec.batch) };
  if (made >= spec.trials) return { runs: [], stage: `done: ${spec.trials} suggestions` };

  // Suggestion i sees exactly the suggestions of the batches before its own, however many of its batch a crash left
  // made: the same file gives the same suggestions (the observation order is the suggestion order).
  const batchStart = Math.floor(made / spec.batch) * spec.batch;
  const observations = suggestions
    .filter((s) => s.index < batchStart)
    .flatMap((s): Observation[] => {
      const value = objectiveOf(s.trialIds, trials);
      return value === null ? [] : [{ params: s.params, value }];
    });
  const dimensions = searchDimensions(spec);
  for (let index = made; index < Math.min(batchStart + spec.batch, spec.trials); index++) {
    const params = suggestTpe(dimensions, observations, index, { seed: spec.seed, startup: spec.startup });
    const planned = plannedTrialInputs(trialsForAssignment(file, toAssignment(params)), codeVersion, () => index);
    // A configuration suggested twice keeps its first trials (same configKey): trained once, observed twice.
    const trialIds = await planTrials(db.pool, sweepId, planned);
    await insertSuggestion(db.pool, sweepId, { index, params, trialIds });
  }
  // Read back what was made: a batch whose configurations were all trained before moves straight to the next.
  return tpeStep(db, sweepId, file, spec, codeVersion);
}

function objectiveOf(ids: readonly string[], trials: ReadonlyMap<string, SearchTrial>): number | null {
  return configurationObjective(
    ids.flatMap((id) => {
      const t = trials.get(id);
      const top1 = t?.validation.get(t.epochs);
      return t && top1 !== undefined ? [{ dataset: t.dataset, shots: t.shots, top1 }] : [];
    }),
  );
}
