import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SweepFileError, type SweepIssue } from '../../../sweep/issues.ts';
import { planSweepText } from '../../../sweep/plan.ts';

const BAD_DIR = 'test/fixtures/sweeps/bad';
const badFiles = readdirSync(BAD_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** Each fixture's first line names the key path its problem must be reported at: `# expect: vary.lr[0]`. */
function expectedPath(text: string): string {
  const match = /^# expect: (.+)$/m.exec(text);
  if (!match) throw new Error('fixture without an "# expect:" line');
  return match[1]!.trim();
}

function issuesOf(text: string, file: string): SweepIssue[] {
  try {
    planSweepText(text, file);
  } catch (err) {
    if (err instanceof SweepFileError) return err.issues;
    throw err;
  }
  throw new Error(`${file} was accepted`);
}

describe('malformed sweep files', () => {
  it('there are at least 50 of them', () => {
    expect(badFiles.length).toBeGreaterThanOrEqual(50);
  });

  it.each(badFiles)('%s is rejected at its key path with what was expected', (name) => {
    const file = join(BAD_DIR, name);
    const text = readFileSync(file, 'utf8');
    const path = expectedPath(text);
    const issues = issuesOf(text, file);
    const atPath = issues.filter((issue) => issue.path === path);
    expect(atPath, `issues: ${JSON.stringify(issues)}`).not.toHaveLength(0);
    for (const issue of atPath) {
      if (path === '(yaml)') {
        expect(issue.message).toMatch(/^YAML syntax: \S/);
        expect(issue.line).toBeGreaterThan(1);
      } else {
        expect(issue.message).toMatch(/expected \S/);
      }
    }
  });

  it('refuses a 10^7-trial grid by counting, without materialising it', () => {
    const text = readFileSync(join(BAD_DIR, 'expansion-ten-million-grid.yaml'), 'utf8');
    const [issue] = issuesOf(text, 'grid');
    expect(issue?.path).toBe('(expansion)');
    expect(issue?.message).toContain('got 16,500,000');
    // Even --force cannot materialise it: the hard cap applies before any trial is built.
    expect(() => planSweepText(text, 'grid', { force: true })).toThrow(/at most 1,000,000 trials even with --force/);
  });
});

describe('dpt-sweep validate on malformed files (CLI process)', () => {
  const cases = [
    'vary-length-not-integer.yaml',
    'yaml-unclosed-bracket.yaml',
    'expansion-ten-million-grid.yaml',
    'datasets-unknown.yaml',
  ];
  it.each(cases)('%s: exit code 2, one line per problem, no stack trace', (name) => {
    const file = join(BAD_DIR, name);
    const run = spawnSync(process.execPath, ['bin/dpt-sweep.js', 'validate', file], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    const expected = expectedPath(readFileSync(file, 'utf8'));
    const issueLines = lines.slice(0, -1);
    expect(issueLines.length).toBeGreaterThan(0);
    for (const line of issueLines) expect(line.startsWith(`${file}: `)).toBe(true);
    expect(issueLines.some((line) => line.startsWith(`${file}: ${expected}: `))).toBe(true);
    expect(lines.at(-1)).toMatch(new RegExp(`^dpt-sweep: .*${issueLines.length} problems?, see above$`));
    expect(run.stderr).not.toMatch(/\n\s+at \S/);
    expect(run.stderr).not.toMatch(/Error:/);
  });

  it('--json prints the issues as data', () => {
    const file = join(BAD_DIR, 'vary-kn-zero.yaml');
    const run = spawnSync(process.execPath, ['bin/dpt-sweep.js', 'validate', '--json', file], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(2);
    const out = JSON.parse(run.stdout) as { ok: boolean; issues: SweepIssue[] };
    expect(out.ok).toBe(false);
    expect(out.issues.map((i) => i.path)).toContain('vary.kN[0]');
  });
});
