import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { planTrials, sweepIdFor, type TrialInput, upsertSweep } from '../../db/repositories.ts';
import type { TrialConfig } from '../../dpt/trial-config.ts';
import { canonicalJson, configKey } from '../../sweep/identity.ts';
import { loadSweepFile } from '../../sweep/load.ts';
import { ORCHESTRATOR_QUEUE } from '../../worker/workers.ts';
import type { SweepProgress, SweepWorkflowInput } from '../../workflows/sweep.ts';
import { codeVersion } from './code-version.ts';
import type { Stack } from './stack.ts';

const SWEEP_ID_KEY = defineSearchAttributeKey('SweepId', SearchAttributeType.KEYWORD);
const SWEEP_NAME_KEY = defineSearchAttributeKey('SweepName', SearchAttributeType.KEYWORD);

export const workflowIdFor = (sweepId: string) => `sweep-${sweepId}`;

/**
 * The few-shot split a trial trains on. The official protocol makes the picks a pure function of the dataset's
 * split file, the shot count and the seed, so this descriptor identifies them; the trainer records the hash of the
 * actual picks next to the result.
 */
export const splitIdFor = (config: TrialConfig) => `${config.dataset}/shot_${config.shots}-seed_${config.seed}`;

export interface LaunchOptions {
  force?: boolean;
  /** Retrain trials whose identical twin already succeeded in another sweep. */
  noReuse?: boolean;
  /** Override the sweep file's maxParallel. */
  maxParallel?: number;
  /** Test knobs for the training activity's timeouts. */
  heartbeatTimeout?: string;
}

export interface Launched {
  sweepId: string;
  name: string;
  workflowId: string;
  trials: number;
  /** False when the sweep's workflow was already running: launching is idempotent. */
  started: boolean;
}

/** Validates the file, writes the sweep and its trials (idempotently) and starts — or finds — its workflow. */
export async function launchSweep(stack: Stack, file: string, options: LaunchOptions = {}): Promise<Launched> {
  const { plan } = await loadSweepFile(file, { force: options.force ?? false });
  const version = codeVersion();
  const spec = plan.file;
  const maxParallel = options.maxParallel ?? spec.resources.maxParallel;
  const sweepId = sweepIdFor(spec.name);
  const workflowId = workflowIdFor(sweepId);
  await upsertSweep(stack.db.pool, {
    name: spec.name,
    spec,
    specHash: createHash('sha256').update(canonicalJson(spec)).digest('hex'),
    maxParallel,
    reuseResults: options.noReuse ? false : spec.reuse,
    codeVersion: version,
    workflowId,
  });
  const trials: TrialInput[] = plan.trials.map(({ config, factors }) => ({
    ...factors,
    configKey: configKey(config, version, splitIdFor(config)),
    backbone: basename(config.model),
    // A method that trains nothing has no learning rate or epochs; the columns store 0 for "not applicable".
    lr: factors.lr ?? 0,
    epochs: factors.epochs ?? 0,
    evalDatasets: [config.dataset, ...config.evalDatasets],
    config,
  }));
  await planTrials(stack.db.pool, sweepId, trials);

  const started = await startSweepWorkflow(stack, {
    sweepId,
    name: spec.name,
    maxParallel,
    taskQueue: spec.resources.taskQueue,
    ...(options.heartbeatTimeout ? { heartbeatTimeout: options.heartbeatTimeout } : {}),
  });
  return { sweepId, name: spec.name, workflowId, trials: trials.length, started };
}

/** Starts the sweep's workflow; returns false when it is already running (launch and resume are idempotent). */
export async function startSweepWorkflow(
  stack: Stack,
  input: Omit<SweepWorkflowInput, 'carry'> & { name: string },
): Promise<boolean> {
  const { name, ...args } = input;
  try {
    await stack.client.workflow.start('sweepWorkflow', {
      taskQueue: ORCHESTRATOR_QUEUE,
      workflowId: workflowIdFor(input.sweepId),
      args: [args],
      typedSearchAttributes: [
        { key: SWEEP_ID_KEY, value: input.sweepId },
        { key: SWEEP_NAME_KEY, value: name },
      ],
    });
    return true;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/** Progress of a sweep's workflow, or undefined when it has never run. */
export async function queryProgress(stack: Stack, sweepId: string): Promise<SweepProgress | undefined> {
  try {
    return await stack.client.workflow.getHandle(workflowIdFor(sweepId)).query<SweepProgress>('progress');
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
