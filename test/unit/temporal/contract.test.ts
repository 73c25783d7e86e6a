import { describe, expect, it } from 'vitest';
import { startSweepWorkflow } from '../../../cli/sweeps/launch.ts';
import type { Stack } from '../../../cli/sweeps/stack.ts';
import { DEFAULT_GPU_QUEUE, ORCHESTRATOR_QUEUE } from '../../../contract/queues.ts';
import {
  pauseSignal,
  progressQuery,
  SWEEP_WORKFLOW_TYPE,
  setMaxParallelSignal,
  unpauseSignal,
} from '../../../contract/sweep-workflow.ts';
import { workflowIdFor } from '../../../contract/workflow-id.ts';
import * as workflows from '../../../workflows/index.ts';

/**
 * The names in contract/ are on the wire and in recorded histories (test/fixtures/histories): running sweeps and
 * workers of the previous release answer only to these, so a rename must fail here first.
 */
describe('Temporal contract', () => {
  it('keeps the query, signal, queue and id names of running sweeps', () => {
    expect(progressQuery.name).toBe('progress');
    expect([pauseSignal.name, unpauseSignal.name, setMaxParallelSignal.name]).toEqual([
      'pause',
      'unpause',
      'setMaxParallel',
    ]);
    expect([ORCHESTRATOR_QUEUE, DEFAULT_GPU_QUEUE]).toEqual(['sweeps', 'gpu']);
    expect(workflowIdFor('s_x')).toBe('sweep-s_x');
  });

  it('names a workflow type the worker registers, and launch starts it on the orchestrator queue', async () => {
    expect(SWEEP_WORKFLOW_TYPE).toBe('sweepWorkflow');
    expect(Object.keys(workflows)).toContain(SWEEP_WORKFLOW_TYPE);
    const starts: unknown[][] = [];
    const stack = {
      temporal: { address: 'fake:7233', namespace: 'research' },
      client: {
        connection: {
          operatorService: {
            listSearchAttributes: async () => ({ customAttributes: { SweepId: 2, SweepName: 2 } }),
          },
        },
        workflow: { start: async (...args: unknown[]) => starts.push(args) },
      },
    } as unknown as Stack;
    await startSweepWorkflow(stack, { sweepId: 's_x', name: 'x', maxParallel: 2, taskQueue: 'gpu' });
    expect(starts).toHaveLength(1);
    const [type, options] = starts[0] as [string, { taskQueue: string; workflowId: string; args: unknown[] }];
    expect(type).toBe('sweepWorkflow');
    expect(options).toMatchObject({
      taskQueue: 'sweeps',
      workflowId: 'sweep-s_x',
      args: [{ sweepId: 's_x', maxParallel: 2, taskQueue: 'gpu' }],
    });
  });
});
