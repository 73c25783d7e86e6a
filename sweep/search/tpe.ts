import { PythonRandom } from '../../data/python-random.ts';

/**
 * A Tree-structured Parzen Estimator (Bergstra et al. 2011, "Algorithms for Hyper-Parameter Optimization", §4), in
 * its independent form: each dimension is modelled and sampled on its own, as Optuna's TPESampler does with its
 * defaults (multivariate=False). Its settings follow Optuna's TPESampler defaults (n_startup_trials=10,
 * n_ei_candidates=24, gamma = min(ceil(0.1 n), 25), prior_weight=1.0, consider_magic_clip=True,
 * consider_endpoints=False, default_weights), written here from the algorithm, not from Optuna's code.
 *
 * Pure: a suggestion is a function of (space, observations, index, options) alone, so a resumed search that replays
 * the same observations gets the same suggestions without any saved sampler state.
 */

export type SearchDimension =
  | { kind: 'float'; key: string; min: number; max: number; scale: 'linear' | 'log' }
  | { kind: 'int'; key: string; min: number; max: number; scale: 'linear' | 'log' }
  | { kind: 'categorical'; key: string; values: readonly (string | number)[] };
export type Params = Record<string, string | number>;
/** One finished suggestion: its parameters and the objective, which the search MAXIMISES (mean val accuracy). */
export interface Observation {
  params: Params;
  value: number;
}
export interface TpeOptions {
  /** the search seed from the sweep file */
  seed: number;
  /** suggestions drawn uniformly at random before the model is used (Optuna's n_startup_trials; default 10) */
  startup?: number;
  /** candidates drawn from l(x) per dimension, the best l/g ratio kept (Optuna's n_ei_candidates; default 24) */
  candidates?: number;
}

export const TPE_DEFAULTS: { startup: number; candidates: number } = Object.freeze({ startup: 10, candidates: 24 });

/** Weight of the prior component against observations of weight 1 (Optuna's prior_weight default). */
const PRIOR_WEIGHT = 1;
/** The newest observations of a group that keep full weight (Optuna's default_weights). */
const FLAT_WEIGHT_COUNT = 25;
/** Cap of the "good" group (Optuna's default_gamma). */
const MAX_GOOD = 25;
/** Cap on the divisor of the minimum bandwidth: the magic clip of hyperopt's adaptive_parzen_normal, as Optuna's. */
const MAGIC_CLIP_COMPONENTS = 100;
/** Bounds on rejection draws of one truncated Gaussian; each accepts with p > 0.3, so this is never reached. */
const MAX_REJECTIONS = 10_000;

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const LOG_HALF = Math.log(0.5);
const SQRT_HALF = Math.SQRT1_2;

/**
 * The gamma of Optuna's default: how many observations form the "good" group: min(ceil(0.1 n), 25).
 * Computed as ceil(n / 10), exact for integers; Optuna's float product 0.1 * n rounds up at some multiples of ten
 * (0.1 * 30 = 3.0000000000000004, so 4), which this does not copy.
 */
export function goodCount(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`goodCount: n must be a non-negative integer, got ${n}`);
  return Math.min(Math.ceil(n / 10), MAX_GOOD);
}

/**
 * Suggestion number `index` (0-based) given the observations available. Pure and deterministic: the same
 * (space, observations in the same order, index, options) always gives the same params; its random draws come from a
 * generator seeded from (options.seed, index) only, so a resumed search repeats suggestions exactly.
 *
 * Observation order matters only through (a) ties in the objective (the earlier observation ranks higher) and
 * (b) the weights of a group of 25 or more observations (older ones weigh less); otherwise any permutation of the
 * observations gives the same suggestion, because each mixture's components are kept in a canonical order.
 */
export function suggestTpe(
  space: readonly SearchDimension[],
  observations: readonly Observation[],
  index: number,
  options: TpeOptions,
): Params {
  checkSpace(space);
  const { seed, startup, candidates } = checkOptions(options);
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new Error(`suggestTpe: index must be a non-negative integer, got ${index}`);
  }
  checkObservations(space, observations);
  const rng = suggestionRandom(seed, index);
  const params: Params = {};

  if (observations.length < startup) {
    for (const dim of space) params[dim.key] = uniformDraw(dim, rng);
    return params;
  }

  const ranked = rankByValue(observations);
  const good = ranked.slice(0, goodCount(observations.length)).sort((a, b) => a - b);
  const bad = ranked.slice(good.length).sort((a, b) => a - b);
  const goodWeights = groupWeights(good.length);
  const badWeights = groupWeights(bad.length);

  for (const dim of space) {
    if (dim.kind === 'categorical') {
      const l = categoricalEstimator(dim.values, good, goodWeights, observations, dim.key);
      const g = categoricalEstimator(dim.values, bad, badWeights, observations, dim.key);
      let best = 0;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < candidates; c++) {
        const k = sampleIndex(l, rng);
        const score = Math.log(l[k]!) - Math.log(g[k]!);
        if (score > bestScore) {
          bestScore = score;
          best = k;
        }
      }
      params[dim.key] = dim.values[best]!;
      continue;
    }
    const domain = numericDomain(dim);
    const pointsOf = (group: readonly number[]) =>
      group.map((i) => domain.forward(observations[i]!.params[dim.key] as number));
    const l = parzenEstimator(pointsOf(good), goodWeights, domain.low, domain.high);
    const g = parzenEstimator(pointsOf(bad), badWeights, domain.low, domain.high);
    let best = Number.NaN;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < candidates; c++) {
      const value = domain.backward(sampleMixture(l, rng));
      const ratio = domain.logDensity(l, value) - domain.logDensity(g, value);
      // Densities are kept in logs and stay finite; NaN (both -Infinity) would only rank last, never win.
      const score = Number.isNaN(ratio) ? Number.NEGATIVE_INFINITY : ratio;
      if (c === 0 || score > bestScore) {
        bestScore = score;
        best = value;
      }
    }
    params[dim.key] = best;
  }
  return params;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

function checkSpace(space: readonly SearchDimension[]): void {
  if (space.length === 0) throw new Error('search space is empty: give at least one dimension');
  const keys = new Set<string>();
  for (const dim of space) {
    if (typeof dim.key !== 'string' || dim.key === '') throw new Error('search dimension has an empty key');
    if (keys.has(dim.key)) throw new Error(`search dimension ${dim.key} appears twice`);
    keys.add(dim.key);
    if (dim.kind === 'categorical') {
      if (dim.values.length === 0) throw new Error(`categorical dimension ${dim.key} has no values`);
      const seen = new Set<string | number>();
      for (const v of dim.values) {
        if (typeof v === 'number' && !Number.isFinite(v)) {
          throw new Error(`categorical dimension ${dim.key} has a non-finite value ${v}`);
        }
        if (seen.has(v)) throw new Error(`categorical dimension ${dim.key} lists ${JSON.stringify(v)} twice`);
        seen.add(v);
      }
      continue;
    }
    // Sweep files arrive as parsed YAML, so a kind outside the type can still reach here.
    const kind: unknown = dim.kind;
    if (kind !== 'float' && kind !== 'int') {
      throw new Error(`search dimension ${dim.key} has unknown kind ${JSON.stringify(kind)}`);
    }
    if (!Number.isFinite(dim.min) || !Number.isFinite(dim.max)) {
      throw new Error(`${dim.kind} dimension ${dim.key} needs finite bounds, got [${dim.min}, ${dim.max}]`);
    }
    if (dim.min >= dim.max) {
      throw new Error(`${dim.kind} dimension ${dim.key} needs min < max, got [${dim.min}, ${dim.max}]`);
    }
    if (dim.kind === 'int' && (!Number.isSafeInteger(dim.min) || !Number.isSafeInteger(dim.max))) {
      throw new Error(`int dimension ${dim.key} needs integer bounds, got [${dim.min}, ${dim.max}]`);
    }
    if (dim.scale !== 'linear' && dim.scale !== 'log') {
      throw new Error(`${dim.kind} dimension ${dim.key} has unknown scale ${JSON.stringify(dim.scale)}`);
    }
    if (dim.scale === 'log' && dim.min <= 0) {
      throw new Error(`${dim.kind} dimension ${dim.key} is on a log scale, so min must be > 0, got ${dim.min}`);
    }
  }
}

function checkOptions(options: TpeOptions): { seed: number; startup: number; candidates: number } {
  const seed = options.seed;
  const startup = options.startup ?? TPE_DEFAULTS.startup;
  const candidates = options.candidates ?? TPE_DEFAULTS.candidates;
  if (!Number.isSafeInteger(seed)) throw new Error(`TPE seed must be an integer, got ${seed}`);
  if (!Number.isSafeInteger(startup) || startup < 0) {
    throw new Error(`TPE startup must be a non-negative integer, got ${startup}`);
  }
  if (!Number.isSafeInteger(candidates) || candidates < 1) {
    throw new Error(`TPE candidates must be a positive integer, got ${candidates}`);
  }
  return { seed, startup, candidates };
}

function checkObservations(space: readonly SearchDimension[], observations: readonly Observation[]): void {
  observations.forEach((obs, i) => {
    if (typeof obs.value !== 'number') throw new Error(`observation ${i} has a non-numeric value`);
    for (const dim of space) {
      const v = obs.params[dim.key];
      if (v === undefined) throw new Error(`observation ${i} has no parameter ${dim.key}`);
      if (dim.kind === 'categorical') {
        if (!dim.values.includes(v)) {
          throw new Error(`observation ${i}: ${dim.key} = ${JSON.stringify(v)} is not one of its categorical values`);
        }
        continue;
      }
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new Error(`observation ${i}: ${dim.key} = ${JSON.stringify(v)} is not a finite number`);
      }
      if (dim.kind === 'int' && !Number.isInteger(v)) {
        throw new Error(`observation ${i}: ${dim.key} = ${v} is not an integer`);
      }
      if (v < dim.min || v > dim.max) {
        throw new Error(`observation ${i}: ${dim.key} = ${v} is outside [${dim.min}, ${dim.max}]`);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Randomness

/**
 * One generator per suggestion, seeded by an injective map of (seed, index): negative seeds are zig-zag folded so
 * that PythonRandom's use of |seed| cannot merge two seeds, and the index takes the low 53 bits.
 */
function suggestionRandom(seed: number, index: number): PythonRandom {
  const s = BigInt(seed);
  const folded = s >= 0n ? 2n * s : -2n * s - 1n;
  return new PythonRandom((folded << 53n) | BigInt(index));
}

function uniformDraw(dim: SearchDimension, rng: PythonRandom): string | number {
  if (dim.kind === 'categorical') return dim.values[rng.randbelow(dim.values.length)]!;
  if (dim.kind === 'int' && dim.scale === 'linear') return rng.randint(dim.min, dim.max);
  const domain = numericDomain(dim);
  return domain.backward(rng.uniform(domain.low, domain.high));
}

function sampleIndex(probabilities: readonly number[], rng: PythonRandom): number {
  const u = rng.random();
  let cumulative = 0;
  for (let k = 0; k < probabilities.length; k++) {
    cumulative += probabilities[k]!;
    if (u < cumulative) return k;
  }
  return probabilities.length - 1;
}

// ---------------------------------------------------------------------------------------------------------------
// Ranking and weights

/** Indices best first; non-finite values rank last; equal values keep observation order. */
function rankByValue(observations: readonly Observation[]): number[] {
  const finite = observations.map((o) => Number.isFinite(o.value));
  return observations
    .map((_, i) => i)
    .sort((a, b) => {
      if (finite[a] !== finite[b]) return finite[a] ? -1 : 1;
      if (finite[a] && observations[a]!.value !== observations[b]!.value) {
        return observations[b]!.value - observations[a]!.value;
      }
      return a - b;
    });
}

/**
 * Optuna's default_weights for a group of m observations in observation order: all 1 below 25, else a linear ramp
 * from 1/m to 1 over the oldest m - 25 and 1 for the newest 25, so that early, exploratory observations fade.
 */
function groupWeights(m: number): number[] {
  if (m < FLAT_WEIGHT_COUNT) return new Array<number>(m).fill(1);
  const ramp = m - FLAT_WEIGHT_COUNT;
  const weights: number[] = [];
  for (let i = 0; i < ramp; i++) weights.push(ramp === 1 ? 1 / m : 1 / m + ((1 - 1 / m) * i) / (ramp - 1));
  for (let i = 0; i < FLAT_WEIGHT_COUNT; i++) weights.push(1);
  return weights;
}

// ---------------------------------------------------------------------------------------------------------------
// Categorical estimator

/**
 * Weighted category frequencies plus the prior: the uniform distribution with weight PRIOR_WEIGHT, i.e. every
 * category gets a pseudo-count of 1/k, so an unseen category keeps a non-zero probability in both l and g.
 */
function categoricalEstimator(
  values: readonly (string | number)[],
  group: readonly number[],
  weights: readonly number[],
  observations: readonly Observation[],
  key: string,
): number[] {
  const k = values.length;
  const mass = new Array<number>(k).fill(PRIOR_WEIGHT / k);
  let total = PRIOR_WEIGHT;
  group.forEach((obsIndex, j) => {
    const c = values.indexOf(observations[obsIndex]!.params[key]!);
    mass[c]! += weights[j]!;
    total += weights[j]!;
  });
  return mass.map((m) => m / total);
}

// ---------------------------------------------------------------------------------------------------------------
// Numeric estimator

/**
 * A numeric dimension in the space the estimator works in: log for log scale; ints widened by half a step on each
 * side so that the end values own a whole unit, as every inner value does.
 */
interface NumericDomain {
  low: number;
  high: number;
  /** an observed parameter value into the estimator's space */
  forward(v: number): number;
  /** a point of the estimator's space back to a parameter value within [min, max] (rounded for ints) */
  backward(x: number): number;
  /** log density (floats) or log probability mass (ints) of a parameter value under a mixture */
  logDensity(m: Mixture, v: number): number;
}

function numericDomain(dim: Extract<SearchDimension, { kind: 'float' | 'int' }>): NumericDomain {
  const log = dim.scale === 'log';
  const forward = log ? Math.log : (v: number) => v;
  const clamp = (v: number) => Math.min(dim.max, Math.max(dim.min, v));
  if (dim.kind === 'float') {
    return {
      low: forward(dim.min),
      high: forward(dim.max),
      forward,
      backward: (x) => clamp(log ? Math.exp(x) : x),
      // A log-scale density would carry a 1/v Jacobian, the same in l and g, so it cancels in the ratio.
      logDensity: (m, v) => mixtureLogPdf(m, forward(v)),
    };
  }
  const low = forward(dim.min - 0.5);
  const high = forward(dim.max + 0.5);
  return {
    low,
    high,
    forward,
    backward: (x) => clamp(Math.round(log ? Math.exp(x) : x)),
    // An int is the whole unit around it, so it scores by the mixture's mass there, not by a point density.
    logDensity: (m, v) => mixtureLogMass(m, Math.max(low, forward(v - 0.5)), Math.min(high, forward(v + 0.5))),
  };
}

/** A Gaussian mixture truncated to [low, high]; components in a canonical order. */
interface Mixture {
  low: number;
  high: number;
  weights: number[];
  mus: number[];
  sigmas: number[];
  /** log of each component's mass inside [low, high], the truncation's normaliser */
  logZ: number[];
}

/**
 * The Parzen estimator of Bergstra et al. §4.1 over points in [low, high], with the prior component (mean the
 * middle of the range, sigma the range's width, weight PRIOR_WEIGHT). Bandwidths: each component's sigma is the
 * larger distance to its sorted neighbours (the range's ends standing in for missing neighbours), except that the
 * first and last use only their inner neighbour (Optuna's consider_endpoints=False); then clipped to
 * [(high - low) / min(100, 1 + components), high - low] (the magic clip); the prior keeps sigma = high - low.
 */
function parzenEstimator(points: readonly number[], weights: readonly number[], low: number, high: number): Mixture {
  // Canonical order (by position, then weight) makes the mixture independent of how observations were ordered.
  const comps = points.map((mu, i) => ({ mu, weight: weights[i]!, prior: false }));
  comps.sort((a, b) => a.mu - b.mu || a.weight - b.weight);
  const priorMu = 0.5 * (low + high);
  let at = 0;
  while (at < comps.length && comps[at]!.mu <= priorMu) at++;
  comps.splice(at, 0, { mu: priorMu, weight: PRIOR_WEIGHT, prior: true });

  const n = comps.length;
  const width = high - low;
  const minSigma = width / Math.min(MAGIC_CLIP_COMPONENTS, 1 + n);
  const sigmas = comps.map((c, i) => {
    if (c.prior) return width;
    const left = c.mu - (i === 0 ? low : comps[i - 1]!.mu);
    const right = (i === n - 1 ? high : comps[i + 1]!.mu) - c.mu;
    let sigma = Math.max(left, right);
    if (n >= 2 && i === 0) sigma = right;
    else if (n >= 2 && i === n - 1) sigma = left;
    return Math.min(width, Math.max(minSigma, sigma));
  });
  const total = comps.reduce((s, c) => s + c.weight, 0);
  const mus = comps.map((c) => c.mu);
  return {
    low,
    high,
    weights: comps.map((c) => c.weight / total),
    mus,
    sigmas,
    logZ: mus.map((mu, i) => logNormalMass((low - mu) / sigmas[i]!, (high - mu) / sigmas[i]!)),
  };
}

function sampleMixture(m: Mixture, rng: PythonRandom): number {
  const k = sampleIndex(m.weights, rng);
  const mu = m.mus[k]!;
  const sigma = m.sigmas[k]!;
  // Every mean lies inside [low, high] and sigma <= high - low, so a draw lands inside with probability > 0.34.
  for (let tries = 0; tries < MAX_REJECTIONS; tries++) {
    const x = rng.gauss(mu, sigma);
    if (x >= m.low && x <= m.high) return x;
  }
  return mu;
}

function mixtureLogPdf(m: Mixture, x: number): number {
  return logSumExp(
    m.mus.map((mu, i) => {
      const sigma = m.sigmas[i]!;
      const z = (x - mu) / sigma;
      return Math.log(m.weights[i]!) - 0.5 * z * z - Math.log(sigma) - LOG_SQRT_2PI - m.logZ[i]!;
    }),
  );
}

function mixtureLogMass(m: Mixture, a: number, b: number): number {
  return logSumExp(
    m.mus.map((mu, i) => {
      const sigma = m.sigmas[i]!;
      return Math.log(m.weights[i]!) + logNormalMass((a - mu) / sigma, (b - mu) / sigma) - m.logZ[i]!;
    }),
  );
}

function logSumExp(terms: readonly number[]): number {
  const top = Math.max(...terms);
  if (!Number.isFinite(top)) return top;
  let sum = 0;
  for (const t of terms) sum += Math.exp(t - top);
  return top + Math.log(sum);
}

// ---------------------------------------------------------------------------------------------------------------
// The standard normal distribution, in logs so that far tails do not underflow

/** log(Φ(b) − Φ(a)) for a ≤ b, accurate in the tails, where differences of Φ itself would cancel to zero. */
function logNormalMass(a: number, b: number): number {
  if (!(b > a)) return Number.NEGATIVE_INFINITY;
  // A narrow interval: the midpoint rule is exact to O(width²), where the difference of logs would lose digits.
  if (b - a < 1e-5) {
    const mid = 0.5 * (a + b);
    return Math.log(b - a) - 0.5 * mid * mid - LOG_SQRT_2PI;
  }
  if (a >= 0) return logNormalMass(-b, -a);
  if (b <= 0) {
    const lb = logNormalCdf(b);
    return lb + Math.log1p(-Math.exp(logNormalCdf(a) - lb));
  }
  // Straddling 0: Φ(b) − Φ(a) = (erf(b/√2) + erf(−a/√2)) / 2, a sum of two positive terms.
  return LOG_HALF + Math.log(erf(b * SQRT_HALF) + erf(-a * SQRT_HALF));
}

function logNormalCdf(z: number): number {
  const y = -z * SQRT_HALF;
  if (y >= 0) return LOG_HALF + logErfc(y);
  return LOG_HALF + Math.log1p(erf(-y));
}

/** erf(x) for x ≥ 0. */
function erf(x: number): number {
  if (x < 3) return erfSeries(x);
  return 1 - Math.exp(logErfcContinuedFraction(x));
}

/** log erfc(x) for x ≥ 0. */
function logErfc(x: number): number {
  if (x < 3) return Math.log1p(-erfSeries(x));
  return logErfcContinuedFraction(x);
}

/**
 * erf(x) = 2/√π · e^(−x²) · Σ (2x²)^n x / (1·3·…·(2n+1)) (Abramowitz & Stegun 7.1.6): every term is positive, so
 * nothing cancels; used for x < 3, where it converges in under 60 terms.
 */
function erfSeries(x: number): number {
  const twoX2 = 2 * x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200 && term > sum * 1e-17; n++) {
    term *= twoX2 / (2 * n + 1);
    sum += term;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
}

/**
 * log erfc(x) for x ≥ 3 from the continued fraction erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …))))
 * (Abramowitz & Stegun 7.1.14), kept in logs so that e^(−x²) never underflows.
 */
function logErfcContinuedFraction(x: number): number {
  let f = x;
  for (let k = 80; k >= 1; k--) f = x + k / 2 / f;
  return -x * x - 0.5 * Math.log(Math.PI) - Math.log(f);
}
