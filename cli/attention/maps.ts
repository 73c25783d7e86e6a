import { DatasetError } from '../../data/errors.ts';
import {
  type AttentionCandidate,
  type AttentionMaps,
  attentionCandidates,
  loadAttentionMaps,
  saveAttentionMaps,
} from '../../db/attention.ts';
import type { Queryable } from '../../db/migrate.ts';
import { loadLatestCheckpoint } from '../../db/repositories.ts';
import { ClipLoadError } from '../../dpt/clip/errors.ts';
import { METHODS } from '../../dpt/methods/registry.ts';
import { readModelSizes } from '../../dpt/model-sizes.ts';
import { trialAttention } from '../../dpt/trainer/attention.ts';
import { CheckpointError } from '../../dpt/trainer/checkpoint.ts';
import { parseTrialConfig, TrialConfigError } from '../../dpt/trial-config.ts';
import { UserError } from '../errors.ts';
import type { FigureColumn } from './figure.ts';

/** The paper's names, for column titles. */
const METHOD_TITLES: Readonly<Record<string, string>> = {
  zeroshot: 'zero-shot CLIP',
  coop: 'CoOp',
  vpt: 'VPT-deep',
  vlp: 'VLP',
  dpt: 'DPT',
};

export interface AttentionSelection {
  dataset: string;
  shots?: number;
  seed?: number;
  methods?: string[];
  /** factor=value clauses */
  where: string[];
  images: number;
  layer?: number;
  /** keep maps already stored for a trial's block and image count instead of computing them again */
  reuseStored?: boolean;
  /** one line per trial as its maps are ready */
  onTrial?: (line: string) => void;
}

/**
 * The attention maps of one trial per method of a sweep (docs/attention.md): computed from each trial's config and
 * final checkpoint and stored with it, or read back where `reuseStored` finds them. Returns the figure's columns.
 */
export async function sweepAttention(
  db: Queryable,
  sweepId: string,
  selection: AttentionSelection,
): Promise<{ columns: FigureColumn[]; trials: number; computed: number }> {
  const picked = pickTrials(await attentionCandidates(db, sweepId, selection.dataset), selection);
  const columns: FigureColumn[] = [];
  let computed = 0;
  for (const trial of picked) {
    let maps = selection.reuseStored ? await storedMaps(db, trial, selection) : undefined;
    if (maps === undefined) {
      maps = await computeMaps(db, trial, selection);
      await saveAttentionMaps(db, trial.source, maps);
      computed += 1;
    }
    const right = maps.images.filter((image) => image.predicted === image.label).length;
    selection.onTrial?.(
      `${trial.method} ${trial.id}: block ${maps.layer}, ${maps.images.length} images, ${right} predicted right`,
    );
    const title = METHOD_TITLES[trial.method] ?? trial.method;
    columns.push({ title: `${title}\nclass token`, maps, map: 'classToken' });
    if (maps.images.some((image) => image.classAwarePrompts)) {
      columns.push({ title: `${title}\nclass-aware prompts`, maps, map: 'classAwarePrompts' });
    }
  }
  return { columns, trials: picked.length, computed };
}

/** Maps stored for the trial at the asked block (by default its model's last) and image count, if any. */
async function storedMaps(
  db: Queryable,
  trial: AttentionCandidate,
  selection: AttentionSelection,
): Promise<AttentionMaps | undefined> {
  const stored = await loadAttentionMaps(db, trial.id);
  if (stored.length === 0) return undefined;
  let layer = selection.layer;
  try {
    layer ??= (await readModelSizes(parseTrialConfig(trial.config).model)).visionLayers - 1;
  } catch (err) {
    throw asUserError(trial, err);
  }
  return stored.find(
    (maps) => maps.dataset === selection.dataset && maps.layer === layer && maps.images.length === selection.images,
  );
}

async function computeMaps(
  db: Queryable,
  trial: AttentionCandidate,
  selection: AttentionSelection,
): Promise<AttentionMaps> {
  const checkpoint = await loadLatestCheckpoint(db, trial.source);
  try {
    return await trialAttention(parseTrialConfig(trial.config), checkpoint?.bytes ?? null, {
      images: selection.images,
      ...(selection.layer === undefined ? {} : { layer: selection.layer }),
    });
  } catch (err) {
    throw asUserError(trial, err);
  }
}

/** A trial whose model, data, checkpoint or config cannot be used is the user's to hear about, in one line. */
function asUserError(trial: AttentionCandidate, err: unknown): unknown {
  if (err instanceof ClipLoadError || err instanceof DatasetError || err instanceof CheckpointError) {
    return new UserError(`trial ${trial.id}: ${err.message}`);
  }
  if (err instanceof TrialConfigError) return new UserError(`trial ${trial.id}: its config: ${err.message}`);
  return err;
}

/** One trial per method, at the asked shots and seed, narrowed by --where; more than one is the user's to settle. */
export function pickTrials(candidates: AttentionCandidate[], options: AttentionSelection): AttentionCandidate[] {
  if (candidates.length === 0) throw new UserError(`the sweep has no finished trial on ${options.dataset}`);
  const values = (name: string) => [...new Set(candidates.map((c) => c.factors[name]))];
  const shots = options.shots ?? Math.max(...(values('shots') as number[]));
  const seed = options.seed ?? Math.min(...(values('seed') as number[]));
  const wanted = options.methods ?? METHODS.filter((method) => values('method').includes(method));
  const unknown = wanted.filter((method) => !(METHODS as readonly string[]).includes(method));
  if (unknown.length > 0) throw new UserError(`unknown method ${unknown.join(', ')}; methods: ${METHODS.join(', ')}`);
  const where = options.where.map((clause) => {
    const [name, value] = clause.split(/=(.*)/s) as [string, string];
    if (!(name in (candidates[0] as AttentionCandidate).factors)) {
      throw new UserError(
        `--where ${clause}: no factor ${name}; factors: ${Object.keys(candidates[0]?.factors ?? {}).join(', ')}`,
      );
    }
    return { name, value };
  });
  const kept = candidates.filter(
    (c) =>
      c.factors.shots === shots &&
      c.factors.seed === seed &&
      // A factor the trial's method does not read (null) does not filter it out.
      where.every(({ name, value }) => c.factors[name] === null || String(c.factors[name]) === value),
  );
  return wanted.map((method) => {
    const matches = kept.filter((c) => c.method === method);
    if (matches.length === 0)
      throw new UserError(`no finished ${method} trial on ${options.dataset} at ${shots} shots, seed ${seed}`);
    if (matches.length > 1) {
      const differ = Object.keys(matches[0]?.factors ?? {}).filter(
        (name) => new Set(matches.map((m) => String(m.factors[name]))).size > 1,
      );
      const hint = differ.map(
        (name) => `${name}=${[...new Set(matches.map((m) => String(m.factors[name])))].join('|')}`,
      );
      throw new UserError(`${matches.length} ${method} trials match; choose one with --where (${hint.join(', ')})`);
    }
    return matches[0] as AttentionCandidate;
  });
}
