import { ServiceError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../cli/errors.ts';
import { startSweepWorkflow } from '../../../cli/sweeps/launch.ts';
import { ensureSearchAttributes, registerCommand } from '../../../cli/sweeps/search-attributes.ts';
import type { Stack } from '../../../cli/sweeps/stack.ts';

/** A gRPC error as @grpc/grpc-js raises it: a code, details and metadata. */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

/** Only what the search-attribute path touches of a Stack: the operator service and workflow.start. */
function fakeStack(
  operator: { list: () => Promise<unknown>; add?: () => Promise<unknown> },
  start: () => Promise<unknown>,
) {
  const added: unknown[] = [];
  const stack = {
    temporal: { address: `fake-${Math.random()}:7233`, namespace: 'research' },
    client: {
      connection: {
        operatorService: {
          listSearchAttributes: operator.list,
          addSearchAttributes: (request: unknown) => {
            added.push(request);
            return operator.add ? operator.add() : Promise.resolve({});
          },
        },
      },
      workflow: { start },
    },
  } as unknown as Stack;
  return { stack, added };
}

describe('search attributes at launch', () => {
  it('adds only the missing ones, as keywords', async () => {
    const { stack, added } = fakeStack(
      { list: async () => ({ customAttributes: { SweepName: 2 }, systemAttributes: { WorkflowId: 2 } }) },
      async () => ({}),
    );
    expect(await ensureSearchAttributes(stack)).toBe('registered');
    expect(added).toEqual([{ namespace: 'research', searchAttributes: { SweepId: 2 } }]);
  });

  it('says in one line what to run when this identity may not register them', async () => {
    const refused = () => Promise.reject(grpcError(7, 'Request unauthorized.'));
    const start = () =>
      Promise.reject(
        new ServiceError('Failed to start Workflow', {
          cause: grpcError(3, 'Namespace research has no mapping defined for search attribute SweepId'),
        }),
      );
    const { stack } = fakeStack({ list: refused }, start);
    expect(await ensureSearchAttributes(stack)).toBe('not-permitted');
    const err = await startSweepWorkflow(stack, { sweepId: 's_x', name: 'x', maxParallel: 1, taskQueue: 'gpu' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    const message = (err as UserError).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(/^Temporal namespace research lacks the sweep search attributes \(.*SweepId\)/);
    expect(message).toContain(registerCommand(stack));
    expect(registerCommand(stack)).toMatch(
      /^temporal operator search-attribute create --address fake-.*:7233 --namespace research --name SweepId --type Keyword --name SweepName --type Keyword$/,
    );
  });
});
