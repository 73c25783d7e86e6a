/**
 * Zero-shot accuracy of any saved CLIP directory on the procedural downstream tasks (seed 0, quick-start defaults):
 *
 *   DPT_BACKEND=wasm npx tsx tools/synth-clip/zero-shot.ts --model examples/models/synth-clip [--json out.json]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../../dpt/backend.ts';
import { zeroShotReport } from './evaluate.ts';

const { values } = parseArgs({ options: { model: { type: 'string' }, json: { type: 'string' } } });
if (!values.model) {
  process.stderr.write('usage: zero-shot.ts --model <CLIP directory> [--json <file>]\n');
  process.exit(2);
}
await initBackend();
const root = await mkdtemp(join(tmpdir(), 'synth-clip-eval-'));
try {
  const report = await zeroShotReport(values.model, root);
  for (const t of report) {
    const alternatives = t.alternatives.map((x) => `"${x.template}" ${x.test.accuracy.toFixed(3)}`).join(', ');
    console.log(
      `${t.task}: "${t.template}" test ${t.test.accuracy.toFixed(3)} (${t.test.correct}/${t.test.n}), all ${t.all.accuracy.toFixed(3)}, chance ${t.chance.toFixed(3)}; other templates (test): ${alternatives}`,
    );
  }
  if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
} finally {
  await rm(root, { recursive: true, force: true });
}
