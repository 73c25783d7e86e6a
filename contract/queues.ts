/** Task queue of the orchestrator worker: sweep workflows and their database activities. */
export const ORCHESTRATOR_QUEUE = 'sweeps';
/** Task queue of the GPU workers unless one is named (sweep/schema.ts's `resources.taskQueue` default is the same). */
export const DEFAULT_GPU_QUEUE = 'gpu';
