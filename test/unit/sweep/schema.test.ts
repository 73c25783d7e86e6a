import { describe, expect, it } from 'vitest';
import { SweepFileError, type SweepIssue } from '../../../sweep/issues.ts';
import { parseSweepObject, parseSweepText } from '../../../sweep/schema.ts';
import { sweepYaml } from './helpers.ts';

function issues(text: string): SweepIssue[] {
  try {
    parseSweepText(text, 't');
  } catch (err) {
    if (err instanceof SweepFileError) return err.issues;
    throw err;
  }
  return [];
}

describe('sweep file schema', () => {
  it('fills defaults: paper preset, 4 parallel trials on queue gpu, reuse on', () => {
    const file = parseSweepText(sweepYaml({}));
    expect(file.base.preset).toBe('paper');
    expect(file.resources).toEqual({ maxParallel: 4, taskQueue: 'gpu' });
    expect(file.reuse).toBe(true);
  });

  it('accepts nested and dotted spellings of the same settings', () => {
    const nested = parseSweepText(
      sweepYaml({ base: '  method: dpt\n  cavpt: { mode: shared, layers: 3 }\n  vpt: { length: 4 }' }),
    );
    const dotted = parseSweepText(
      sweepYaml({ base: '  method: dpt\n  cavpt.mode: shared\n  cavpt.layers: 3\n  vpt.length: 4' }),
    );
    expect(nested).toEqual(dotted);
  });

  it('reports every problem at once, each with its path, expectation, found value and line', () => {
    const found = issues(
      [
        'name: ok',
        'base: { method: dpt, model: m, dataRoot: d, lr: 0 }',
        'datasets: [eurosat, mnist]',
        'shots: [1, -2]',
        'seeds: [1]',
        'vary:',
        '  mode: ablation',
        '  cavpt.length: [0, 5, ten]',
        'colour: blue',
      ].join('\n'),
    );
    expect(found).toEqual([
      { path: 'base.lr', message: 'expected a number > 0 and <= 10, got 0', line: 2, column: 45 },
      expect.objectContaining({ path: 'datasets[1]', line: 3, column: 21 }),
      { path: 'shots[1]', message: 'expected an integer >= 1, got -2', line: 4, column: 12 },
      { path: 'vary.cavpt.length[2]', message: 'expected an integer >= 0 and <= 1000, got "ten"', line: 8, column: 24 },
      expect.objectContaining({ path: 'colour', line: 9, column: 1 }),
    ]);
    expect(found[1]!.message).toMatch(
      /^expected a dataset \(imagenet, .*\) or a group \(paper-11, domain-shift\), got "mnist"$/,
    );
    expect(found[4]!.message).toMatch(/^unknown key; expected one of name, description, base/);
  });

  it('points YAML syntax errors at their line and column', () => {
    const found = issues('name: x\nshots: [1, 2\nseeds: [1]\n');
    expect(found[0]).toMatchObject({ path: '(yaml)', line: expect.any(Number), column: expect.any(Number) });
    expect(found[0]!.message).toMatch(/^YAML syntax: /);
  });

  it('takes resources.heartbeatTimeout as a duration between 1s and 24h', () => {
    const file = parseSweepText(`${sweepYaml({})}\nresources: { heartbeatTimeout: 2m }\n`);
    expect(file.resources).toEqual({ maxParallel: 4, taskQueue: 'gpu', heartbeatTimeout: '2m' });
    expect(parseSweepText(`${sweepYaml({})}\nresources: { heartbeatTimeout: 90 seconds }\n`).resources).toMatchObject({
      heartbeatTimeout: '90 seconds',
    });
    expect(issues(`${sweepYaml({})}\nresources: { heartbeatTimeout: soon }\n`)).toEqual([
      expect.objectContaining({
        path: 'resources.heartbeatTimeout',
        message: expect.stringContaining('expected a duration such as "2m"'),
      }),
    ]);
    expect(issues(`${sweepYaml({})}\nresources: { heartbeatTimeout: 500ms }\n`)[0]!.message).toContain(
      'between 1s and 24h',
    );
  });

  it('validates objects that did not come from YAML', () => {
    expect(() => parseSweepObject({ name: 'x' })).toThrow(SweepFileError);
    const file = parseSweepObject({
      name: 'x',
      base: { method: 'coop', model: 'm', dataRoot: 'd' },
      datasets: ['dtd'],
      shots: [1],
      seeds: [1],
    });
    expect(file.base.method).toBe('coop');
  });

  it('SweepFileError carries the list and a one-line message', () => {
    try {
      parseSweepText('name: [x]', 'f.yaml');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(SweepFileError);
      const e = err as SweepFileError;
      expect(e.issues.length).toBeGreaterThan(1);
      expect(e.message).toMatch(/^f\.yaml: \d+ problems: name: expected a name/);
      expect(e.message).not.toContain('\n');
    }
  });
});
