import * as tf from '@tensorflow/tfjs';

/**
 * Parameter initialisers drawing from the trial's ONE seeded generator (data/python-random.ts PythonRandom), so a
 * trial is reproducible from its seed alone. Values are drawn in row-major order of the tensor as stored here.
 */
export interface RandomSource {
  gauss(mu: number, sigma: number): number;
  uniform(a: number, b: number): number;
}

export function normalInit(rng: RandomSource, shape: number[], std: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.gauss(0, std);
  return tf.tensor(values, shape, 'float32');
}

function uniformInit(rng: RandomSource, shape: number[], bound: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.uniform(-bound, bound);
  return tf.tensor(values, shape, 'float32');
}

/**
 * torch.nn.Linear's default init: kaiming_uniform(a=√5) gives U(±1/√fan_in) for the weight, and the bias is
 * U(±1/√fan_in) too. The weight is returned as [in, out] (transposed from PyTorch's [out, in]) for `x @ W`.
 */
export function linearInit(
  rng: RandomSource,
  inDim: number,
  outDim: number,
  withBias: boolean,
): { weight: tf.Tensor2D; bias?: tf.Tensor1D } {
  const bound = inDim > 0 ? 1 / Math.sqrt(inDim) : 0;
  const weight = uniformInit(rng, [inDim, outDim], bound) as tf.Tensor2D;
  if (!withBias) return { weight };
  return { weight, bias: uniformInit(rng, [outDim], bound) as tf.Tensor1D };
}
