import type { Command } from 'commander';
import { type DoctorReport, gatherDoctorReport } from '../doctor/report.ts';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('Which TF.js backends load and which is chosen, libtensorflow, GPUs, Temporal and the database')
    .option('--json', 'print the report as one JSON object')
    .action(async (options: { json?: boolean }) => {
      const report = await gatherDoctorReport();
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
    });
}

function render(r: DoctorReport): string {
  const out: string[] = [];
  const how = r.backendOverride ? `DPT_BACKEND=${r.backendOverride}` : 'DPT_BACKEND unset: the first that loads';
  out.push(`TF.js backends (${how})`);
  for (const b of r.backends) {
    const detail = b.ok ? `loads${b.noGpuReason ? `, but ${b.noGpuReason}: runs on the CPU` : ''}` : b.reason;
    out.push(`  ${b.backend.padEnd(15)} ${b.ok ? 'yes' : 'no '}  ${detail ?? ''}`);
  }
  out.push(
    r.chosen.ok ? `  chosen: ${r.chosen.name}` : `  chosen: none (${r.chosen.reason}); every trial would fail to start`,
  );
  out.push('', `Native TensorFlow (cache: ${r.nativeCache})`);
  for (const n of r.native) {
    if (n.manifest) {
      const m = n.manifest;
      out.push(
        `  ${n.flavour.padEnd(4)} libtensorflow ${m.tensorflowVersion} from ${m.wheel} (sha256 ${m.wheelSha256.slice(0, 12)}…), N-API ${m.napiVersion}, ${(m.bytes / 1e9).toFixed(2)} GB`,
        `       ${n.buildDir}`,
      );
    } else if (n.buildDir) {
      out.push(`  ${n.flavour.padEnd(4)} linked to ${n.buildDir} (no manifest: not built by dpt-sweep)`);
    } else {
      const setup = n.flavour === 'gpu' ? 'npx dpt-sweep setup gpu' : 'npx dpt-sweep setup cpu';
      out.push(`  ${n.flavour.padEnd(4)} not built${n.lastFailure ? `: ${n.lastFailure}` : ` (${setup})`}`);
    }
  }
  out.push('', 'GPUs');
  if (r.gpu.devices.length > 0) for (const d of r.gpu.devices) out.push(`  ${d}`);
  else out.push(`  none visible${r.gpu.reason ? `: ${r.gpu.reason}` : ''}`);
  if (r.gpu.cudaVisibleDevices !== undefined) out.push(`  CUDA_VISIBLE_DEVICES=${r.gpu.cudaVisibleDevices}`);
  out.push(`  NVIDIA driver library: ${r.gpu.driverLibrary ?? 'libcuda.so.1 not found by ldconfig'}`);
  out.push(
    `  CUDA 12 libraries: ${r.gpu.cudaLibraries.length > 0 ? r.gpu.cudaLibraries.join(', ') : 'none (the GPU build brings them)'}`,
  );
  out.push('', 'Temporal');
  out.push(
    `  ${r.temporal.plan}${r.temporal.cliVersion ? ` (${r.temporal.cliVersion})` : ''}, namespace ${r.temporal.namespace}`,
  );
  out.push('', 'Database');
  out.push(`  ${r.database.plan}${r.database.url ? `: ${r.database.url}` : ''}`);
  return `${out.join('\n')}\n`;
}
