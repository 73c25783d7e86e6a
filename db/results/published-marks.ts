import type { ProtocolName } from '../../sweep/protocol.ts';
import type { Factor, FactorValue } from '../ablation.ts';
import { AVERAGE_ROW } from './base-to-novel.ts';
import type { AverageEntry, Pivot, PivotEntry } from './pivot.ts';
import { type Anchor, type AnchorMetric, findAnchor } from './published.ts';

/** A source of published numbers shown in a table, numbered as its entries' `published.ref`. */
export interface PublishedSource {
  ref: number;
  source: string;
  url: string;
  epochs: number | null;
}

export interface MarkContext {
  anchors: readonly Anchor[];
  protocol: ProtocolName;
  /** the distinct values each factor takes over the table's trials: a factor with one value holds for every cell */
  constants: Map<Factor, FactorValue[]>;
}

/**
 * Puts the published number beside every entry of `pivot` whose cell has one: the cell's method, backbone, shots and
 * dataset come from its row, its column, or the table as a whole (a factor with one value), and the metric from the
 * layout (base, novel, HM columns of base-to-novel; top-1 elsewhere). Returns the sources used, numbered.
 */
export function markPublished(pivot: Pivot, context: MarkContext): PublishedSource[] {
  const sources: PublishedSource[] = [];
  const refOf = (source: Omit<PublishedSource, 'ref'>) => {
    const known = sources.find((entry) => entry.source === source.source);
    if (known) return known.ref;
    const ref = sources.length + 1;
    sources.push({ ref, ...source });
    return ref;
  };
  const single = (factor: Factor): FactorValue | undefined => {
    const values = context.constants.get(factor) ?? [];
    return values.length === 1 ? values[0] : undefined;
  };
  for (const row of pivot.rows) {
    const factorIn = (factor: Factor): FactorValue | undefined => {
      const i = pivot.rowFactors.indexOf(factor);
      return i >= 0 ? row.key[i] : single(factor);
    };
    const mark = (entry: PivotEntry | AverageEntry | null, column: FactorValue | typeof AVERAGE_COLUMN) => {
      if (!entry) return;
      const cell = cellOf(pivot.column, column, factorIn);
      const method = factorIn('method');
      const backbone = factorIn('backbone');
      const shots = cell.shots ?? factorIn('shots');
      if (typeof method !== 'string' || typeof backbone !== 'string' || typeof shots !== 'number') return;
      if (typeof cell.dataset !== 'string') return;
      const found = findAnchor(context.anchors, {
        method,
        backbone,
        protocol: context.protocol,
        dataset: cell.dataset,
        target: cell.target,
        shots,
        metric: cell.metric,
      });
      if (!found) return;
      entry.published = {
        value: found.value,
        diff: entry.mean === null ? null : entry.mean - found.value,
        ref: refOf({ source: found.source, url: found.url, epochs: found.epochs }),
      };
    };
    for (const [i, entry] of row.entries.entries()) mark(entry, pivot.columns[i] ?? null);
    mark(row.average, AVERAGE_COLUMN);
  }
  return sources;
}

const AVERAGE_COLUMN = Symbol('average column');

interface CellCoordinates {
  dataset: FactorValue | undefined;
  target?: string | undefined;
  shots?: number | undefined;
  metric: AnchorMetric;
}

function cellOf(
  column: Factor,
  value: FactorValue | typeof AVERAGE_COLUMN,
  factorIn: (factor: Factor) => FactorValue | undefined,
): CellCoordinates {
  const average = value === AVERAGE_COLUMN;
  switch (column) {
    case 'dataset':
      return { dataset: average ? AVERAGE_ROW : value, metric: 'top1' };
    case 'evalDataset':
      // Transfer: the source is the trials' dataset; the average column is the published average over targets.
      return { dataset: factorIn('dataset'), target: average ? AVERAGE_ROW : String(value), metric: 'top1' };
    case 'classSubset': {
      const metric: AnchorMetric = value === 'base' ? 'base' : value === 'novel' ? 'novel' : 'hm';
      return { dataset: factorIn('dataset'), metric };
    }
    case 'shots':
      return {
        dataset: factorIn('dataset'),
        shots: typeof value === 'number' ? value : undefined,
        metric: 'top1',
      };
    default:
      return { dataset: factorIn('dataset'), metric: 'top1' };
  }
}
