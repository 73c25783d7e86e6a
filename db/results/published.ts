import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { DATASET_NAMES } from '../../data/datasets/types.ts';
import { sourcePath } from '../../source-root.ts';
import { isTransfer, PROTOCOLS, type ProtocolName } from '../../sweep/protocol.ts';
import { AVERAGE_ROW } from './base-to-novel.ts';

/**
 * Published accuracies to set a reproduction beside (`results --published`, the dashboard): published/anchors.yaml,
 * each entry with its source (paper table or official repository README), backbone, protocol, shots and epochs.
 * A table cell is matched on method, CLIP backbone, protocol, training dataset (or the average row), target
 * (transfer protocols), shots and metric; epochs are shown, not matched.
 */
export const ANCHORS_FILE = sourcePath('published', 'anchors.yaml');

const percent = z.number().min(0).max(100);
// The average row of a table is the published average row: one name for both (base-to-novel.ts).
const datasetOrAverage = z.enum([...DATASET_NAMES, AVERAGE_ROW] as [string, ...string[]]);

export const anchorSchema = z
  .strictObject({
    method: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a method name in lower case'),
    backbone: z.string().regex(/^(ViT-[BLH]\/\d+|RN\d+(x\d+)?)$/, 'a CLIP backbone name such as ViT-B/16'),
    protocol: z.enum(PROTOCOLS),
    dataset: datasetOrAverage,
    target: datasetOrAverage.optional(),
    shots: z.number().int().positive(),
    epochs: z.number().int().positive().nullable(),
    metrics: z.union([
      z.strictObject({ base: percent, novel: percent, hm: percent }),
      z.strictObject({ top1: percent }),
    ]),
    source: z.string().min(20, 'where the number is printed: document and table'),
    url: z.url(),
  })
  .superRefine((anchor, ctx) => {
    if (isTransfer(anchor.protocol) !== (anchor.target !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: isTransfer(anchor.protocol)
          ? `${anchor.protocol} needs the evaluated target`
          : `${anchor.protocol} has no target`,
      });
    if ((anchor.protocol === 'base-to-novel') !== 'hm' in anchor.metrics)
      ctx.addIssue({
        code: 'custom',
        path: ['metrics'],
        message: anchor.protocol === 'base-to-novel' ? 'base-to-novel gives base, novel and hm' : 'expected { top1 }',
      });
  });
export type Anchor = z.output<typeof anchorSchema>;
export type AnchorMetric = 'top1' | 'base' | 'novel' | 'hm';

export const anchorsFileSchema = z.strictObject({ anchors: z.array(anchorSchema).min(1) }).superRefine((file, ctx) => {
  const seen = new Map<string, number>();
  file.anchors.forEach((anchor, i) => {
    const key = anchorKey(anchor);
    const earlier = seen.get(key);
    if (earlier !== undefined)
      ctx.addIssue({ code: 'custom', path: ['anchors', i], message: `the same cell as anchors[${earlier}]` });
    seen.set(key, i);
  });
});

function anchorKey(anchor: Pick<Anchor, 'method' | 'backbone' | 'protocol' | 'dataset' | 'target' | 'shots'>): string {
  return [anchor.method, anchor.backbone, anchor.protocol, anchor.dataset, anchor.target ?? '', anchor.shots].join(
    '\u0000',
  );
}

let cached: { file: string; anchors: Anchor[] } | undefined;

/** The anchors of `file` (default the repository's), validated; a bad file fails with the first problem's path. */
export function loadAnchors(file = ANCHORS_FILE): Anchor[] {
  if (cached?.file === file) return cached.anchors;
  const parsed = anchorsFileSchema.safeParse(YAML.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  cached = { file, anchors: parsed.data.anchors };
  return parsed.data.anchors;
}

/**
 * The CLIP architecture of a trial's backbone column (the weights folder's name): the Hugging Face names
 * `clip-vit-base-patch16` → ViT-B/16, `clip-vit-large-patch14(-336)` → ViT-L/14; null for anything else (a
 * locally trained model such as the quick start's matches no published number).
 */
export function clipArchitecture(backbone: string): string | null {
  const match = /clip-vit-(base|large|huge)-patch(\d+)(?:-\d+)?$/i.exec(backbone);
  if (!match) return null;
  const size = { base: 'B', large: 'L', huge: 'H' }[match[1]!.toLowerCase() as 'base' | 'large' | 'huge'];
  return `ViT-${size}/${match[2]}`;
}

export interface AnchorQuery {
  method: string;
  /** the trial's backbone column; matched through clipArchitecture */
  backbone: string;
  protocol: ProtocolName;
  dataset: string;
  target?: string | undefined;
  shots: number;
  metric: AnchorMetric;
}

export interface PublishedValue {
  value: number;
  source: string;
  url: string;
  epochs: number | null;
}

export function findAnchor(anchors: readonly Anchor[], query: AnchorQuery): PublishedValue | null {
  const architecture = clipArchitecture(query.backbone);
  if (architecture === null) return null;
  const key = anchorKey({ ...query, backbone: architecture });
  const anchor = anchors.find((entry) => anchorKey(entry) === key);
  if (!anchor) return null;
  const value = (anchor.metrics as Partial<Record<AnchorMetric, number>>)[query.metric];
  return value === undefined ? null : { value, source: anchor.source, url: anchor.url, epochs: anchor.epochs };
}
