import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Temporal workflow code may import these; they and everything they import must stay free of Node built-ins. */
const WORKFLOW_SAFE = [
  'sweep/schema.ts',
  'sweep/plan.ts',
  'sweep/validate.ts',
  'sweep/expand.ts',
  'sweep/warnings.ts',
  'sweep/canonical.ts',
  'sweep/factors.ts',
  'sweep/summary.ts',
  'sweep/estimate.ts',
  'dpt/trainable.ts',
];
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]!);
}

function closure(entry: string): { files: string[]; builtins: string[] } {
  const files = new Set<string>();
  const builtins: string[] = [];
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) visit(relative('.', join(dirname(file), spec)));
      else if (BUILTINS.has(spec)) builtins.push(`${file} imports ${spec}`);
    }
  };
  visit(entry);
  return { files: [...files], builtins };
}

describe('workflow-safe sweep modules', () => {
  it.each(WORKFLOW_SAFE)('%s reaches no Node built-in', (entry) => {
    const { files, builtins } = closure(entry);
    expect(files.length).toBeGreaterThan(0);
    expect(builtins).toEqual([]);
  });

  it('identity.ts is where node:crypto lives', () => {
    expect(closure('sweep/identity.ts').builtins).toEqual(['sweep/identity.ts imports node:crypto']);
  });
});
