/** The sweep workflow's id; in a module of its own so `list` (through status.ts) loads no Temporal client. */
export const workflowIdFor = (sweepId: string) => `sweep-${sweepId}`;
