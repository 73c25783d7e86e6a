import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, maxAbsDiff, readReference } from '../../support/clip-fixtures.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const work = mkdtempSync(join(tmpdir(), 'clip-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function embed(args: string[]) {
  const run = spawnSync(process.execPath, [join(ROOT, 'bin/dpt-sweep.js'), 'embed', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, DPT_BACKEND: 'cpu' },
  });
  // The backend choice is logged once to stderr; everything else there is the error.
  const errors = run.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('dpt-sweep: TF.js backend'));
  return { status: run.status, stdout: run.stdout, errors };
}

function expectOneError(result: ReturnType<typeof embed>, pattern: RegExp) {
  expect(result.status).not.toBe(0);
  expect(result.stdout).toBe('');
  expect(result.errors).toHaveLength(1);
  expect(result.errors[0]).toMatch(pattern);
}

describe('dpt-sweep embed', () => {
  it('prints the reference features as JSON', () => {
    const ref = readReference('tiny-b');
    const out = embed([
      '--model',
      join(FIXTURES, 'tiny-b-openai'),
      ...ref.images.flatMap((f) => ['--image', join(FIXTURES, f)]),
      ...ref.texts.slice(0, 2).flatMap((t) => ['--text', t]),
      '--json',
    ]);
    expect(out.errors).toEqual([]);
    expect(out.status).toBe(0);
    const json = JSON.parse(out.stdout) as { image_embeds: number[][]; text_embeds: number[][]; logit_scale: number };
    const fp32 = ref.variants.fp32;
    expect(maxAbsDiff(json.image_embeds, fp32?.image_embeds ?? [])).toBeLessThan(1e-4);
    expect(maxAbsDiff(json.text_embeds, fp32?.text_embeds.slice(0, 2) ?? [])).toBeLessThan(1e-4);
    expect(json.logit_scale).toBeCloseTo(fp32?.logit_scale ?? 0, 4);
  });

  it('non-image file → one error line naming the file', () => {
    const bogus = join(work, 'not-an-image.png');
    writeFileSync(bogus, 'hello, I am text');
    expectOneError(
      embed(['--model', join(FIXTURES, 'tiny-a-hf'), '--image', bogus, '--json']),
      /not-an-image\.png is not a readable image/,
    );
  });

  it('truncated safetensors → one error line', () => {
    const dir = join(work, 'truncated');
    cpSync(join(FIXTURES, 'tiny-a-hf'), dir, { recursive: true });
    truncateSync(join(dir, 'model.safetensors'), 100_000);
    expectOneError(embed(['--model', dir, '--text', 'a cat', '--json']), /model\.safetensors is truncated/);
  });

  it('config not matching the tensors → one error line with both shapes', () => {
    const dir = join(work, 'mismatch');
    cpSync(join(FIXTURES, 'tiny-a-hf'), dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    config.projection_dim = 20;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    expectOneError(
      embed(['--model', dir, '--text', 'a cat', '--json']),
      /tensor (text_projection|visual_projection)\.weight has shape \[24, 32\] but .*implies \[20, 32\]/,
    );
  });

  it('empty text → one error line', () => {
    expectOneError(
      embed(['--model', join(FIXTURES, 'tiny-a-hf'), '--text', '  ', '--json']),
      /--text number 1 is empty/,
    );
  });
});
