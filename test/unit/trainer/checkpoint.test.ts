import { describe, expect, it } from 'vitest';
import { PythonRandom } from '../../../data/python-random.ts';
import { configFingerprint, decodeCheckpoint, encodeCheckpoint } from '../../../dpt/trainer/checkpoint.ts';
import { parseTrialConfig } from '../../../dpt/trial-config.ts';

describe('checkpoint bytes', () => {
  it('round-trips tensors bit-exactly, with generator state and history', () => {
    const rng = new PythonRandom(5);
    rng.gauss(0, 1);
    const odd = new Float32Array([Math.PI, -0, 1e-38, 3.4e38, Number.NaN, 1 / 3]);
    const data = {
      configFingerprint: 'abc',
      epochsDone: 3,
      rngState: rng.getState(),
      optimizerSteps: 12,
      params: [
        { key: 'text.ctx', shape: [2, 3], values: odd },
        { key: 'vpt.ctx', shape: [1], values: new Float32Array([7]) },
      ],
      momentum: [{ key: 'text.ctx', shape: [2, 3], values: odd.map((v) => v * 2) }],
      history: [
        { epoch: 0, loss: 1, lossMain: 1, lossCavpt: 0, lrText: 1e-5, lrVisual: 1e-5, trainAcc: 50, seconds: 0.1 },
      ],
    };
    const bytes = encodeCheckpoint(data);
    const back = decodeCheckpoint(new Uint8Array(bytes));
    expect(Buffer.from(back.params[0]!.values.buffer).equals(Buffer.from(odd.buffer))).toBe(true);
    expect(back.params[1]!.values[0]).toBe(7);
    expect(back.momentum[0]!.values[0]).toBe(odd[0]! * 2);
    expect(back.rngState).toEqual(rng.getState());
    expect(back.history).toEqual(data.history);
    expect(back.epochsDone).toBe(3);
    expect(encodeCheckpoint(back).equals(bytes)).toBe(true);
  });

  it('rejects foreign or truncated bytes', () => {
    expect(() => decodeCheckpoint(Buffer.from('hello world, not a checkpoint'))).toThrow(/bad magic/);
    const bytes = encodeCheckpoint({
      configFingerprint: 'x',
      epochsDone: 1,
      rngState: new PythonRandom(1).getState(),
      optimizerSteps: 1,
      params: [{ key: 'a', shape: [4], values: new Float32Array(4) }],
      momentum: [],
      history: [],
    });
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4))).toThrow(/truncated/);
  });

  it('fingerprints what decides training, not where files live', () => {
    const a = parseTrialConfig({ method: 'dpt', dataset: 'eurosat', root: '/a', shots: 1, seed: 1, model: '/m' });
    const b = parseTrialConfig({ method: 'dpt', dataset: 'eurosat', root: '/b', shots: 1, seed: 1, model: '/n' });
    const c = parseTrialConfig({ method: 'dpt', dataset: 'eurosat', root: '/a', shots: 1, seed: 2, model: '/m' });
    expect(configFingerprint(a)).toBe(configFingerprint(b));
    expect(configFingerprint(a)).not.toBe(configFingerprint(c));
  });
});
