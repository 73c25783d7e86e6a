import type { Command } from 'commander';
import { checkDataset, type DatasetReport } from '../../data/check.ts';
import { DATASET_NAMES, isDatasetName } from '../../data/datasets/index.ts';
import { UserError } from '../errors.ts';

/** `dpt-sweep data check <dataset> --root DIR`: counts against the published sizes, missing and undecodable images. */
export function register(program: Command): void {
  const data = program.command('data').description('Inspect the benchmark datasets in their CoOp layout');
  data
    .command('check')
    .description('report split counts, classes, missing and undecodable images; exit 1 when the dataset is incomplete')
    .argument('<dataset>', `one of: ${DATASET_NAMES.join(', ')}`)
    .requiredOption('--root <dir>', 'DATASET.ROOT, the folder holding the dataset folders (e.g. eurosat/)')
    .option('--show <n>', 'how many missing or undecodable image paths to list', '10')
    .option('--no-size-check', 'do not compare counts with the published sizes (custom or generated datasets)')
    .option('--json', 'print the report as JSON')
    .action(async (dataset: string, opts: { root: string; show: string; sizeCheck: boolean; json?: boolean }) => {
      if (!isDatasetName(dataset)) {
        throw new UserError(`unknown dataset "${dataset}"; known: ${DATASET_NAMES.join(', ')}`);
      }
      const show = Number(opts.show);
      if (!Number.isInteger(show) || show < 0)
        throw new UserError(`--show must be a non-negative integer, got ${opts.show}`);
      const report = await checkDataset(dataset, opts.root, { sizeCheck: opts.sizeCheck, showMissing: show });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      if (!report.complete) process.exitCode = 1;
    });
}

function formatReport(r: DatasetReport): string {
  const lines: string[] = [`dataset  ${r.dataset} (${r.officialName}) at ${r.datasetDir}`];
  for (const f of r.requiredFiles) lines.push(`file     ${f.present ? 'ok     ' : 'MISSING'} ${f.path}`);
  if (r.readError) lines.push(`error    ${r.readError}`);
  if (r.splits && r.classes) {
    lines.push(`${'count'.padEnd(9)}${'found'.padStart(9)}${'expected'.padStart(10)}`);
    const row = (what: string, c: { count: number; expected: number | null; matches: boolean }) =>
      `${what.padEnd(9)}${String(c.count).padStart(9)}${String(c.expected ?? '-').padStart(10)}${c.matches ? '' : '  differs'}`;
    lines.push(
      row('train', r.splits.train),
      row('val', r.splits.val),
      row('test', r.splits.test),
      row('classes', r.classes),
    );
  }
  if (r.missingImages.checked) {
    lines.push(
      `images   ${r.missingImages.total === 0 ? 'all listed images present' : `${r.missingImages.total} missing:`}`,
    );
    for (const p of r.missingImages.first) lines.push(`  ${p}`);
    const more = r.missingImages.total - r.missingImages.first.length;
    if (more > 0) lines.push(`  ... and ${more} more`);
  } else if (r.splits) {
    lines.push('images   listed from the class folders (compare the counts)');
  }
  if (r.splits) {
    const u = r.unreadableImages;
    lines.push(
      `decoded  ${u.total === 0 ? `all ${u.checked} images decode` : `${u.total} of ${u.checked} cannot be decoded:`}`,
    );
    for (const f of u.first) lines.push(`  ${f.error}`);
    const more = u.total - u.first.length;
    if (more > 0) lines.push(`  ... and ${more} more`);
  }
  if (!r.sizeCheck) lines.push('sizes    not compared (--no-size-check)');
  lines.push(r.complete ? 'result   complete' : `result   INCOMPLETE: ${r.problems.join('; ')}`);
  return `${lines.join('\n')}\n`;
}
