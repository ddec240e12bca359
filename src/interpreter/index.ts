export { start, step, retryDelayMs } from './step.js';
export type { StartOptions } from './step.js';
export { HistoryLog } from './history-log.js';
export { runExecution } from './run.js';
export type { ExecutionResult, RunOptions } from './run.js';
export type * from './types.js';
