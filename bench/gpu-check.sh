#!/usr/bin/env bash
# First thing to run on a GPU machine: does dpt-sweep's native TensorFlow GPU backend run there, and how fast?
#
#   bash bench/gpu-check.sh                 # GPU required: exit 1 with a one-line reason without one
#   bash bench/gpu-check.sh --allow-cpu     # no GPU is reported, not fatal; times the native CPU backend at batch 2
#   options: --backend NAME (default $DPT_BACKEND, else tensorflow-gpu; tensorflow with --allow-cpu and no GPU)
#            --batches 32,128 (default; 2 with --allow-cpu and no GPU)   --steps 3   --warmup 2
#
# Prints ONE JSON object on stdout: the GPU (nvidia-smi name, memory, driver; or why there is none), the backend that
# actually ran (TF.js backend name; GPU use is proven by libtensorflow's "Created device ... GPU:0" line or by GPU
# memory growing by 256 MiB or more during the run), img/s of a ViT-B/32-shaped DPT training step (bench/train.ts: 10 classes, best of --steps after --warmup steps
# at the same batch) at each batch, and peak GPU memory per batch (nvidia-smi sampled every 250 ms in the background,
# minus the reading before the run; libtensorflow is told to grow its pool as needed, TF_FORCE_GPU_ALLOW_GROWTH, or it
# would reserve nearly the whole GPU up front and the sample would say nothing; tfjs-node exposes no TF memory stats,
# so `tfPeakBytes`, TF.js's own tensor-byte peak, is given beside it). Exit status 0 when every batch ran on the GPU
# (or, with --allow-cpu, on the backend used); otherwise 1, with `gpu-check: FAIL: <reason>` on stderr. Bounded to
# under 5 minutes: each batch is killed at its own time limit (32: 100 s, others: 130 s).
#
# What the GPU machine needs (it may have no Node and reach no package registry; nothing here downloads anything):
#   - Linux x86_64, glibc >= 2.27 (libtensorflow comes from a manylinux_2_27 wheel), an NVIDIA driver new enough for
#     CUDA 12.9's libraries (R575 or later; older R525+ drivers rely on CUDA's minor-version compatibility), and
#     nvidia-smi on PATH (it ships with the driver).
#   - Node >= 20.19 (package.json's engines): where the machine has none, bring the official linux-x64 tarball
#     (node-v20.x-linux-x64.tar.xz), unpack it anywhere and pass NODE=/that/dir/bin/node or put its bin/ on PATH.
#   - This repository with its node_modules, installed on a machine with registry access by `DPT_TF_BUILD=gpu npm ci`
#     (or `npx dpt-sweep setup gpu`). tsx, @tensorflow/tfjs and the tokenizer fixture under test/fixtures/clip are
#     used from there.
#   - The GPU native build: node_modules/@tensorflow/tfjs-node-gpu/lib and deps are symlinks into the build cache,
#     ~/.cache/dpt-sweep/native-tf/gpu-tf2.21.0-tfjs4.22.0-napi8 (or $DPT_NATIVE_DIR/...): libtensorflow 2.21 (CUDA
#     build, ~1.3 GB) and the CUDA 12 wheels unpacked in deps/nvidia (~4.4 GB). Bring that folder to the same absolute
#     path, or copy the repository with the links resolved (`tar -chf dpt.tar dpt-sweep`, -h follows symlinks).
#   Not needed there: Python, PostgreSQL, Temporal, the CPU build (except for --allow-cpu on a machine without GPU).
set -uo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here" || exit 1
NODE="${NODE:-$(command -v node || true)}"

allow_cpu=0
backend="${DPT_BACKEND:-}"
batches=""
steps=3
warmup=2
while [ $# -gt 0 ]; do
  case "$1" in
    --allow-cpu) allow_cpu=1 ;;
    --backend) backend="$2"; shift ;;
    --batches) batches="$2"; shift ;;
    --steps) steps="$2"; shift ;;
    --warmup) warmup="$2"; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "gpu-check: FAIL: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

tmp="$(mktemp -d)"
sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# Without Node there is nothing to run and no way to print JSON properly; say so in one line and a minimal object.
if [ -z "$NODE" ] || ! "$NODE" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  reason="Node >= 20.19 not found (got: ${NODE:-none}${NODE:+ $("$NODE" --version 2>/dev/null)}); bring a Node 20 tarball and set NODE=/path/to/bin/node"
  printf '{"ok":false,"reason":"%s"}\n' "$reason"
  echo "gpu-check: FAIL: $reason" >&2
  exit 1
fi

# --- the GPU, as the driver sees it
gpu_available=0
if command -v nvidia-smi >/dev/null 2>&1; then
  if nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader >"$tmp/gpus.csv" 2>"$tmp/gpus.err" \
    && [ -s "$tmp/gpus.csv" ]; then
    gpu_available=1
  else
    echo "nvidia-smi failed: $(head -c 300 "$tmp/gpus.err" | tr '\n' ' ')" >"$tmp/gpu-reason"
  fi
else
  echo "nvidia-smi not found (no NVIDIA driver on this machine)" >"$tmp/gpu-reason"
fi

if [ "$gpu_available" = 0 ] && [ "$allow_cpu" = 0 ]; then
  "$NODE" -e '
    const fs = require("node:fs");
    const why = fs.readFileSync(process.argv[1], "utf8").trim();
    const reason = `no GPU: ${why}`;
    console.log(JSON.stringify({ ok: false, reason, gpu: { available: false, reason: why } }, null, 2));
    process.stderr.write(`gpu-check: FAIL: ${reason} (pass --allow-cpu to time the CPU backend instead)\n`);
    process.exit(1);' "$tmp/gpu-reason"
  exit 1
fi

if [ -z "$backend" ]; then
  if [ "$gpu_available" = 1 ]; then backend=tensorflow-gpu; else backend=tensorflow; fi
fi
if [ -z "$batches" ]; then
  if [ "$gpu_available" = 1 ]; then batches=32,128; else batches=2; fi
fi
if [ "$gpu_available" = 0 ]; then steps=1; warmup=1; fi # CPU: a ViT-B/32 step takes seconds; keep the check short

export TF_FORCE_GPU_ALLOW_GROWTH=true
export TF_CPP_MIN_LOG_LEVEL=0 # the device lines that show where TF placed its work are INFO logs

: >"$tmp/batches"
IFS=',' read -r -a batch_list <<<"$batches"
for b in "${batch_list[@]}"; do
  limit=130
  [ "$b" -le 32 ] && limit=100
  if [ "$gpu_available" = 1 ]; then
    # memory.used of every GPU before the run, then sampled during it (CUDA's device 0 need not be nvidia-smi's 0).
    nvidia-smi --query-gpu=index,memory.used --format=csv,noheader,nounits >"$tmp/mem-base-$b.csv" 2>/dev/null
    nvidia-smi --query-gpu=index,memory.used --format=csv,noheader,nounits -lms 250 >"$tmp/mem-$b.csv" 2>/dev/null &
    sampler=$!
  fi
  timeout -k 5 "$limit" "$NODE" --import tsx bench/train.ts --backends "$backend" --models vit --batch "$b" \
    --steps "$steps" --warmup "$warmup" --torch off --fallback none --child-timeout-s "$((limit - 10))" \
    >"$tmp/train-$b.json" 2>"$tmp/train-$b.err"
  echo "$b $?" >>"$tmp/batches"
  if [ -n "$sampler" ]; then
    kill "$sampler" 2>/dev/null
    wait "$sampler" 2>/dev/null
    sampler=""
  fi
  # A backend that cannot load will not load at the next batch either: stop early and keep inside the time budget.
  if grep -q 'failed to load\|is not installed\|is not registered' "$tmp/train-$b.json" 2>/dev/null; then break; fi
done

"$NODE" --input-type=module - "$tmp" "$gpu_available" "$allow_cpu" "$backend" <<'JS'
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, gpuFlag, allowFlag, backend] = process.argv.slice(2);
const read = (name) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : '');
const gpuAvailable = gpuFlag === '1';
const gpus = read('gpus.csv')
  .trim()
  .split('\n')
  .filter(Boolean)
  .map((line) => {
    const [index, name, memory, driver] = line.split(',').map((s) => s.trim());
    return { index: Number(index), name, memory_total: memory, driver };
  });
const gpu = gpuAvailable
  ? { available: true, devices: gpus }
  : { available: false, reason: read('gpu-reason').trim() };

/** Max over the samples of (memory.used − the reading before the run), per GPU, in MiB; the largest is reported. */
function peakMiB(batch) {
  const parse = (text) =>
    text
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(',').map((s) => Number(s.trim())));
  const base = new Map(parse(read(`mem-base-${batch}.csv`)).map(([i, used]) => [i, used]));
  let best;
  for (const [i, used] of parse(read(`mem-${batch}.csv`))) {
    if (!Number.isFinite(used)) continue;
    const delta = used - (base.get(i) ?? 0);
    if (!best || delta > best.peak_mib_above_idle) best = { gpu_index: i, peak_mib_above_idle: delta, peak_mib_used: used };
  }
  return best;
}

const runs = [];
const failures = [];
for (const line of read('batches').trim().split('\n').filter(Boolean)) {
  const [batch, status] = line.split(' ').map(Number);
  let report;
  try {
    report = JSON.parse(read(`train-${batch}.json`));
  } catch {
    report = undefined;
  }
  const row = report?.results?.find((r) => r.batch === batch) ?? report?.results?.[0];
  const stderrTail = read(`train-${batch}.err`).trim().split('\n').slice(-3).join(' | ').slice(0, 300);
  const deviceLog = row?.nativeDeviceLog ?? [];
  // Two independent signs of GPU use: libtensorflow's INFO line on creating the device, and GPU memory that grew
  // during the run (a CUDA context alone takes a few hundred MiB), in case a TF build logs differently.
  const memory = gpuAvailable ? peakMiB(batch) : undefined;
  const logSaysGpu = deviceLog.some((l) => /Created device .*GPU/i.test(l));
  const memorySaysGpu = (memory?.peak_mib_above_idle ?? 0) >= 256;
  const onGpu = logSaysGpu || memorySaysGpu;
  const run = {
    batch,
    status: row?.status ?? 'failed',
    images_per_second: row?.imagesPerSecond,
    seconds_per_step: row?.secondsPerStep,
    seconds_per_step_all: row?.secondsPerStepAll,
    warmup_seconds: row?.warmupSeconds,
    tf_backend: row?.tfBackend,
    ran_on_gpu: onGpu,
    gpu_evidence: { device_log: logSaysGpu, memory_grew_256mib: memorySaysGpu },
    gpu_memory: gpuAvailable ? (memory ?? 'no nvidia-smi samples') : 'no GPU',
    tf_js_peak_tensor_bytes: row?.tfPeakBytes,
    max_rss_bytes: row?.maxRssBytes,
    native_device_log: deviceLog,
  };
  if (status === 124 || status === 137) run.error = 'timed out (the check keeps to 5 minutes)';
  else if (!row) run.error = `bench/train.ts printed no result (exit ${status}): ${stderrTail}`;
  else if (row.status !== 'ok') run.error = row.error;
  runs.push(run);
  if (run.error && /failed to load|is not installed|is not registered/.test(run.error)) {
    failures.push(`${run.error.trim()} (build it: DPT_TF_BUILD=gpu npm ci, or npx dpt-sweep setup gpu)`);
  } else if (run.error) failures.push(`batch ${batch}: ${run.error}`);
  else if (gpuAvailable && !onGpu) {
    const why = deviceLog.find((l) => /cuda|gpu|dlopen/i.test(l)) ?? 'libtensorflow logged no GPU device';
    failures.push(`batch ${batch} ran, but not on the GPU (${why})`);
  }
}
if (runs.length === 0) failures.push('no batch was run');

const ok = failures.length === 0;
const out = {
  ok,
  ...(ok ? {} : { reason: failures[0] }),
  ...(gpuAvailable ? {} : { note: 'no GPU: timed the native CPU backend (--allow-cpu); this is not a GPU figure' }),
  gpu,
  backend_requested: backend,
  backend_used: runs.find((r) => r.tf_backend)?.tf_backend
    ? `${runs.find((r) => r.tf_backend).tf_backend}${runs.some((r) => r.ran_on_gpu) ? ' on GPU' : ' on CPU'}`
    : 'none (it failed to start)',
  model: 'ViT-B/32-shaped DPT training step (bench/train.ts), random weights, 10 classes',
  tf_memory_info: 'not exposed by tfjs-node (tf.memory() is marked unreliable there); GPU memory from nvidia-smi',
  runs,
};
console.log(JSON.stringify(out, null, 2));
if (!ok) {
  process.stderr.write(`gpu-check: FAIL: ${failures[0]}\n`);
  process.exit(1);
}
if (!gpuAvailable && allowFlag !== '1') process.exit(1);
JS
