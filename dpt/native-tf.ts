/**
 * Where the native TensorFlow.js backends live once built (tools/native-tf/install.ts builds them at `npm ci`), and
 * what their build left behind: a manifest per flavour on success, a one-line reason on failure. Backend selection
 * and `dpt-sweep doctor` read these; nothing here loads TensorFlow.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export type NativeFlavour = 'cpu' | 'gpu';
export const NATIVE_FLAVOURS: readonly NativeFlavour[] = ['cpu', 'gpu'];

/** The npm package each flavour's binding is built into (they register the same 'tensorflow' TF.js backend). */
export const NATIVE_PACKAGE: Record<NativeFlavour, string> = {
  cpu: '@tensorflow/tfjs-node',
  gpu: '@tensorflow/tfjs-node-gpu',
};

/** What a finished build records about itself, written last so that its presence means the build is complete. */
export interface NativeManifest {
  flavour: NativeFlavour;
  tensorflowVersion: string;
  /** The wheel libtensorflow came from, and its sha256 as pinned. */
  wheel: string;
  wheelSha256: string;
  tfjsNodeVersion: string;
  napiVersion: number;
  /** CUDA wheels unpacked beside the libraries (gpu only). */
  cudaWheels: string[];
  builtAt: string;
  buildSeconds: number;
  /** Bytes on disk of the build folder. */
  bytes: number;
}

/** `$DPT_NATIVE_DIR`, else the user's cache: outside every clone, so that a second `npm ci` reuses it. */
export function nativeCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DPT_NATIVE_DIR) return resolve(env.DPT_NATIVE_DIR);
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'dpt-sweep', 'native-tf');
}

/** A build's folder name says everything that changes its bytes, so that a new pin never reuses an old build. */
export function nativeBuildDir(
  flavour: NativeFlavour,
  tensorflowVersion: string,
  tfjsNodeVersion: string,
  napiVersion: number,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return join(nativeCacheRoot(env), `${flavour}-tf${tensorflowVersion}-tfjs${tfjsNodeVersion}-napi${napiVersion}`);
}

export function readManifest(buildDir: string): NativeManifest | undefined {
  const file = join(buildDir, 'manifest.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as NativeManifest;
  } catch {
    return undefined;
  }
}

/** The file holding the one-line reason a flavour's last build failed (removed when a build succeeds). */
export function failureFile(flavour: NativeFlavour, env: NodeJS.ProcessEnv = process.env): string {
  return join(nativeCacheRoot(env), `${flavour}-last-failure.txt`);
}

export function lastFailure(flavour: NativeFlavour, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = failureFile(flavour, env);
  if (!existsSync(file)) return undefined;
  return readFileSync(file, 'utf8').trim() || undefined;
}

/**
 * The installed package's folder and whether its binding was built. Importing a tfjs-node package without its binding
 * registers ~170 kernels before failing, which then collide (noisily) with the other package's, so backend selection
 * asks this first.
 */
export function installedBinding(pkg: string): { packageDir?: string; binding?: string } {
  let packageDir: string;
  try {
    packageDir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    return {};
  }
  const libDir = join(packageDir, 'lib');
  if (!existsSync(libDir)) return { packageDir };
  const napi = readdirSync(libDir)
    .filter((d) => /^napi-v\d+$/.test(d) && existsSync(join(libDir, d, 'tfjs_binding.node')))
    .sort((a, b) => Number(b.slice(6)) - Number(a.slice(6)));
  return napi[0] ? { packageDir, binding: join(libDir, napi[0], 'tfjs_binding.node') } : { packageDir };
}
