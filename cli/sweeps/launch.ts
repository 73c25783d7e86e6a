import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { ORCHESTRATOR_QUEUE } from '../../contract/queues.ts';
import {
  progressQuery,
  SWEEP_WORKFLOW_TYPE,
  type SweepProgress,
  type SweepWorkflowInput,
} from '../../contract/sweep-workflow.ts';
import { workflowIdFor } from '../../contract/workflow-id.ts';
import type { Queryable } from '../../db/migrate.ts';
import { plannedTrialInputs } from '../../db/planned-trials.ts';
import { planTrials, sweepIdFor, upsertSweep } from '../../db/repositories.ts';
import type { SweepPlan } from '../../sweep/expand.ts';
import { specHash, splitIdFor } from '../../sweep/identity.ts';
import { loadSweepFile } from '../../sweep/load.ts';
import { codeVersion } from '../../worker/code-version.ts';
import type { sweepWorkflow } from '../../workflows/sweep.ts';
import { UserError } from '../errors.ts';
import { ensureSearchAttributes, isMissingSearchAttribute, missingAttributesError } from './search-attributes.ts';
import type { Stack } from './stack.ts';

const SWEEP_ID_KEY = defineSearchAttributeKey('SweepId', SearchAttributeType.KEYWORD);
const SWEEP_NAME_KEY = defineSearchAttributeKey('SweepName', SearchAttributeType.KEYWORD);

export { splitIdFor, workflowIdFor };

export interface LaunchOptions {
  force?: boolean;
  /** Retrain trials whose identical twin already succeeded in another sweep. */
  noReuse?: boolean;
  /** Override the sweep file's maxParallel. */
  maxParallel?: number;
  /**
   * Override resources.heartbeatTimeout: how long an attempt may go without a heartbeat or trainer progress. Tests
   * also pass durations below the sweep file's bounds (Temporal's duration strings).
   */
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
  const { sweepId, maxParallel, trials } = await writeSweepPlan(stack.db.pool, plan, options);
  const spec = plan.file;
  const heartbeatTimeout = options.heartbeatTimeout ?? spec.resources.heartbeatTimeout;
  const started = await startSweepWorkflow(stack, {
    sweepId,
    name: spec.name,
    maxParallel,
    taskQueue: spec.resources.taskQueue,
    ...(heartbeatTimeout ? { heartbeatTimeout } : {}),
  });
  return { sweepId, name: spec.name, workflowId: workflowIdFor(sweepId), trials, started };
}

/**
 * The database half of a launch: the sweep row and one planned trial per expanded trial, each with its factors
 * (sweep/factors.ts), its identity and the code version it was planned with. Idempotent.
 */
export async function writeSweepPlan(
  db: Queryable,
  plan: SweepPlan,
  options: Pick<LaunchOptions, 'noReuse' | 'maxParallel'> = {},
): Promise<{ sweepId: string; maxParallel: number; trials: number }> {
  const version = codeVersion();
  const spec = plan.file;
  const maxParallel = options.maxParallel ?? spec.resources.maxParallel;
  await refuseChangedSearch(db, spec.name, specHash(spec), version, spec.search !== undefined);
  const sweepId = await upsertSweep(db, {
    name: spec.name,
    spec,
    specHash: specHash(spec),
    maxParallel,
    reuseResults: options.noReuse ? false : spec.reuse,
    codeVersion: version,
    workflowId: workflowIdFor(sweepIdFor(spec.name)),
  });
  // A halving search's candidates are its variations; a TPE search plans its trials as it suggests them.
  const search = spec.search?.kind === 'successive-halving';
  const trials = plannedTrialInputs(plan.trials, version, search ? (trial) => trial.variation : undefined);
  await planTrials(db, sweepId, trials);
  return { sweepId, maxParallel, trials: trials.length };
}

/**
 * A search's decisions, suggestions and candidate numbers belong to the file and code it was launched with: a grid may
 * grow by relaunching a changed file, a search may not (its rungs would mix candidates of two files, its suggestions
 * two spaces). Relaunching the same file, or `resume`, continues it.
 */
async function refuseChangedSearch(
  db: Queryable,
  name: string,
  hash: string,
  version: string,
  isSearch: boolean,
): Promise<void> {
  const { rows } = await db.query<{ specHash: string; codeVersion: string; search: boolean; started: boolean }>(
    `SELECT s."specHash", s."codeVersion", s.spec ? 'search' AS search,
            EXISTS (SELECT 1 FROM "Trial" t WHERE t."sweepId" = s.id)
              OR EXISTS (SELECT 1 FROM "SearchSuggestion" g WHERE g."sweepId" = s.id) AS started
       FROM "Sweep" s WHERE s.id = $1`,
    [sweepIdFor(name)],
  );
  const stored = rows[0];
  if (!stored?.started || !(stored.search || isSearch)) return;
  const changed = stored.specHash !== hash ? 'another file' : stored.codeVersion !== version ? 'other code' : null;
  if (changed === null) return;
  throw new UserError(
    `sweep ${name} is a search launched with ${changed === 'another file' ? 'a different file' : `code ${stored.codeVersion}`}; ` +
      'a search cannot change once started: launch the changed file under a new name, or run `dpt-sweep resume ' +
      `${name}\` from the code it was launched with`,
  );
}

/**
 * The heartbeat timeout a stored sweep was launched with from its file (resources.heartbeatTimeout), so a resumed
 * sweep keeps it; undefined for the workflow's default. Read from the validated spec stored at launch.
 */
export function storedHeartbeatTimeout(spec: unknown): string | undefined {
  const value = (spec as { resources?: { heartbeatTimeout?: unknown } } | null)?.resources?.heartbeatTimeout;
  return typeof value === 'string' ? value : undefined;
}

/** Starts the sweep's workflow; returns false when it is already running (launch and resume are idempotent). */
export async function startSweepWorkflow(
  stack: Stack,
  input: Omit<SweepWorkflowInput, 'carry'> & { name: string },
): Promise<boolean> {
  const { name, ...args } = input;
  const registration = await ensureSearchAttributes(stack);
  try {
    await stack.client.workflow.start<typeof sweepWorkflow>(SWEEP_WORKFLOW_TYPE, {
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
    const missing = isMissingSearchAttribute(err);
    if (missing !== undefined && registration === 'not-permitted') throw missingAttributesError(stack, missing);
    throw err;
  }
}

/** Progress of a sweep's workflow, or undefined when it has never run. */
export async function queryProgress(stack: Stack, sweepId: string): Promise<SweepProgress | undefined> {
  try {
    return await stack.client.workflow.getHandle<typeof sweepWorkflow>(workflowIdFor(sweepId)).query(progressQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}
