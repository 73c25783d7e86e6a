import { describe, expect, it } from 'vitest';
import type { Item } from '../../../data/datasets/types.ts';
import { splitLabels, subsampleClasses } from '../../../data/subsample.ts';

const item = (label: number, i: number): Item => ({ impath: `/d/${label}/${i}.png`, label, classname: `c${label}` });

/*
 * CoCoOp's rule (datasets/oxford_pets.py `subsample_classes`), worked by hand for seven classes whose labels arrive
 * out of order: the sorted labels are 0..6, m = ceil(7 / 2) = 4, base = the labels 0, 1, 2, 3 relabelled 0..3 and
 * novel = 4, 5, 6 relabelled 0..2; the halves come from the first list (the few-shot training split) alone.
 */
describe('base-to-novel class split (data/subsample.ts)', () => {
  const train = [6, 2, 0, 5, 3, 1, 4].flatMap((label) => [item(label, 0), item(label, 1)]);
  const test = [0, 1, 2, 3, 4, 5, 6].map((label) => item(label, 9));

  it('puts the first ceil(n/2) sorted labels in the base half', () => {
    expect(splitLabels(train)).toEqual({ base: [0, 1, 2, 3], novel: [4, 5, 6] });
    expect(splitLabels(train.filter((entry) => entry.label < 6))).toEqual({ base: [0, 1, 2], novel: [3, 4, 5] });
    expect(splitLabels([item(7, 0)])).toEqual({ base: [7], novel: [] });
  });

  it('keeps each half in every list, relabelled in label order, with the training split’s class names', () => {
    const base = subsampleClasses('base', train, test);
    expect(base.labels).toEqual([0, 1, 2, 3]);
    expect(base.classnames).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(base.lists[1].map((entry) => [entry.impath, entry.label])).toEqual([
      ['/d/0/9.png', 0],
      ['/d/1/9.png', 1],
      ['/d/2/9.png', 2],
      ['/d/3/9.png', 3],
    ]);
    const novel = subsampleClasses('novel', train, test);
    expect(novel.classnames).toEqual(['c4', 'c5', 'c6']);
    expect(novel.lists[1].map((entry) => [entry.impath, entry.label])).toEqual([
      ['/d/4/9.png', 0],
      ['/d/5/9.png', 1],
      ['/d/6/9.png', 2],
    ]);
    // The training split keeps its order: only the other half is dropped.
    expect(novel.lists[0].map((entry) => entry.impath)).toEqual(
      train.filter((entry) => entry.label >= 4).map((entry) => entry.impath),
    );
  });

  it('takes the halves from the training split even when a test class has no training image', () => {
    const sparse = train.filter((entry) => entry.label !== 1);
    expect(subsampleClasses('base', sparse, test).labels).toEqual([0, 2, 3]);
    expect(subsampleClasses('novel', sparse, test).lists[1].map((entry) => entry.label)).toEqual([0, 1, 2]);
  });
});
