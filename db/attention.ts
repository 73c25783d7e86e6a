import { z } from 'zod';
import { type FactorValue, TRIAL_FACTOR_NAMES } from './ablation.ts';
import type { Queryable } from './migrate.ts';

/**
 * Attention maps stored with a trial (`dpt-sweep attention`, docs/attention.md). The maps are the trainer's
 * (dpt/trainer/attention.ts); this module only stores and reads them, so it restates their shape as a schema and
 * checks what it reads back.
 */
const imageAttentionSchema = z.object({
  file: z.string(),
  png: z.string(),
  label: z.string(),
  predicted: z.string(),
  classToken: z.array(z.number()),
  classAwarePrompts: z.array(z.number()).optional(),
});

export const attentionMapsSchema = z.object({
  dataset: z.string(),
  layer: z.number().int().min(0),
  grid: z.number().int().min(1),
  images: z.array(imageAttentionSchema),
});
export type AttentionMaps = z.infer<typeof attentionMapsSchema>;

/** Stores (or replaces) a trial's maps for one dataset and vision block. */
export async function saveAttentionMaps(db: Queryable, trialId: string, maps: AttentionMaps): Promise<void> {
  await db.query(
    `INSERT INTO "TrialAttention" ("trialId", dataset, layer, grid, maps) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT ("trialId", dataset, layer) DO UPDATE SET grid = EXCLUDED.grid, maps = EXCLUDED.maps,
            "createdAt" = now()`,
    [trialId, maps.dataset, maps.layer, maps.grid, JSON.stringify(maps)],
  );
}

/**
 * A trial's stored maps, read through the trial whose results it reuses (its prompts are that trial's), by dataset
 * and block.
 */
export async function loadAttentionMaps(db: Queryable, trialId: string): Promise<AttentionMaps[]> {
  const { rows } = await db.query<{ maps: unknown }>(
    `SELECT a.maps FROM "Trial" t JOIN "TrialAttention" a ON a."trialId" = COALESCE(t."reusedFromId", t.id)
      WHERE t.id = $1 ORDER BY a.dataset, a.layer`,
    [trialId],
  );
  return rows.map((row) => attentionMapsSchema.parse(row.maps));
}

/** A finished trial whose maps can be computed: its config, and the trial whose checkpoint holds its prompts. */
export interface AttentionCandidate {
  id: string;
  /** the trial itself, or the one whose results (and prompts) it reuses */
  source: string;
  method: string;
  config: unknown;
  factors: Record<string, FactorValue>;
}

/** The finished trials of a sweep on one dataset, with their factor values, for `dpt-sweep attention` to pick from. */
export async function attentionCandidates(
  db: Queryable,
  sweepId: string,
  dataset: string,
): Promise<AttentionCandidate[]> {
  const { rows } = await db.query<Record<string, FactorValue> & { id: string; source: string; config: unknown }>(
    `SELECT t.id, COALESCE(t."reusedFromId", t.id) AS source, t.config,
            ${TRIAL_FACTOR_NAMES.map((name) => `t."${name}"`).join(', ')}, t.seed
       FROM "Trial" t
      WHERE t."sweepId" = $1 AND t.dataset = $2 AND t.status IN ('succeeded', 'reused')
      ORDER BY t.id`,
    [sweepId, dataset],
  );
  return rows.map((row) => ({
    id: row.id,
    source: row.source,
    method: String(row.method),
    config: row.config,
    factors: Object.fromEntries([...TRIAL_FACTOR_NAMES, 'seed'].map((name) => [name, row[name] ?? null])),
  }));
}
