// The worker bundles this file: every workflow type dpt-sweep registers is exported here.
export { sweepWorkflow } from './sweep.ts';
