import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareQuickstartSweep } from '../../../cli/quickstart/sweep-file.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'dpt-qs-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const options = { syntheticRoot: '/generated', repoRoot: '/repo' };

describe('the quick start with another protocol (cli/quickstart/sweep-file.ts)', () => {
  it('writes the generated tasks a transfer protocol evaluates on, besides its source', async () => {
    const file = path.join(dir, 'xd.yaml');
    writeFileSync(
      file,
      [
        'name: xd',
        'protocol: { name: cross-dataset, targets: [synth_colour, synth_target_colour] }',
        'base: { model: examples/models/synth-clip, dataRoot: ./data }',
        'datasets: [synth_shape]',
      ].join('\n'),
    );
    const prepared = await prepareQuickstartSweep(file, options);
    expect(prepared.synthetic).toEqual(['synth_shape', 'synth_colour', 'synth_target_colour']);
    expect(prepared.sweep.base.dataRoot).toBe('/generated');
  });

  it('refuses a source among the generated tasks with a real target, and reads a sweep without datasets', async () => {
    const mixed = path.join(dir, 'mixed.yaml');
    writeFileSync(
      mixed,
      'name: m\nprotocol: { name: cross-dataset, targets: [dtd] }\nbase: { model: m, dataRoot: d }\ndatasets: [synth_shape]\n',
    );
    await expect(prepareQuickstartSweep(mixed, options)).rejects.toThrow(/mixes the generated tasks \(synth_shape\)/);
    const imagenet = path.join(dir, 'dg.yaml');
    writeFileSync(imagenet, 'name: dg\nprotocol: domain-generalization\nbase: { model: m, dataRoot: d }\n');
    const prepared = await prepareQuickstartSweep(imagenet, options);
    expect(prepared.synthetic).toEqual([]);
    expect(prepared.sweep.base.dataRoot).toBe('/repo/d');
  });
});
