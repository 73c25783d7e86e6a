/**
 * The native TensorFlow.js backend, made ready at `npm ci` (postinstall) and by `dpt-sweep setup cpu|gpu`.
 *
 * For each flavour asked for (DPT_TF_BUILD: `cpu`, the default; `gpu`, which adds the CUDA build; `none`) and each one
 * already in the cache: build it into the cache if it is not there (tools/native-tf/build.ts), link the installed
 * package's `lib/` and `deps/` to it, and check in a child process that it loads. Failures never fail `npm ci`: they
 * print one line with the cause and the fix, are kept for `dpt-sweep doctor` and the backend log, and dpt-sweep goes on
 * training on wasm/cpu.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  failureFile,
  NATIVE_FLAVOURS,
  NATIVE_PACKAGE,
  type NativeFlavour,
  type NativeManifest,
  nativeBuildDir,
  readManifest,
} from '../../dpt/native-tf.ts';
import { SOURCE_ROOT } from '../../source-root.ts';
import { buildNative, NativeBuildError } from './build.ts';
import { TF_VERSION } from './pins.ts';

// The checkout also when `dpt-sweep setup` runs this compiled from dist/.
const projectRoot = SOURCE_ROOT;

export interface InstallOutcome {
  flavour: NativeFlavour;
  ok: boolean;
  /** One line for the user. */
  line: string;
  manifest?: NativeManifest;
  reused?: boolean;
}

export interface InstallOptions {
  /** Flavours to build when missing; flavours already in the cache are linked whatever this says. */
  build: NativeFlavour[];
  /** Rebuild even when the cache holds the build. */
  force?: boolean;
  log?: (line: string) => void;
}

export function flavoursFromEnv(value: string | undefined): NativeFlavour[] | undefined {
  const v = (value ?? 'cpu').trim().toLowerCase();
  if (v === 'none' || v === '0' || v === 'off') return [];
  if (v === '' || v === 'cpu') return ['cpu'];
  if (v === 'gpu') return ['cpu', 'gpu'];
  return undefined;
}

export function installNative(opts: InstallOptions): InstallOutcome[] {
  const log = opts.log ?? ((line: string) => process.stderr.write(`dpt-sweep: ${line}\n`));
  const outcomes: InstallOutcome[] = [];
  for (const flavour of NATIVE_FLAVOURS) {
    const wanted = opts.build.includes(flavour);
    const outcome = installFlavour(flavour, wanted, opts.force === true && wanted, log);
    if (outcome) outcomes.push(outcome);
  }
  return outcomes;
}

function installFlavour(
  flavour: NativeFlavour,
  wanted: boolean,
  force: boolean,
  log: (line: string) => void,
): InstallOutcome | undefined {
  const pkgName = NATIVE_PACKAGE[flavour];
  const label = `native TensorFlow (${flavour})`;
  const fail = (err: unknown): InstallOutcome => {
    const reason = err instanceof Error ? err.message : String(err);
    const line = `${label} not available: ${reason}. Training uses wasm/cpu meanwhile.`;
    mkdirSync(dirname(failureFile(flavour)), { recursive: true });
    writeFileSync(failureFile(flavour), `${line}\n`);
    return { flavour, ok: false, line };
  };
  try {
    const packageDir = join(projectRoot, 'node_modules', ...pkgName.split('/'));
    if (!existsSync(join(packageDir, 'package.json'))) {
      if (!wanted) return undefined;
      throw new NativeBuildError(`${pkgName} is not installed`, 'run `npm ci` (it is an optional dependency)');
    }
    const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
      version: string;
      binary: { napi_versions: number[] };
    };
    const napiVersion = newestNapi(pkg.binary.napi_versions);
    const buildDir = nativeBuildDir(flavour, TF_VERSION, pkg.version, napiVersion);
    let manifest = force ? undefined : readManifest(buildDir);
    const reused = manifest !== undefined;
    if (!manifest) {
      if (!wanted) return undefined;
      log(`building ${label} into ${buildDir} (once per machine; later installs reuse it)`);
      manifest = buildNative({
        flavour,
        packageDir,
        tfjsNodeVersion: pkg.version,
        napiVersion,
        buildDir,
        log,
        replace: force,
      });
    }
    linkInto(packageDir, buildDir);
    checkLoads(pkgName, flavour);
    rmSync(failureFile(flavour), { force: true });
    const how = reused ? 'cached' : `built in ${manifest.buildSeconds} s`;
    const line = `${label} ready (${pkgName}, libtensorflow ${manifest.tensorflowVersion}, ${how}): ${buildDir}`;
    return { flavour, ok: true, line, manifest, reused };
  } catch (err) {
    return fail(err);
  }
}

/** The binding is built for one N-API version only: the newest the package supports that this Node offers. */
function newestNapi(supported: number[]): number {
  const node = Number(process.versions.napi);
  const usable = supported.filter((v) => v <= node);
  if (usable.length === 0)
    throw new NativeBuildError(`Node ${process.version} offers N-API ${node} only`, 'use Node 20.19 or newer');
  return Math.max(...usable);
}

/**
 * node-pre-gyp looks for the binding at `<package>/lib/napi-v<N>/`, and the binding finds libtensorflow at
 * `$ORIGIN/../../deps/lib`; Node resolves symlinks before loading an addon, so $ORIGIN is inside the cache.
 */
function linkInto(packageDir: string, buildDir: string): void {
  for (const name of ['lib', 'deps']) {
    const link = join(packageDir, name);
    if (isPresent(link)) {
      if (lstatSync(link).isSymbolicLink()) unlinkSync(link);
      else rmSync(link, { recursive: true, force: true });
    }
    symlinkSync(join(buildDir, name), link, 'dir');
  }
}

function isPresent(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Loading in a child keeps 1 GB of libraries out of the installing process and catches a broken build now. */
function checkLoads(pkgName: string, flavour: NativeFlavour): void {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(pkgName)})`], {
    cwd: projectRoot,
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  });
  if (r.status !== 0) {
    const detail = (r.stderr || r.stdout || '').split('\n').find((l) => /Error/.test(l)) ?? `exit ${r.status}`;
    throw new NativeBuildError(
      `the build does not load (${detail.trim().slice(0, 240)})`,
      `rebuild it with \`npx dpt-sweep setup ${flavour} --force\``,
    );
  }
}

function main(argv: string[]): number {
  const strict = argv.includes('--strict');
  const force = argv.includes('--force');
  const named = argv.filter((a) => !a.startsWith('--'));
  const build = named.length > 0 ? flavoursFromEnv(named[0]) : flavoursFromEnv(process.env.DPT_TF_BUILD);
  if (build === undefined) {
    process.stderr.write(`dpt-sweep: DPT_TF_BUILD=${process.env.DPT_TF_BUILD} is not one of cpu, gpu, none\n`);
    return strict ? 2 : 0;
  }
  const outcomes = installNative({ build, force });
  for (const o of outcomes) process.stderr.write(`dpt-sweep: ${o.line}\n`);
  return strict && outcomes.some((o) => !o.ok) ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(main(process.argv.slice(2)));
}
