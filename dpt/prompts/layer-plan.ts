import type { CavptMode } from '../trial-config.ts';

/**
 * What is appended to the tokens of each ViT block (0-based here; 1-based in config docs):
 * - `vpt`: the VPT-deep prompts of row `row` of the [rows, length, width] ctx tensor, replaced at every block;
 * - `cavpt`: the K class-aware prompts produced by CAVPT module `module` from the block's input;
 * - `none`.
 *
 * DPT depth modes, d = cavpt.layers, L = number of blocks:
 * - top-down (official code, BOTTOMLIMIT b = L - d + 1): CAVPT modules 0..d-1 in blocks L-d..L-1, VPT-deep in 0..L-d-1.
 * - bottom-up (paper ablation, not in the code): CAVPT modules 0..d-1 in blocks 0..d-1, VPT-deep in blocks d..L-1.
 * - shared (paper ablation, not in the code): placement as top-down, but every CAVPT block uses module 0, whose
 *   classifier is supervised once per block application (rows (b, block, k), as the loss of docs/method.md §10).
 * In CAVPT blocks no VPT-deep prompts are inserted (DPT.py:451-461; docs/method.md §8).
 */
export type BlockInjection = { kind: 'none' } | { kind: 'vpt'; row: number } | { kind: 'cavpt'; module: number };

export interface LayerPlan {
  blocks: BlockInjection[];
  vptRows: number;
  cavptModules: number;
  cavptApplications: number;
}

export function vptOnlyPlan(numLayers: number, vptLayers: number | null): LayerPlan {
  const rows = Math.min(vptLayers ?? numLayers, numLayers);
  const blocks: BlockInjection[] = Array.from({ length: numLayers }, (_, l) =>
    l < rows ? { kind: 'vpt', row: l } : { kind: 'none' },
  );
  return { blocks, vptRows: rows, cavptModules: 0, cavptApplications: 0 };
}

export function noPromptPlan(numLayers: number): LayerPlan {
  return {
    blocks: Array.from({ length: numLayers }, () => ({ kind: 'none' })),
    vptRows: 0,
    cavptModules: 0,
    cavptApplications: 0,
  };
}

export function dptPlan(numLayers: number, mode: CavptMode, depth: number): LayerPlan {
  if (!Number.isInteger(depth) || depth < 1 || depth > numLayers) {
    throw new Error(`cavpt.layers must be between 1 and the model's ${numLayers} vision blocks, got ${depth}`);
  }
  const blocks: BlockInjection[] = [];
  let vptRows = 0;
  let cavptIndex = 0;
  for (let l = 0; l < numLayers; l++) {
    const isCavpt = mode === 'bottom-up' ? l < depth : l >= numLayers - depth;
    if (isCavpt) {
      blocks.push({ kind: 'cavpt', module: mode === 'shared' ? 0 : cavptIndex });
      cavptIndex += 1;
    } else {
      blocks.push({ kind: 'vpt', row: vptRows });
      vptRows += 1;
    }
  }
  return { blocks, vptRows, cavptModules: mode === 'shared' ? 1 : depth, cavptApplications: depth };
}
