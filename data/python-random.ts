/**
 * A port of CPython 3's `random.Random` (Lib/random.py on top of Modules/_randommodule.c, as in CPython 3.11), so
 * that a seed produces the same stream of choices as the official Python code: the few-shot picks of Dassl's
 * `generate_fewshot_dataset` (`random.seed(SEED)` then `random.sample` per class) are only reproducible with the
 * same Mersenne Twister, the same integer seeding and the same `sample` algorithm.
 *
 * Exactness: the integer streams (`getrandbits`, `randbelow`, `randint`, `randrange`, `choice`, `sample`,
 * `shuffle`) and `random()`/`uniform()` are bit-identical to CPython. `gauss` and `normalvariate` use `Math.log`,
 * `Math.cos`, `Math.sin`, whose last bit may differ from the C library CPython links against, so they agree to about
 * 1 ulp, not bitwise (the consumed generator state is still identical: the same number of draws).
 *
 * This is the one generator for every random choice of a trial (few-shot picks, data order, crops, flips), so its
 * full state is saved with checkpoints through `getState()` / `setState()`.
 */
import { DatasetError } from './errors.ts';

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;
/** CPython's `NV_MAGICCONST = 4 * exp(-0.5) / sqrt(2.0)`, written out so no libm rounding can creep in. */
const NV_MAGICCONST = 1.7155277699214135;
/** `math.tau`. */
const TWOPI = 6.283185307179586;

/** JSON form of the generator: CPython's `getstate()` is `(3, (*mt, index), gauss_next)`. */
export interface PythonRandomState {
  version: 3;
  /** The 624 words of the Mersenne Twister state, unsigned 32-bit. */
  mt: number[];
  /** Position of the next word to temper, 0..624. */
  index: number;
  /** The second value of the last Box-Muller pair, waiting to be returned by `gauss`. */
  gaussNext: number | null;
}

/** CPython's tuple form, e.g. `json.dumps(random.getstate())`: `[3, [mt0..mt623, index], gauss_next]`. */
export type PythonStateTuple = [number, number[], number | null];

export class PythonRandom {
  private readonly mt = new Uint32Array(N);
  private index = N + 1;
  private gaussNext: number | null = null;

  constructor(seed: number | bigint = 0) {
    this.seed(seed);
  }

  /** `random.seed(int)`: the absolute value, split into 32-bit words from the least significant, via init_by_array. */
  seed(seed: number | bigint): void {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
      throw new DatasetError(`PythonRandom seed must be a safe integer or a bigint, got ${seed}`, 'bad-request');
    }
    let n = BigInt(seed);
    if (n < 0n) n = -n;
    const key: number[] = [];
    do {
      key.push(Number(n & 0xffffffffn));
      n >>= 32n;
    } while (n > 0n);
    this.initByArray(key);
    this.gaussNext = null;
  }

  /** Float in [0, 1) with 53 random bits: 27 bits from one word, 26 from the next. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /** An integer with `k` random bits, built from 32-bit words, least significant first; the last one is shifted. */
  getrandbits(k: number): bigint {
    checkBitCount(k);
    if (k <= 53) return BigInt(this.getrandbitsNumber(k));
    let result = 0n;
    let shift = 0n;
    for (let left = k; left > 0; left -= 32, shift += 32n) {
      let word = this.nextUint32();
      if (left < 32) word >>>= 32 - left;
      result |= BigInt(word) << shift;
    }
    return result;
  }

  /** `getrandbits(k)` for k ≤ 53 as a plain number (same words consumed, same value). */
  getrandbitsNumber(k: number): number {
    checkBitCount(k);
    if (k > 53) throw new DatasetError(`getrandbitsNumber supports at most 53 bits, got ${k}`, 'bad-request');
    if (k === 0) return 0;
    if (k <= 32) return this.nextUint32() >>> (32 - k);
    const low = this.nextUint32();
    const high = this.nextUint32() >>> (64 - k);
    return high * TWO_POW_32 + low;
  }

  /** `_randbelow_with_getrandbits`: rejection sampling with k = n.bit_length() bits. Defined for n > 0. */
  randbelow(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) {
      throw new DatasetError(`randbelow needs a positive safe integer, got ${n}`, 'bad-request');
    }
    const k = bitLength(n);
    let r = this.getrandbitsNumber(k);
    while (r >= n) r = this.getrandbitsNumber(k);
    return r;
  }

  /** `randrange(stop)` or `randrange(start, stop[, step])` for integer arguments. */
  randrange(start: number, stop?: number, step = 1): number {
    for (const v of [start, stop ?? 0, step]) {
      if (!Number.isSafeInteger(v)) throw new DatasetError(`randrange needs integers, got ${v}`, 'bad-request');
    }
    if (stop === undefined) {
      if (start > 0) return this.randbelow(start);
      throw new DatasetError('empty range for randrange()', 'bad-request');
    }
    const width = stop - start;
    if (step === 1) {
      if (width > 0) return start + this.randbelow(width);
      throw new DatasetError(`empty range for randrange() (${start}, ${stop}, ${width})`, 'bad-request');
    }
    if (step === 0) throw new DatasetError('zero step for randrange()', 'bad-request');
    // Python's floor division of (width ± (|step| - 1)) by step: the number of values in the range.
    const n = step > 0 ? Math.floor((width + step - 1) / step) : Math.floor((width + step + 1) / step);
    if (n <= 0) throw new DatasetError('empty range for randrange()', 'bad-request');
    return start + step * this.randbelow(n);
  }

  /** Integer in [a, b], both ends included. */
  randint(a: number, b: number): number {
    return this.randrange(a, b + 1);
  }

  uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }

  choice<T>(seq: readonly T[]): T {
    if (seq.length === 0) throw new DatasetError('Cannot choose from an empty sequence', 'bad-request');
    return seq[this.randbelow(seq.length)] as T;
  }

  /** Fisher-Yates from the end, in place, exactly as `random.shuffle`. */
  shuffle<T>(x: T[]): void {
    for (let i = x.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      const tmp = x[i] as T;
      x[i] = x[j] as T;
      x[j] = tmp;
    }
  }

  /**
   * `random.sample(population, k)`: k distinct elements in selection order. Like CPython, it keeps a shrinking pool
   * when the population is small compared with the hash set it would otherwise need, and otherwise redraws indices
   * until it hits one not yet taken; the two branches consume the generator differently, so the choice between them
   * must follow CPython's `setsize` rule exactly.
   */
  sample<T>(population: readonly T[], k: number): T[] {
    const n = population.length;
    if (!Number.isInteger(k) || k < 0 || k > n) {
      throw new DatasetError(`Sample larger than population or is negative (k=${k}, n=${n})`, 'bad-request');
    }
    const result: T[] = new Array<T>(k);
    if (n <= sampleSetSize(k)) {
      const pool = population.slice();
      for (let i = 0; i < k; i++) {
        const j = this.randbelow(n - i);
        result[i] = pool[j] as T;
        pool[j] = pool[n - i - 1] as T;
      }
    } else {
      const selected = new Set<number>();
      for (let i = 0; i < k; i++) {
        let j = this.randbelow(n);
        while (selected.has(j)) j = this.randbelow(n);
        selected.add(j);
        result[i] = population[j] as T;
      }
    }
    return result;
  }

  /** Kinderman-Monahan ratio of uniforms, as `random.normalvariate` (no cached second value). */
  normalvariate(mu = 0, sigma = 1): number {
    let z: number;
    for (;;) {
      const u1 = this.random();
      const u2 = 1 - this.random();
      z = (NV_MAGICCONST * (u1 - 0.5)) / u2;
      const zz = (z * z) / 4;
      if (zz <= -Math.log(u2)) break;
    }
    return mu + z * sigma;
  }

  /** Box-Muller with the second value of each pair kept for the next call, as `random.gauss`. */
  gauss(mu = 0, sigma = 1): number {
    let z = this.gaussNext;
    this.gaussNext = null;
    if (z === null) {
      const x2pi = this.random() * TWOPI;
      const g2rad = Math.sqrt(-2 * Math.log(1 - this.random()));
      z = Math.cos(x2pi) * g2rad;
      this.gaussNext = Math.sin(x2pi) * g2rad;
    }
    return mu + z * sigma;
  }

  getState(): PythonRandomState {
    return { version: 3, mt: Array.from(this.mt), index: this.index, gaussNext: this.gaussNext };
  }

  setState(state: PythonRandomState): void {
    if (state.version !== 3)
      throw new DatasetError(`unsupported PythonRandom state version ${state.version}`, 'bad-format');
    if (!Array.isArray(state.mt) || state.mt.length !== N) {
      throw new DatasetError(`PythonRandom state must hold ${N} words`, 'bad-format');
    }
    if (!Number.isInteger(state.index) || state.index < 0 || state.index > N) {
      throw new DatasetError(`invalid PythonRandom state index ${state.index}`, 'bad-format');
    }
    for (const w of state.mt) {
      if (!Number.isInteger(w) || w < 0 || w >= TWO_POW_32) {
        throw new DatasetError(`PythonRandom state word out of range: ${w}`, 'bad-format');
      }
    }
    if (state.gaussNext !== null && typeof state.gaussNext !== 'number') {
      throw new DatasetError('PythonRandom gaussNext must be a number or null', 'bad-format');
    }
    this.mt.set(state.mt);
    this.index = state.index;
    this.gaussNext = state.gaussNext;
  }

  /** CPython's `getstate()` tuple, for exchanging states with Python. */
  toPythonState(): PythonStateTuple {
    return [3, [...Array.from(this.mt), this.index], this.gaussNext];
  }

  static fromPythonState(tuple: PythonStateTuple): PythonRandom {
    const [version, words, gaussNext] = tuple;
    if (version !== 3 || words.length !== N + 1) {
      throw new DatasetError('not a CPython version-3 random state tuple', 'bad-format');
    }
    const rng = new PythonRandom();
    rng.setState({ version: 3, mt: words.slice(0, N), index: words[N] as number, gaussNext });
    return rng;
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] as number;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
    this.index = N;
  }

  private initByArray(key: readonly number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] as number;
      mt[i] = ((mt[i] as number) ^ Math.imul(prev ^ (prev >>> 30), 1664525)) + (key[j] as number) + j;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1] as number;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] as number;
      mt[i] = ((mt[i] as number) ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) - i;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1] as number;
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  /** genrand_uint32: regenerate the 624 words when exhausted, then temper the next one. */
  private nextUint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = ((mt[kk] as number) & UPPER_MASK) | ((mt[kk + 1] as number) & LOWER_MASK);
        mt[kk] = (mt[kk + M] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = ((mt[kk] as number) & UPPER_MASK) | ((mt[kk + 1] as number) & LOWER_MASK);
        mt[kk] = (mt[kk + (M - N)] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      const y = ((mt[N - 1] as number) & UPPER_MASK) | ((mt[0] as number) & LOWER_MASK);
      mt[N - 1] = (mt[M - 1] as number) ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      this.index = 0;
    }
    let y = mt[this.index++] as number;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

/**
 * CPython's `setsize` rule of `sample`: 21, plus `4 ** ceil(log(3k, 4))` when k > 5. Computed on integers: 3k is
 * never a power of 4 (powers of 4 are not multiples of 3), so the smallest m with 4^m ≥ 3k equals the float
 * ceiling CPython computes for every k this code can meet.
 */
export function sampleSetSize(k: number): number {
  let setsize = 21;
  if (k > 5) {
    let power = 1;
    while (power < 3 * k) power *= 4;
    setsize += power;
  }
  return setsize;
}

function bitLength(n: number): number {
  if (n < TWO_POW_32) return 32 - Math.clz32(n);
  return 32 + (32 - Math.clz32(Math.floor(n / TWO_POW_32)));
}

function checkBitCount(k: number): void {
  if (!Number.isInteger(k) || k < 0) {
    throw new DatasetError(`number of bits must be a non-negative integer, got ${k}`, 'bad-request');
  }
}
