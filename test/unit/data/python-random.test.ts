import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DatasetError } from '../../../data/errors.ts';
import { PythonRandom, type PythonStateTuple, sampleSetSize } from '../../../data/python-random.ts';

interface Op {
  op: string;
  args: (number | string)[];
  result: unknown;
}
interface Trace {
  seed: string;
  ops: Op[];
  state: PythonStateTuple;
  afterState: number[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../../fixtures/splits/random-sequences.json', import.meta.url), 'utf8'),
) as { traces: Trace[] };

/** |a-b| in units in the last place of b (gauss/normalvariate go through libm, which may differ by an ulp). */
function ulps(a: number, b: number): number {
  if (a === b) return 0;
  const ulp = Math.max(Number.EPSILON * Math.abs(b), Number.MIN_VALUE);
  return Math.abs(a - b) / ulp;
}

function replay(rng: PythonRandom, op: Op): unknown {
  const nums = op.args.map(Number);
  switch (op.op) {
    case 'random':
      return rng.random();
    case 'getrandbits':
      return rng.getrandbits(nums[0] as number).toString();
    case 'randbelow':
      return rng.randbelow(nums[0] as number);
    case 'randint':
      return rng.randint(nums[0] as number, nums[1] as number);
    case 'randrange':
      return rng.randrange(nums[0] as number, nums[1], nums[2]);
    case 'uniform':
      return rng.uniform(nums[0] as number, nums[1] as number);
    case 'choice':
      return rng.choice([...String(op.args[0])]);
    case 'sample': {
      const population = Array.from({ length: nums[0] as number }, (_, i) => i);
      return rng.sample(population, nums[1] as number);
    }
    case 'shuffle': {
      const x = Array.from({ length: nums[0] as number }, (_, i) => i);
      rng.shuffle(x);
      return x;
    }
    case 'gauss':
      return rng.gauss(nums[0], nums[1]);
    case 'normalvariate':
      return rng.normalvariate(nums[0], nums[1]);
    default:
      throw new Error(`unknown op ${op.op}`);
  }
}

describe('PythonRandom against CPython traces', () => {
  for (const trace of fixture.traces) {
    it(`seed ${trace.seed}: every call and the final state equal CPython's`, () => {
      const rng = new PythonRandom(BigInt(trace.seed));
      let maxUlps = 0;
      for (const [i, op] of trace.ops.entries()) {
        const got = replay(rng, op);
        if (op.op === 'gauss' || op.op === 'normalvariate') {
          const d = ulps(got as number, op.result as number);
          maxUlps = Math.max(maxUlps, d);
          expect(d, `op #${i} ${op.op}`).toBeLessThanOrEqual(4);
        } else {
          expect(got, `op #${i} ${op.op}(${op.args.join(', ')})`).toEqual(op.result);
        }
      }
      // The whole 625-word state and the cached gauss value agree, so every later draw will too.
      const [version, words, gaussNext] = rng.toPythonState();
      expect(version).toBe(3);
      expect(words).toEqual(trace.state[1]);
      expect(ulps(gaussNext as number, trace.state[2] as number)).toBeLessThanOrEqual(4);
      expect(maxUlps).toBeLessThanOrEqual(4);
    });

    it(`seed ${trace.seed}: a CPython getstate() loads and continues identically`, () => {
      const rng = PythonRandom.fromPythonState(trace.state);
      const got = [rng.random(), rng.random(), rng.random(), rng.gauss(), rng.gauss(), rng.gauss()];
      expect(got.slice(0, 3)).toEqual(trace.afterState.slice(0, 3));
      for (let i = 3; i < 6; i++) expect(ulps(got[i] as number, trace.afterState[i] as number)).toBeLessThanOrEqual(4);
    });
  }

  it('reports how many gauss values are bit-identical (libm may differ in the last bit)', () => {
    let exact = 0;
    let total = 0;
    for (const trace of fixture.traces) {
      const rng = new PythonRandom(BigInt(trace.seed));
      for (const op of trace.ops) {
        const got = replay(rng, op);
        if (op.op === 'gauss' || op.op === 'normalvariate') {
          total++;
          if (got === op.result) exact++;
        }
      }
    }
    expect(total).toBeGreaterThan(0);
    console.info(`[python-random] gauss/normalvariate bit-identical: ${exact}/${total}`);
  });
});

describe('PythonRandom state and inputs', () => {
  it('getState/setState round-trips through JSON mid-stream, gauss cache included', () => {
    const a = new PythonRandom(7);
    for (let i = 0; i < 700; i++) a.random();
    a.gauss();
    const saved = JSON.parse(JSON.stringify(a.getState()));
    const b = new PythonRandom(999);
    b.setState(saved);
    expect([b.gauss(), b.random(), b.randbelow(1000)]).toEqual([a.gauss(), a.random(), a.randbelow(1000)]);
  });

  it('seeds with a number and the equal bigint alike, and negative seeds as their absolute value', () => {
    expect(new PythonRandom(5).random()).toBe(new PythonRandom(5n).random());
    expect(new PythonRandom(-5).random()).toBe(new PythonRandom(5).random());
  });

  it('rejects bad input with a DatasetError naming it', () => {
    const rng = new PythonRandom(1);
    expect(() => rng.sample([1, 2], 3)).toThrow(DatasetError);
    expect(() => rng.randbelow(0)).toThrow(/positive/);
    expect(() => rng.randint(5, 4)).toThrow(/empty range/);
    expect(() => new PythonRandom(0.5)).toThrow(/safe integer/);
    expect(() => rng.setState({ version: 3, mt: [1], index: 0, gaussNext: null })).toThrow(/624/);
  });

  it("uses CPython's setsize rule for sample's branch choice", () => {
    expect(sampleSetSize(5)).toBe(21);
    expect(sampleSetSize(6)).toBe(21 + 64);
    expect(sampleSetSize(16)).toBe(21 + 64);
    expect(sampleSetSize(22)).toBe(21 + 256);
    for (let k = 6; k < 5000; k++) {
      expect(sampleSetSize(k)).toBe(21 + 4 ** Math.ceil(Math.log(3 * k) / Math.log(4)));
    }
  });
});
