import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AXES, type AxisKey } from '../../../sweep/axes.ts';
import { FACTOR_DEFS, factorNamed } from '../../../sweep/factors.ts';

const PRISMA_TYPES = { text: 'String', int: 'Int', float8: 'Float' } as const;

/** `name Type?` lines of one model of prisma/schema.prisma. */
function modelFields(model: string): Map<string, string> {
  const schema = fs.readFileSync('prisma/schema.prisma', 'utf8');
  const body = schema.match(new RegExp(`model ${model} \\{\\n([\\s\\S]*?)\\n\\}`))?.[1] ?? '';
  const fields = new Map<string, string>();
  for (const line of body.split('\n')) {
    const match = line.match(/^\s+(\w+)\s+(\w+\??)/);
    if (match && !line.trim().startsWith('//')) fields.set(match[1] as string, match[2] as string);
  }
  return fields;
}

describe('the one factor list (sweep/factors.ts)', () => {
  it('has a column for every sweep axis, and the axes for every column but the sweep-level five', () => {
    for (const key of Object.keys(AXES) as AxisKey[]) expect(factorNamed(key), key).toBe(AXES[key].column);
    const fromAxes = FACTOR_DEFS.filter((def) => def.axis !== null).map((def) => def.axis);
    expect(fromAxes.sort()).toEqual(Object.keys(AXES).sort());
    expect(FACTOR_DEFS.filter((def) => def.axis === null).map((def) => def.name)).toEqual([
      'dataset',
      'backbone',
      'shots',
      'subsampleClasses',
    ]);
  });

  it('is what prisma/schema.prisma stores: one Trial column per factor, typed, null only where a method may not read it', () => {
    const fields = modelFields('Trial');
    for (const def of FACTOR_DEFS) {
      expect(fields.get(def.name), `Trial.${def.name}`).toBe(`${PRISMA_TYPES[def.type]}${def.nullable ? '?' : ''}`);
    }
  });
});
