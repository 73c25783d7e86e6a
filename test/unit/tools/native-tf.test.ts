import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failureFile, lastFailure, nativeBuildDir, nativeCacheRoot } from '../../../dpt/native-tf.ts';
import { flavoursFromEnv, installNative } from '../../../tools/native-tf/install.ts';
import { CPU_WHEEL, CUDA_WHEELS, GPU_WHEEL } from '../../../tools/native-tf/pins.ts';

describe('native TensorFlow install', () => {
  it('reads DPT_TF_BUILD: cpu by default, gpu adds the CUDA build, none skips', () => {
    expect(flavoursFromEnv(undefined)).toEqual(['cpu']);
    expect(flavoursFromEnv('gpu')).toEqual(['cpu', 'gpu']);
    expect(flavoursFromEnv('none')).toEqual([]);
    expect(flavoursFromEnv('tpu')).toBeUndefined();
  });

  it('pins every wheel by file and sha256', () => {
    for (const w of [CPU_WHEEL, GPU_WHEEL, ...CUDA_WHEELS]) {
      expect(w.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(w.file.startsWith(w.requirement.split('==')[0]!.replace(/-/g, '_'))).toBe(true);
      expect(w.file).toContain(w.requirement.split('==')[1]!);
    }
  });

  it('keeps builds outside the clone, named by everything that changes their bytes', () => {
    expect(nativeCacheRoot({ HOME: '/home/u', XDG_CACHE_HOME: '/c' })).toBe('/c/dpt-sweep/native-tf');
    expect(nativeBuildDir('gpu', '2.21.0', '4.22.0', 8, { DPT_NATIVE_DIR: '/n' })).toBe(
      '/n/gpu-tf2.21.0-tfjs4.22.0-napi8',
    );
  });

  describe('when the build cannot run', () => {
    let cache: string;
    const saved = { ...process.env };
    beforeEach(() => {
      cache = mkdtempSync(join(tmpdir(), 'dpt-native-'));
      process.env.DPT_NATIVE_DIR = cache;
      process.env.PYTHON = join(cache, 'no-python-here');
    });
    afterEach(() => {
      process.env = { ...saved };
      rmSync(cache, { recursive: true, force: true });
    });

    it('reports one line with the cause and the fix, keeps it for later, and leaves the install as it was', () => {
      const pkgLib = join(import.meta.dirname, '../../../node_modules/@tensorflow/tfjs-node/lib');
      const linkedBefore = existsSync(pkgLib) ? lstatSync(pkgLib).isSymbolicLink() : undefined;
      const logged: string[] = [];
      const [outcome] = installNative({ build: ['cpu'], log: (l) => logged.push(l) });
      expect(outcome).toMatchObject({ flavour: 'cpu', ok: false });
      expect(outcome!.line).not.toContain('\n');
      expect(outcome!.line).toMatch(/no-python-here is not installed; fix: install Python 3 with pip/);
      expect(outcome!.line).toMatch(/Training uses wasm\/cpu meanwhile\.$/);
      expect(readFileSync(failureFile('cpu'), 'utf8').trim()).toBe(outcome!.line);
      expect(lastFailure('cpu')).toBe(outcome!.line);
      expect(existsSync(pkgLib) ? lstatSync(pkgLib).isSymbolicLink() : undefined).toBe(linkedBefore);
    });
  });
});
