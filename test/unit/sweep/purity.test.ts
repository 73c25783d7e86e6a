import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The sweep planner and what it reads of the trainer (the method registry, the trainability rules) are pure: no Node
 * built-ins, so they run anywhere, and no TF.js at run time, so `validate` and `launch` start fast (a method module
 * imports TF.js types only; dpt/methods/method.ts says why).
 */
const PURE = [
  'sweep/schema.ts',
  'sweep/plan.ts',
  'sweep/validate.ts',
  'sweep/expand.ts',
  'sweep/warnings.ts',
  'sweep/canonical.ts',
  'sweep/factors.ts',
  'sweep/summary.ts',
  'sweep/estimate.ts',
  'sweep/search/halving.ts',
  'sweep/search/tpe.ts',
  'sweep/search/importance.ts',
  'sweep/search/objective.ts',
  'sweep/search/space.ts',
  'sweep/search/rules.ts',
  'sweep/search/suggestion.ts',
  'sweep/search/describe.ts',
  'dpt/trainable.ts',
  'dpt/methods/registry.ts',
];
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** The modules a file loads at run time: `import type` and `export type` are erased. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(import|export)\s(type\s)?[^;]*?from\s+'([^']+)'/gms)]
    .filter((m) => m[2] === undefined)
    .map((m) => m[3]!);
}

function closure(entry: string): { files: string[]; builtins: string[]; tfjs: string[] } {
  const files = new Set<string>();
  const builtins: string[] = [];
  const tfjs: string[] = [];
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) visit(relative('.', join(dirname(file), spec)));
      else if (BUILTINS.has(spec)) builtins.push(`${file} imports ${spec}`);
      else if (spec.startsWith('@tensorflow/')) tfjs.push(`${file} imports ${spec}`);
    }
  };
  visit(entry);
  return { files: [...files], builtins, tfjs };
}

describe('the pure sweep planner', () => {
  it.each(PURE)('%s reaches no Node built-in and no TF.js', (entry) => {
    const { files, builtins, tfjs } = closure(entry);
    expect(files.length).toBeGreaterThan(0);
    expect(builtins).toEqual([]);
    expect(tfjs).toEqual([]);
  });

  it('sees what the trainer loads: the method model imports TF.js', () => {
    expect(closure('dpt/methods/model.ts').tfjs).toContain('dpt/methods/model.ts imports @tensorflow/tfjs');
  });

  it('identity.ts is where node:crypto lives', () => {
    expect(closure('sweep/identity.ts').builtins).toEqual(['sweep/identity.ts imports node:crypto']);
  });
});
