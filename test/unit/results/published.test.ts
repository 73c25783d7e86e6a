import { describe, expect, it } from 'vitest';
import type { Cell, CellReport, Factor, FactorValue } from '../../../db/ablation.ts';
import { baseToNovelPivot } from '../../../db/results/base-to-novel.ts';
import { buildPivot } from '../../../db/results/pivot.ts';
import { clipArchitecture, loadAnchors } from '../../../db/results/published.ts';
import { markPublished } from '../../../db/results/published-marks.ts';
import { seedNote } from '../../../db/results/seed-policy.ts';

const cell = (key: Record<string, FactorValue>, mean: number | null, seeds = [1, 2, 3], planned = [1, 2, 3]): Cell => ({
  key,
  n: seeds.length,
  expectedN: planned.length,
  mean,
  stdPop: 0,
  stdSample: 0,
  seeds,
  plannedSeeds: planned,
  endedSeeds: [],
  stoppedSeeds: [],
});

describe('published anchors (published/anchors.yaml)', () => {
  const anchors = loadAnchors();

  it('every entry has a source, a url, a protocol, a backbone and shots (the schema of db/results/published.ts)', () => {
    expect(anchors.length).toBeGreaterThan(0);
    for (const anchor of anchors) {
      expect(anchor.source.length).toBeGreaterThan(20);
      expect(anchor.url).toMatch(/^https:\/\//);
      expect(['few-shot', 'base-to-novel', 'cross-dataset', 'domain-generalization']).toContain(anchor.protocol);
      expect(anchor.backbone).toMatch(/^ViT-|^RN/);
    }
  });

  it('has the base-to-novel averages the issue names, and each printed HM agrees with its base and novel', () => {
    const averages = anchors.filter((a) => a.protocol === 'base-to-novel' && a.dataset === 'average');
    expect(averages.map((a) => a.method)).toEqual(
      expect.arrayContaining(['zeroshot', 'coop', 'cocoop', 'vpt', 'maple', 'promptsrc']),
    );
    for (const anchor of averages) {
      const { base, novel, hm } = anchor.metrics as { base: number; novel: number; hm: number };
      // Printed to two decimals (KgCoOp to one): a transcription slip would show here.
      expect(Math.abs((2 * base * novel) / (base + novel) - hm), anchor.method).toBeLessThan(0.06);
    }
  });

  it('matches backbones by CLIP architecture, not by folder', () => {
    expect(clipArchitecture('clip-vit-base-patch16')).toBe('ViT-B/16');
    expect(clipArchitecture('clip-vit-base-patch32')).toBe('ViT-B/32');
    expect(clipArchitecture('clip-vit-large-patch14-336')).toBe('ViT-L/14');
    expect(clipArchitecture('synth-clip')).toBeNull();
  });
});

describe('markPublished', () => {
  const constants = (entries: Partial<Record<Factor, FactorValue[]>>) =>
    new Map(Object.entries(entries) as Array<[Factor, FactorValue[]]>);

  it('sets the base-to-novel averages beside the average rows of a ViT-B/16, 16-shot table', () => {
    const cells = ['a', 'b'].flatMap((dataset) => [
      cell({ method: 'coop', dataset, classSubset: 'base' }, 80),
      cell({ method: 'coop', dataset, classSubset: 'novel' }, 60),
      cell({ method: 'dpt', dataset, classSubset: 'base' }, 70),
      cell({ method: 'dpt', dataset, classSubset: 'novel' }, 65),
    ]);
    const report: CellReport = { factors: ['method', 'dataset', 'classSubset'], added: [], cells, missing: [] };
    const pivot = baseToNovelPivot(report, ['method']);
    const sources = markPublished(pivot, {
      anchors: loadAnchors(),
      protocol: 'base-to-novel',
      constants: constants({ backbone: ['clip-vit-base-patch16'], shots: [16], dataset: ['a', 'b'] }),
    });
    const coop = pivot.rows.find((row) => row.key[0] === 'average' && row.key[1] === 'coop');
    expect(coop?.entries.map((entry) => entry?.published?.value)).toEqual([82.69, 63.22, 71.66]);
    expect(coop?.entries[0]?.published?.diff).toBeCloseTo(80 - 82.69, 10);
    expect(sources).toHaveLength(1);
    expect(sources[0]?.source).toContain('MaPLe README');
    // No published DPT base-to-novel number; no per-dataset rows in the file.
    const dpt = pivot.rows.find((row) => row.key[0] === 'average' && row.key[1] === 'dpt');
    expect(dpt?.entries.every((entry) => entry?.published === undefined)).toBe(true);
    expect(pivot.rows.filter((row) => row.key[0] === 'a').every((row) => row.entries.every((e) => !e?.published))).toBe(
      true,
    );
  });

  it('matches nothing for another backbone or other shots', () => {
    const cells = [
      cell({ method: 'coop', dataset: 'a', classSubset: 'base' }, 80),
      cell({ method: 'coop', dataset: 'a', classSubset: 'novel' }, 60),
    ];
    const report: CellReport = { factors: ['method', 'dataset', 'classSubset'], added: [], cells, missing: [] };
    for (const [backbone, shots] of [
      ['clip-vit-base-patch32', 16],
      ['clip-vit-base-patch16', 4],
    ] as const) {
      const pivot = baseToNovelPivot(report, ['method']);
      const sources = markPublished(pivot, {
        anchors: loadAnchors(),
        protocol: 'base-to-novel',
        constants: constants({ backbone: [backbone], shots: [shots] }),
      });
      expect(sources).toEqual([]);
    }
  });

  it('the cross-dataset average column takes the published average over targets', () => {
    const report: CellReport = {
      factors: ['method', 'evalDataset'],
      added: [],
      cells: [
        cell({ method: 'coop', evalDataset: 'imagenet' }, 70),
        cell({ method: 'coop', evalDataset: 'dtd' }, 40),
        cell({ method: 'coop', evalDataset: 'eurosat' }, 50),
      ],
      missing: [],
    };
    const pivot = buildPivot(report, {
      rowFactors: ['method'],
      column: 'evalDataset',
      average: 'targets',
      leadingColumns: ['imagenet'],
    });
    markPublished(pivot, {
      anchors: loadAnchors(),
      protocol: 'cross-dataset',
      constants: constants({ backbone: ['clip-vit-base-patch16'], shots: [16], dataset: ['imagenet'] }),
    });
    expect(pivot.rows[0]?.average?.mean).toBe(45);
    expect(pivot.rows[0]?.average?.published?.value).toBe(63.88);
    expect(pivot.rows[0]?.average?.published?.diff).toBeCloseTo(45 - 63.88, 10);
  });
});

describe('seed notes (db/results/seed-policy.ts)', () => {
  it('lists the seeds and warns of cells with fewer seeds than planned, and why', () => {
    const short = { ...cell({ method: 'coop', dataset: 'a' }, 50, [1], [1, 2, 3]), endedSeeds: [2] };
    const report: CellReport = {
      factors: ['method', 'dataset'],
      added: [],
      cells: [cell({ method: 'dpt', dataset: 'a' }, 60), short],
      missing: [],
    };
    const note = seedNote(report);
    expect(note.seeds).toEqual([1, 2, 3]);
    expect(note.lines[0]).toBe('seeds: 1, 2, 3 (3 planned per cell)');
    expect(note.lines[1]).toBe(
      'warning: 1 of 2 cells have fewer seeds than planned, some computed from a subset of the seeds that ran: coop · a: 1 of 3 (seed 2 ended without a result; seed 3 not finished)',
    );
    expect(seedNote({ ...report, cells: [report.cells[0] as Cell] }).lines).toHaveLength(1);
  });

  it('says once how many cells a search stopped early, and never warns about them', () => {
    const stopped = { ...cell({ method: 'dpt', lr: 0.1 }, null, [], [1, 2]), stoppedSeeds: [1, 2] };
    const partly = { ...cell({ method: 'dpt', lr: 0.2 }, 60, [1], [1, 2]), stoppedSeeds: [2] };
    const report: CellReport = {
      factors: ['method', 'lr'] as Factor[],
      added: [],
      cells: [stopped, cell({ method: 'dpt', lr: 0.3 }, 70, [1, 2], [1, 2]), partly],
      missing: [stopped],
    };
    expect(seedNote(report).lines).toEqual([
      'seeds: 1, 2 (2 planned per cell)',
      '1 of 3 cells stopped early by the search (validation split only, no test result): `dpt-sweep results <sweep>` shows where',
      'warning: 1 of 3 cells have fewer seeds than planned: dpt · 0.2: 1 of 2 (seed 2 stopped early by the search)',
    ]);
  });
});
