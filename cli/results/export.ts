import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { TRIAL_FACTOR_NAMES } from '../../db/ablation.ts';
import type { Queryable } from '../../db/migrate.ts';
import { csvLine } from './render.ts';

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type ExportKind = 'trials' | 'results' | 'epochs' | 'validations';
const KINDS: ExportKind[] = ['trials', 'results', 'epochs', 'validations'];

const iso = (column: string) => `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Column lists of each file; timestamps are stored in UTC and written as ISO 8601. Factors: sweep/factors.ts. */
const TRIAL_SELECT = [
  't.id',
  's.name AS sweep',
  't."configKey"',
  ...TRIAL_FACTOR_NAMES.map((name) => `t."${name}"`),
  't.seed',
  't."evalDatasets"',
  't.status::text AS status',
  't.attempts',
  't."codeVersion"',
  't.backend',
  't."weightsSha256"',
  't."splitHash"',
  't."workerId"',
  `${iso('t."startedAt"')} AS "startedAt"`,
  `${iso('t."finishedAt"')} AS "finishedAt"`,
  't."durationMs"',
  't.error',
  't."reusedFromId"',
  't."searchCandidate"',
  `${iso('t."createdAt"')} AS "createdAt"`,
  `${iso('t."updatedAt"')} AS "updatedAt"`,
  't.config',
];
const TRIAL_COLUMNS = TRIAL_SELECT.map((s) =>
  (s.match(/AS "?(\w+)"?$/)?.[1] ?? s.replace(/^t\./, '')).replaceAll('"', ''),
);
const RESULT_COLUMNS = [
  'trialId',
  'sourceTrialId',
  'evalDataset',
  'split',
  'classSubset',
  'top1',
  'correct',
  'total',
  'createdAt',
  'updatedAt',
];
/** A search's validation results (sweep/README.md "Searches"): one row per trial and epoch count it was validated at. */
const VALIDATION_COLUMNS = ['trialId', 'epochs', 'top1', 'correct', 'total', 'createdAt'];
const EPOCH_COLUMNS = [
  'trialId',
  'sourceTrialId',
  'epoch',
  'loss',
  'lossMain',
  'lossCavpt',
  'lrText',
  'lrVisual',
  'trainAcc',
  'seconds',
];

export interface ExportOptions {
  sweepId: string;
  format: ExportFormat;
  out: string;
  /** Trials read per page; their results and epochs follow in the same page. */
  pageSize?: number;
}

export interface ExportSummary {
  files: string[];
  counts: Record<ExportKind, number>;
}

/** Where each kind of row goes: four CSV files (FILE.trials.csv, ...) or one JSON-lines file tagged by `type`. */
export function exportPaths(out: string, format: ExportFormat): Record<ExportKind, string> {
  if (format === 'jsonl') return { trials: out, results: out, epochs: out, validations: out };
  const stem = out.endsWith('.csv') ? out.slice(0, -4) : out;
  return {
    trials: `${stem}.trials.csv`,
    results: `${stem}.results.csv`,
    epochs: `${stem}.epochs.csv`,
    validations: `${stem}.validations.csv`,
  };
}

/**
 * Writes every trial, result, epoch and validation row of a sweep, unsampled, paging through trials by id so memory stays flat
 * at any sweep size. Results and epochs of a trial that reuses another's are read through `reusedFromId`
 * (`sourceTrialId` names the trial that stores them). Files are written to temporary names and renamed at the end,
 * so a reader never sees a half-written export.
 */
export async function exportSweep(db: Queryable, options: ExportOptions): Promise<ExportSummary> {
  const pageSize = options.pageSize ?? 500;
  const paths = exportPaths(options.out, options.format);
  const targets = [...new Set(Object.values(paths))];
  const temps = new Map(targets.map((target) => [target, tempName(target)]));
  const streams = new Map(targets.map((target) => [target, createWriteStream(temps.get(target) as string)]));
  const counts: Record<ExportKind, number> = { trials: 0, results: 0, epochs: 0, validations: 0 };
  const columns: Record<ExportKind, string[]> = {
    trials: TRIAL_COLUMNS,
    results: RESULT_COLUMNS,
    epochs: EPOCH_COLUMNS,
    validations: VALIDATION_COLUMNS,
  };
  const write = async (kind: ExportKind, rows: Array<Record<string, unknown>>) => {
    const stream = streams.get(paths[kind]) as WriteStream;
    const text = rows
      .map((row) =>
        options.format === 'jsonl'
          ? `${JSON.stringify({ type: kind.slice(0, -1), ...row })}\n`
          : csvLine(columns[kind].map((column) => csvValue(row[column]))),
      )
      .join('');
    counts[kind] += rows.length;
    if (text !== '' && !stream.write(text)) await once(stream, 'drain');
  };

  try {
    if (options.format === 'csv') for (const kind of KINDS) streams.get(paths[kind])?.write(csvLine(columns[kind]));
    let after = '';
    for (;;) {
      const { rows: trials } = await db.query<Record<string, unknown>>(
        `SELECT ${TRIAL_SELECT.join(', ')} FROM "Trial" t JOIN "Sweep" s ON s.id = t."sweepId"
          WHERE t."sweepId" = $1 AND t.id > $2 ORDER BY t.id LIMIT $3`,
        [options.sweepId, after, pageSize],
      );
      if (trials.length === 0) break;
      after = trials[trials.length - 1]?.id as string;
      await write('trials', trials);
      const ids = trials.map((trial) => trial.id as string);
      const page = `WITH page AS (
          SELECT id AS "trialId", COALESCE("reusedFromId", id) AS "sourceTrialId" FROM "Trial" WHERE id = ANY($1::text[]))`;
      const { rows: results } = await db.query<Record<string, unknown>>(
        `${page}
         SELECT p."trialId", p."sourceTrialId", r."evalDataset", r.split, r."classSubset", r.top1, r.correct, r.total,
                ${iso('r."createdAt"')} AS "createdAt", ${iso('r."updatedAt"')} AS "updatedAt"
           FROM page p JOIN "TrialResult" r ON r."trialId" = p."sourceTrialId"
          ORDER BY p."trialId", r."evalDataset", r.split, r."classSubset"`,
        [ids],
      );
      await write('results', results);
      const { rows: epochs } = await db.query<Record<string, unknown>>(
        `${page}
         SELECT p."trialId", p."sourceTrialId", e.epoch, e.loss, e."lossMain", e."lossCavpt", e."lrText", e."lrVisual",
                e."trainAcc", e.seconds
           FROM page p JOIN "EpochMetric" e ON e."trialId" = p."sourceTrialId"
          ORDER BY p."trialId", e.epoch`,
        [ids],
      );
      await write('epochs', epochs);
      // A trial's own: validation rows belong to the search run that trained it, never to a reused source.
      const { rows: validations } = await db.query<Record<string, unknown>>(
        `SELECT v."trialId", v.epochs, v.top1, v.correct, v.total, ${iso('v."createdAt"')} AS "createdAt"
           FROM "TrialValidation" v WHERE v."trialId" = ANY($1::text[]) ORDER BY v."trialId", v.epochs`,
        [ids],
      );
      await write('validations', validations);
      if (trials.length < pageSize) break;
    }
    await Promise.all([...streams.values()].map((stream) => closeStream(stream)));
    for (const target of targets) await rename(temps.get(target) as string, target);
    return { files: targets, counts };
  } catch (error) {
    for (const stream of streams.values()) stream.destroy();
    await Promise.all([...temps.values()].map((temp) => rm(temp, { force: true })));
    throw error;
  }
}

function csvValue(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.join(';');
  if (typeof value === 'object') return JSON.stringify(value);
  return value as string | number | boolean;
}

function tempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
}

async function closeStream(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'close');
}
