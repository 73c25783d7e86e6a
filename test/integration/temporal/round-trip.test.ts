import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { expect, inject, it } from 'vitest';
import * as activities from './fixtures/round-trip-activities.ts';

it('runs a workflow and its activities on the real Temporal server', async () => {
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const taskQueue = `round-trip-${process.pid}-${Date.now()}`;
  const workerConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: workerConnection,
    namespace,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./fixtures/round-trip-workflow.ts', import.meta.url)),
    activities,
  });
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection, namespace });
    const result = await worker.runUntil(
      client.workflow.execute('roundTripWorkflow', {
        taskQueue,
        workflowId: `${taskQueue}-wf`,
        args: [['eurosat', 'dtd', 'caltech101']],
      }),
    );
    expect(result).toEqual(['eurosat: 1 shots', 'dtd: 2 shots', 'caltech101: 4 shots']);
    const history = await client.workflow.getHandle(`${taskQueue}-wf`).fetchHistory();
    const completed = history.events?.filter((e) => e.activityTaskCompletedEventAttributes) ?? [];
    expect(completed).toHaveLength(3);
  } finally {
    await connection.close();
    await workerConnection.close();
  }
});
