import { WorkflowNotFoundError } from '@temporalio/client';
import { workflowIdFor } from '../../contract/workflow-id.ts';
import { requeueUnfinishedTrials } from '../../db/repositories.ts';
import { UserError } from '../errors.ts';
import type { Stack } from './stack.ts';

/**
 * Pause, unpause, cancel and set-parallel act on a sweep's running workflow. Temporal's own answers for the cases a
 * user meets ("workflow not found for ID: sweep-s_…", "workflow execution already completed") name neither the sweep
 * nor what to do; this checks the database and the workflow first and says both in one line.
 */
export async function controlRunningSweep(
  stack: Stack,
  sweep: { nameOrId: string; id: string },
  verb: string,
  act: () => Promise<unknown>,
): Promise<void> {
  const row = await stack.db.prisma.sweep.findUnique({ where: { id: sweep.id }, select: { name: true } });
  if (!row) throw new UserError(`no sweep named ${sweep.nameOrId}; \`dpt-sweep list\` shows the sweeps`);
  const handle = stack.client.workflow.getHandle(workflowIdFor(sweep.id));
  const state = await handle.describe().then(
    (d) => d.status.name,
    (err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    },
  );
  if (state === undefined) throw notOnServer(stack, row.name);
  if (state !== 'RUNNING') throw ended(row.name, state, verb);
  try {
    await act();
  } catch (err) {
    // It ended between the look and the act.
    if (err instanceof WorkflowNotFoundError) throw ended(row.name, 'COMPLETED', verb);
    throw err;
  }
}

/** Resume starts a new workflow, so it refuses while one runs, naming the commands that do apply. */
export function stillRunning(name: string): UserError {
  return new UserError(
    `sweep ${name} is still running; resume is for a sweep that has ended — \`dpt-sweep unpause ${name}\` if it is paused, or \`dpt-sweep cancel ${name}\` first`,
  );
}

function notOnServer(stack: Stack, name: string): UserError {
  const where = `${stack.temporal.address} (namespace ${stack.temporal.namespace})`;
  return new UserError(
    `sweep ${name} has no workflow on Temporal at ${where}; is TEMPORAL_ADDRESS the server it was launched on? \`dpt-sweep resume ${name}\` starts it here`,
  );
}

function ended(name: string, state: string, verb: string): UserError {
  return new UserError(
    `sweep ${name} has already ended (${state.toLowerCase()}); nothing to ${verb} — \`dpt-sweep resume ${name}\` runs its unfinished trials again`,
  );
}

/**
 * Makes a sweep's unfinished trials runnable again: failed and cancelled ones, and "running" ones left behind by a
 * sweep whose workflow is no longer running (a crash or a terminated workflow). Refuses while the workflow runs.
 */
export async function resetForResume(stack: Stack, sweepId: string, name = sweepId): Promise<number> {
  const handle = stack.client.workflow.getHandle(workflowIdFor(sweepId));
  const running = await handle
    .describe()
    .then((d) => d.status.name === 'RUNNING')
    .catch(() => false);
  if (running) throw stillRunning(name);
  return requeueUnfinishedTrials(stack.db.pool, sweepId);
}
