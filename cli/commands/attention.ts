import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { DatasetError } from '../../data/errors.ts';
import { type AttentionCandidate, attentionCandidates, saveAttentionMaps } from '../../db/attention.ts';
import { openDatabase } from '../../db/client.ts';
import { isDatabaseError } from '../../db/errors.ts';
import { loadLatestCheckpoint } from '../../db/repositories.ts';
import { resolveSweeps, UnknownSweepError } from '../../db/results/sweeps.ts';
import { ClipLoadError } from '../../dpt/clip/errors.ts';
import { METHODS } from '../../dpt/methods/registry.ts';
import { trialAttention } from '../../dpt/trainer/attention.ts';
import { CheckpointError } from '../../dpt/trainer/checkpoint.ts';
import { parseTrialConfig, TrialConfigError } from '../../dpt/trial-config.ts';
import { attentionFigure, type FigureColumn } from '../attention/figure.ts';
import { UserError } from '../errors.ts';

const optionsSchema = z.object({
  dataset: z.string().min(1),
  shots: z.coerce.number().int().min(1).optional(),
  seed: z.coerce.number().int().min(0).optional(),
  methods: z.string().optional(),
  where: z.array(z.string().regex(/^[A-Za-z]+=.+$/, 'write --where as factor=value')).default([]),
  images: z.coerce.number().int().min(1).max(32).default(4),
  layer: z.coerce.number().int().min(0).optional(),
  png: z.string().optional(),
});
type Options = z.infer<typeof optionsSchema>;

/** The paper's names, for column titles. */
const METHOD_TITLES: Readonly<Record<string, string>> = {
  zeroshot: 'zero-shot CLIP',
  coop: 'CoOp',
  vpt: 'VPT-deep',
  vlp: 'VLP',
  dpt: 'DPT',
};

export function register(program: Command): void {
  program
    .command('attention')
    .description(
      "What trained trials look at (the paper's Figure 1): the class token's attention over the image patches in a vision block, and DPT's class-aware prompts', on a few test images; stored with each trial for the dashboard, and drawn side by side with --png",
    )
    .argument('<sweep>', 'sweep name or id')
    .requiredOption('--dataset <name>', 'the source dataset of the trials')
    .option('--shots <n>', 'shots of the trials (default: the most the sweep has)')
    .option('--seed <n>', 'seed of the trials (default: the smallest)')
    .option('--methods <list>', 'methods, comma-separated (default: every method the sweep trained, in paper order)')
    .option('--where <factor=value>', 'keep trials with this factor value; repeatable', collect, [])
    .option('--images <n>', 'test images, one per class in turn', '4')
    .option('--layer <n>', '0-based vision block (default: the last)')
    .option('--png <file>', 'also write the side-by-side figure')
    .action(async (sweep: string, raw: Record<string, unknown>) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new UserError(`--${issue?.path.join('.')}: ${issue?.message}`);
      }
      await run(sweep, parsed.data);
    });
}

async function run(sweep: string, options: Options): Promise<void> {
  const db = await openDatabase().catch((err: unknown) => {
    throw isDatabaseError(err) ? new UserError(err.message) : err;
  });
  try {
    const [resolved] = await resolveSweeps(db.pool, [sweep]).catch((err: unknown) => {
      throw err instanceof UnknownSweepError ? new UserError(err.message) : err;
    });
    const sweepId = (resolved as { id: string }).id;
    const picked = pickTrials(await attentionCandidates(db.pool, sweepId, options.dataset), options);
    const columns: FigureColumn[] = [];
    for (const trial of picked) {
      const checkpoint = await loadLatestCheckpoint(db.pool, trial.source);
      const maps = await trialAttention(parseTrialConfig(trial.config), checkpoint?.bytes ?? null, {
        images: options.images,
        ...(options.layer === undefined ? {} : { layer: options.layer }),
      }).catch((err: unknown) => {
        if (err instanceof ClipLoadError || err instanceof DatasetError || err instanceof CheckpointError) {
          throw new UserError(`trial ${trial.id}: ${err.message}`);
        }
        if (err instanceof TrialConfigError) throw new UserError(`trial ${trial.id}: its config: ${err.message}`);
        throw err;
      });
      await saveAttentionMaps(db.pool, trial.source, maps);
      const right = maps.images.filter((image) => image.predicted === image.label).length;
      process.stdout.write(
        `${trial.method} ${trial.id}: block ${maps.layer}, ${maps.images.length} images, ${right} predicted right\n`,
      );
      const title = METHOD_TITLES[trial.method] ?? trial.method;
      columns.push({ title: `${title}\nclass token`, maps, map: 'classToken' });
      if (maps.images.some((image) => image.classAwarePrompts)) {
        columns.push({ title: `${title}\nclass-aware prompts`, maps, map: 'classAwarePrompts' });
      }
    }
    if (options.png) {
      const file = path.resolve(options.png);
      await writeFile(file, await attentionFigure(columns)).catch((err: NodeJS.ErrnoException) => {
        throw new UserError(`cannot write ${options.png}: ${err.code ?? err.message}`);
      });
      process.stdout.write(`figure → ${file}\n`);
    }
  } finally {
    await db.close();
  }
}

/** One trial per method, at the asked shots and seed, narrowed by --where; more than one is the user's to settle. */
function pickTrials(candidates: AttentionCandidate[], options: Options): AttentionCandidate[] {
  if (candidates.length === 0) throw new UserError(`the sweep has no finished trial on ${options.dataset}`);
  const values = (name: string) => [...new Set(candidates.map((c) => c.factors[name]))];
  const shots = options.shots ?? Math.max(...(values('shots') as number[]));
  const seed = options.seed ?? Math.min(...(values('seed') as number[]));
  const wanted = options.methods?.split(',') ?? METHODS.filter((method) => values('method').includes(method));
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

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
