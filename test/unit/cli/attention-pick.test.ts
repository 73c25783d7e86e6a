import { describe, expect, it } from 'vitest';
import { pickTrials } from '../../../cli/attention/maps.ts';
import type { AttentionCandidate } from '../../../db/attention.ts';

const trial = (id: string, method: string, shots: number, seed: number, kN: number | null): AttentionCandidate => ({
  id,
  source: id,
  method,
  config: {},
  factors: { method, dataset: 'synth_target', shots, seed, kN, cavptLength: kN },
});

const candidates = [
  trial('z2', 'zeroshot', 2, 1, null),
  trial('z8', 'zeroshot', 8, 1, null),
  trial('c8', 'coop', 8, 1, null),
  trial('c8s2', 'coop', 8, 2, null),
  trial('d8-6', 'dpt', 8, 1, 6),
  trial('d8-3', 'dpt', 8, 1, 3),
  trial('d2-6', 'dpt', 2, 1, 6),
];
const selection = { dataset: 'synth_target', where: [], images: 4 };

describe('choosing the trials of an attention figure', () => {
  it('takes the most shots and the smallest seed by default, every method in paper order', () => {
    const picked = pickTrials(candidates.slice(0, 4), selection);
    expect(picked.map((t) => t.id)).toEqual(['z8', 'c8']);
  });

  it('says which factors tell apart several trials of a method, and --where settles it', () => {
    expect(() => pickTrials(candidates, selection)).toThrow(
      '2 dpt trials match; choose one with --where (kN=6|3, cavptLength=6|3)',
    );
    const picked = pickTrials(candidates, { ...selection, where: ['kN=6'] });
    // kN is null for methods that do not read it: the clause leaves them in.
    expect(picked.map((t) => t.id)).toEqual(['z8', 'c8', 'd8-6']);
    expect(() => pickTrials(candidates, { ...selection, where: ['kN=6'], shots: 2 })).toThrow(
      'no finished coop trial on synth_target at 2 shots, seed 1',
    );
    expect(
      pickTrials(candidates, { ...selection, where: ['kN=6'], shots: 2, methods: ['dpt', 'zeroshot'] }).map(
        (t) => t.id,
      ),
    ).toEqual(['d2-6', 'z2']);
  });

  it('names an unknown method or factor with the valid ones', () => {
    expect(() => pickTrials(candidates, { ...selection, methods: ['clip'] })).toThrow(
      'unknown method clip; methods: zeroshot, coop, vpt, vlp, dpt',
    );
    expect(() => pickTrials(candidates, { ...selection, where: ['depth=2'] })).toThrow(
      /no factor depth; factors: method/,
    );
    expect(() => pickTrials([], selection)).toThrow('the sweep has no finished trial on synth_target');
  });
});
