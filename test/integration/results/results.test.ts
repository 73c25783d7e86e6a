import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exportSweep } from '../../../cli/results/export.ts';
import { type Format, renderPivot } from '../../../cli/results/render.ts';
import { type Database, openDatabase } from '../../../db/client.ts';
import { resultsPivot } from '../../../db/results/query.ts';
import { describeWith, realPostgresUrl } from '../../support/env.ts';
import { createScratchPostgres } from '../db/backends.ts';
import { seedResults } from './seed.ts';

const run = promisify(execFile);
const CLI = path.resolve('bin/dpt-sweep.js');
const hasPdflatex = spawnSync('pdflatex', ['--version']).status === 0;

describeWith(
  'PostgreSQL',
  realPostgresUrl !== undefined,
  'DATABASE_URL is not set',
)('dpt-sweep results and export', () => {
  let scratch: Awaited<ReturnType<typeof createScratchPostgres>>;
  let db: Database;
  let sweepIds: Record<string, string>;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dpt-results-'));

  beforeAll(async () => {
    scratch = await createScratchPostgres();
    db = await openDatabase({ url: scratch.url, migrations: 'apply' });
    sweepIds = await seedResults(db.pool);
  });
  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const cli = (...args: string[]) =>
    run('node', [CLI, ...args], { env: { ...process.env, DATABASE_URL: scratch.url } }).then(
      (out) => ({ code: 0, stdout: out.stdout, stderr: out.stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({
        code: err.code,
        stdout: err.stdout,
        stderr: err.stderr,
      }),
    );
  const render = async (format: Format, request: Partial<Parameters<typeof resultsPivot>[1]> = {}) => {
    const answer = await resultsPivot(db.pool, { sweeps: ['fs'], view: 'fewshot', ...request });
    return { answer, text: renderPivot(answer.pivot, format, { caption: answer.caption }) };
  };

  it('json: means, sample std, n, missing cells, average and best marks match the hand computation', async () => {
    const { text } = await render('json');
    const json = JSON.parse(text);
    expect(json.std).toBe('sample');
    expect(json.rowFactors).toEqual(['method', 'shots']);
    expect(json.columns).toEqual(['caltech101', 'eurosat', 'oxford_pets']);
    const [coop, dpt] = json.rows;
    expect(coop.key).toEqual({ method: 'coop', shots: 16 });
    expect(coop.cells.caltech101.mean).toBeCloseTo(83, 10);
    expect(coop.cells.caltech101.std).toBeCloseTo(Math.sqrt(13), 10);
    expect(coop.cells.eurosat).toMatchObject({ n: 2, expectedN: 3, best: true });
    expect(coop.cells.eurosat.std).toBeCloseTo(Math.sqrt(8), 10);
    expect(coop.cells.oxford_pets).toMatchObject({ mean: 60, std: null, n: 1, expectedN: 3, best: false });
    expect(coop.average.mean).toBeCloseTo(215 / 3, 10);
    expect(coop.average).toMatchObject({ n: 3, expectedN: 3, best: true });
    expect(dpt.cells.caltech101).toMatchObject({ mean: 92, n: 3, best: true });
    expect(dpt.cells.caltech101.std).toBeCloseTo(Math.sqrt(7), 10);
    expect(dpt.cells.eurosat).toMatchObject({ mean: null, std: null, n: 0, expectedN: 3, best: false });
    expect(dpt.cells.oxford_pets).toMatchObject({ mean: 68, std: 2, best: true });
    // 80 beats 71.7, but over two of three datasets it is not comparable, so it is not marked.
    expect(dpt.average).toMatchObject({ mean: 80, n: 2, expectedN: 3, missing: ['eurosat'], best: false });
  });

  it('table: aligned rows with ± and (n), * on the best of each column, missing cells with their count', async () => {
    const { text } = await render('table');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/sample std/);
    expect(lines[1]).toMatch(/^method\s+shots\s+caltech101\s+eurosat\s+oxford_pets\s+average$/);
    expect(lines[3]).toMatch(/^coop\s+16\s+83\.0 ± 3\.6 \(3\)\s+72\.0 ± 2\.8 \(2\/3\) \*\s+60\.0 \(1\/3\)\s+71\.7 \*$/);
    expect(lines[4]).toMatch(
      /^dpt\s+16\s+92\.0 ± 2\.6 \(3\) \*\s+— \(0\/3\)\s+68\.0 ± 2\.0 \(3\) \*\s+80\.0 \(2\/3\)$/,
    );
    expect(lines).toHaveLength(5);
  });

  it('csv: full-precision wide rows with n, planned and best flags', async () => {
    const { text } = await render('csv');
    const [header, coop, dpt] = text
      .trimEnd()
      .split('\n')
      .map((line) => line.split(','));
    const col = (name: string) => (header as string[]).indexOf(name);
    expect(Number(coop?.[col('caltech101.std')])).toBeCloseTo(Math.sqrt(13), 12);
    expect(coop?.[col('oxford_pets.std')]).toBe('');
    expect(coop?.[col('oxford_pets.n')]).toBe('1');
    expect(dpt?.[col('eurosat.mean')]).toBe('');
    expect(dpt?.[col('eurosat.planned')]).toBe('3');
    expect(dpt?.[col('caltech101.best')]).toBe('1');
    expect(Number(coop?.[col('average.mean')])).toBeCloseTo(71.6667, 3);
    expect(coop?.[col('average.best')]).toBe('1');
    expect(dpt?.[col('average.n')]).toBe('2');
  });

  it('markdown: bold best per column, right-aligned number columns', async () => {
    const { text } = await render('markdown');
    const lines = text.trimEnd().split('\n');
    expect(lines).toContain('| method | shots | caltech101 | eurosat | oxford_pets | average |');
    expect(lines).toContain('| --- | --- | ---: | ---: | ---: | ---: |');
    expect(lines).toContain('| coop | 16 | 83.0 ± 3.6 (3) | **72.0 ± 2.8 (2/3)** | 60.0 (1/3) | **71.7** |');
    expect(lines).toContain('| dpt | 16 | **92.0 ± 2.6 (3)** | — (0/3) | **68.0 ± 2.0 (3)** | 80.0 (2/3) |');
  });

  it('latex: a booktabs table with escaped underscores, $\\pm$ and bold best entries', async () => {
    const { text } = await render('latex');
    const lines = text.split('\n');
    const order = ['\\begin{tabular}{llcccc}', '\\toprule', '\\midrule', '\\bottomrule', '\\end{tabular}'];
    const at = order.map((line) => lines.indexOf(line));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(text).toContain('method & shots & caltech101 & eurosat & oxford\\_pets & average \\\\');
    expect(text).toContain(
      'dpt & 16 & \\textbf{92.0 $\\pm$ 2.6} {\\scriptsize (3)} & --- {\\scriptsize (0/3)} & \\textbf{68.0 $\\pm$ 2.0} {\\scriptsize (3)} & 80.0 {\\scriptsize (2/3)} \\\\',
    );
    expect(text).not.toMatch(/[^\\]_|±/);
    if (!hasPdflatex) {
      // .ci/run installs TeX Live, so under CI a missing pdflatex is a failure, not a skip.
      if (process.env.CI === 'true') throw new Error('pdflatex is required in CI to compile the LaTeX table');
      console.warn('[skipped] pdflatex compile: pdflatex is not installed');
      return;
    }
    const dir = fs.mkdtempSync(path.join(tmp, 'tex-'));
    fs.writeFileSync(path.join(dir, 'table.tex'), text);
    fs.writeFileSync(
      path.join(dir, 'paper.tex'),
      '\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n\\input{table.tex}\n\\end{document}\n',
    );
    const compiled = spawnSync('pdflatex', ['-interaction=nonstopmode', '-halt-on-error', 'paper.tex'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(compiled.status, compiled.stdout.slice(-2000)).toBe(0);
    expect(fs.existsSync(path.join(dir, 'paper.pdf'))).toBe(true);
  });

  it('default rows are the factors the sweeps vary; --by overrides them; cavpt-length compares lengths', async () => {
    const byDefault = await resultsPivot(db.pool, { sweeps: ['fs'] });
    expect(byDefault.pivot.rowFactors).toEqual(['method']);
    const both = await resultsPivot(db.pool, { sweeps: ['fs', 'len'] });
    expect(both.pivot.rowFactors).toEqual(['method', 'cavptLength']);
    // --by shots alone would pool coop and dpt as if they were seeds: the method becomes an extra row, and says so.
    const by = await resultsPivot(db.pool, { sweeps: ['fs'], by: ['shots'] });
    expect(by.pivot.rowFactors).toEqual(['shots', 'method']);
    expect(by.caption).toMatch(/rows also split by method, which varies within them/);
    expect(by.pivot.rows.map((row) => row.entries[0]?.mean)).toEqual([83, 92]);
    const len = await resultsPivot(db.pool, { sweeps: [sweepIds.len as string], view: 'cavpt-length' });
    expect(len.pivot.rows.map((row) => [row.key[0], row.entries[0]?.mean, row.entries[0]?.best])).toEqual([
      [1, 55, false],
      [10, 75, true],
    ]);
  });

  it('the CLI prints the table and rejects bad input with one line and exit code 2', async () => {
    const ok = await cli('results', 'fs', '--view', 'fewshot');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/dpt\s+16\s+92\.0 ± 2\.6 \(3\) \*/);

    const unknownSweep = await cli('results', 'nope');
    expect(unknownSweep.code).toBe(2);
    expect(unknownSweep.stderr).toBe('dpt-sweep: no sweep named nope; known sweeps: fs, len\n');

    const unknownFactor = await cli('results', 'fs', '--by', 'method,colour');
    expect(unknownFactor.code).toBe(2);
    expect(unknownFactor.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(unknownFactor.stderr).toMatch(
      /unknown factor colour in --by; valid factors: sweep, method, dataset, .*cavptLength/,
    );

    const notSwept = await cli('results', 'fs', '--view', 'cavpt-length');
    expect(notSwept.code).toBe(2);
    expect(notSwept.stderr).toBe(
      'dpt-sweep: view cavpt-length needs cavptLength to vary, but in fs cavptLength has only the value 10; the sweep varies: method\n',
    );

    const noTargets = await cli('results', 'fs', '--view', 'dg');
    expect(noTargets.code).toBe(2);
    expect(noTargets.stderr).toMatch(/^dpt-sweep: view dg needs evalDataset targets .* the sweep varies: method\n$/);

    const unknownExport = await cli('export', 'nope', '--out', path.join(tmp, 'x'));
    expect(unknownExport.code).toBe(2);
    expect(unknownExport.stderr).toMatch(/^dpt-sweep: no sweep named nope; known sweeps: fs, len\n$/);
    for (const out of [unknownSweep, unknownFactor, notSwept, noTargets, unknownExport])
      expect(out.stderr).not.toMatch(/\bat /);
  });

  const dbCounts = async (sweepId: string) => {
    const { rows } = await db.pool.query(
      `SELECT (SELECT count(*)::int FROM "Trial" WHERE "sweepId" = $1) AS trials,
              (SELECT count(*)::int FROM "TrialResult" r JOIN "Trial" t ON t.id = r."trialId" WHERE t."sweepId" = $1) AS results,
              (SELECT count(*)::int FROM "EpochMetric" e JOIN "Trial" t ON t.id = e."trialId" WHERE t."sweepId" = $1) AS epochs`,
      [sweepId],
    );
    return rows[0] as { trials: number; results: number; epochs: number };
  };

  it('export csv: three files whose row counts equal the database, paged two trials at a time', async () => {
    const expected = await dbCounts(sweepIds.fs as string);
    expect(expected).toEqual({ trials: 18, results: 12, epochs: 48 });
    const out = path.join(tmp, 'fs.csv');
    const summary = await exportSweep(db.pool, { sweepId: sweepIds.fs as string, format: 'csv', out, pageSize: 2 });
    expect(summary.counts).toEqual({ ...expected, validations: 0 });
    const read = (kind: string) => fs.readFileSync(path.join(tmp, `fs.${kind}.csv`), 'utf8');
    // Quoted fields (the config holds commas and quotes) keep one record per line here.
    const trials = read('trials').trimEnd().split('\n');
    expect(trials).toHaveLength(19);
    expect(trials[0]).toMatch(
      /^id,sweep,configKey,method,dataset,.*status,attempts,codeVersion,backend,weightsSha256,splitHash,.*durationMs,error,/,
    );
    expect(trials.filter((line) => line.includes(',succeeded,'))).toHaveLength(12);
    expect(trials[1]).toContain('"{""note"":""has \\""quotes\\"", commas""}"');
    expect(read('results').trimEnd().split('\n')).toHaveLength(13);
    expect(read('epochs').trimEnd().split('\n')).toHaveLength(49);
    expect(fs.readdirSync(tmp).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('export jsonl through the CLI: one typed record per line, counts equal to the database', async () => {
    const out = path.join(tmp, 'len.jsonl');
    const done = await cli('export', 'len', '--format', 'jsonl', '--out', out);
    expect(done.code, done.stderr).toBe(0);
    const records = fs
      .readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    const count = (type: string) => records.filter((r) => r.type === type).length;
    const expected = await dbCounts(sweepIds.len as string);
    expect({ trials: count('trial'), results: count('result'), epochs: count('epoch') }).toEqual(expected);
    const best = records.find((r) => r.type === 'result' && r.top1 === 80);
    expect(best).toMatchObject({ evalDataset: 'eurosat', split: 'test', correct: 80, total: 100 });
    const trial = records.find((r) => r.id === best.trialId);
    expect(trial).toMatchObject({ type: 'trial', sweep: 'len', cavptLength: 10, seed: 2, status: 'succeeded' });
  });
});
