/** The sweep workflow's id; a module without imports, so a caller loads no Temporal SDK through it. */
export const workflowIdFor = (sweepId: string) => `sweep-${sweepId}`;
