import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { openDatabase } from '../../db/client.ts';
import { isDatabaseError } from '../../db/errors.ts';
import { resolveSweeps, UnknownSweepError } from '../../db/results/sweeps.ts';
import { attentionFigure } from '../attention/figure.ts';
import { sweepAttention } from '../attention/maps.ts';
import { UserError } from '../errors.ts';
import { collect } from '../options.ts';

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
    const { png, ...selection } = options;
    const { columns } = await sweepAttention(db.pool, (resolved as { id: string }).id, {
      ...selection,
      methods: options.methods?.split(','),
      onTrial: (line) => process.stdout.write(`${line}\n`),
    });
    if (png) {
      const file = path.resolve(png);
      await writeFile(file, await attentionFigure(columns)).catch((err: NodeJS.ErrnoException) => {
        throw new UserError(`cannot write ${png}: ${err.code ?? err.message}`);
      });
      process.stdout.write(`figure → ${file}\n`);
    }
  } finally {
    await db.close();
  }
}
