import type { Item } from './datasets/types.ts';

/**
 * Base-to-novel class split of CoCoOp's official code (`subsample_classes` in its datasets/oxford_pets.py, which
 * every dataset reader of CoOp/CoCoOp calls after the few-shot sampling): the distinct labels of the first list (the
 * few-shot training split) in ascending order, the first ceil(n/2) of them are the base classes and the rest the
 * novel ones; every list keeps only the items of the chosen half, relabelled 0.. in that order. Pure.
 */
export type ClassSubset = 'base' | 'novel';
export const CLASS_SUBSETS = ['base', 'novel'] as const satisfies readonly ClassSubset[];

export interface SubsampledClasses<L extends readonly (readonly Item[])[]> {
  /** the chosen half's original labels in ascending order; position = new label */
  labels: number[];
  /** class names in new-label order */
  classnames: string[];
  lists: { [K in keyof L]: Item[] };
}

/** The original labels of each half for the label set of `items` (CoCoOp: base first, ceil(n/2) of them). */
export function splitLabels(items: readonly Item[]): Record<ClassSubset, number[]> {
  const labels = [...new Set(items.map((item) => item.label))].sort((a, b) => a - b);
  const m = Math.ceil(labels.length / 2);
  return { base: labels.slice(0, m), novel: labels.slice(m) };
}

/**
 * Keeps the `subset` half of the classes in every list, the halves decided by the first list's labels; the class
 * names are the first list's (Dassl's `get_lab2cname` on the subsampled training split).
 */
export function subsampleClasses<L extends readonly (readonly Item[])[]>(
  subset: ClassSubset,
  ...lists: L
): SubsampledClasses<L> {
  const first = lists[0];
  if (first === undefined) throw new Error('subsampleClasses needs at least one list');
  const labels = splitLabels(first)[subset];
  const relabel = new Map(labels.map((label, i) => [label, i]));
  const out = lists.map((list) =>
    list.flatMap((item) => {
      const label = relabel.get(item.label);
      return label === undefined ? [] : [{ ...item, label }];
    }),
  ) as { [K in keyof L]: Item[] };
  const names = new Map(first.map((item) => [item.label, item.classname]));
  return { labels, classnames: labels.map((label) => names.get(label) as string), lists: out };
}
