import type { SweepIssue } from '../issues.ts';
import { axisValues, type SweepFile, varyAxes } from '../schema.ts';
import { spaceAxes } from './space.ts';

/**
 * What a search needs of the rest of the file, checked before expansion: a validation split on every dataset it
 * trains on (ImageNet has none), trained methods only (zero-shot has no epochs to stop or configuration to tune), and
 * for successive halving the epochs left to `search.maxEpochs`; a TPE search draws its axes from `search.space`
 * instead of `vary`. Pure.
 */
export function searchIssues(file: SweepFile, trainedOn: readonly string[]): SweepIssue[] {
  const search = file.search;
  if (!search) return [];
  const issues: SweepIssue[] = [];
  if (trainedOn.includes('imagenet')) {
    issues.push({
      path: 'datasets',
      message: 'expected datasets with a validation split for a search, got imagenet (it has none)',
    });
  }
  const methods = new Set<string>();
  if (file.base.method) methods.add(String(file.base.method));
  if (file.vary && file.vary.mode !== 'explicit')
    for (const m of axisValues(file.vary, 'method')) methods.add(String(m));
  if (file.vary?.mode === 'explicit') for (const v of file.vary.variations) if (v.method) methods.add(String(v.method));
  if (search.kind === 'tpe') {
    const space = search.space as Record<string, unknown>;
    if (Array.isArray(space.method)) for (const m of space.method) methods.add(String(m));
  }
  if (methods.has('zeroshot')) {
    issues.push({
      path: 'search',
      message: 'expected trained methods only in a search, got zeroshot (it trains nothing to stop or tune)',
    });
  }
  if (search.kind === 'successive-halving') {
    const owner = "search.maxEpochs sets every trial's epochs";
    if (file.base.epochs !== undefined)
      issues.push({ path: 'base.epochs', message: `expected no epochs here: ${owner}` });
    const optim = (file.base.trial as { optim?: Record<string, unknown> } | undefined)?.optim;
    if (optim && 'epochs' in optim) {
      issues.push({ path: 'base.trial.optim.epochs', message: `expected no epochs here: ${owner}` });
    }
    if (file.vary && file.vary.mode !== 'explicit' && varyAxes(file.vary).includes('epochs')) {
      issues.push({ path: 'vary.epochs', message: `expected no epochs axis: ${owner}` });
    }
    if (file.vary?.mode === 'explicit' && file.vary.variations.some((v) => v.epochs !== undefined)) {
      issues.push({ path: 'vary.variations', message: `expected no epochs in the variations: ${owner}` });
    }
  } else {
    if (file.vary) {
      issues.push({
        path: 'vary',
        message: 'expected no vary with search kind tpe: it draws the axes of search.space',
      });
    }
    if (spaceAxes(search).length === 0) {
      issues.push({ path: 'search.space', message: 'expected at least one axis to search, got none' });
    }
  }
  return issues;
}
