/** The FnF flow service: flows, synchronous express executions, recent executions and their history. */
export {
  DEFAULT_CREATED_FLOW_MODE,
  DEFAULT_EXECUTION_TIMEOUT_MS,
  DEFAULT_EXECUTION_WINDOW,
  DEFAULT_MAX_CONCURRENT_EXECUTIONS,
  DEFAULT_MAX_QUEUED_EXECUTIONS,
  EXECUTION_HISTORY_LIMIT,
  FlowService,
  LIST_EXECUTIONS_LIMIT,
  LIST_FLOWS_LIMIT,
  MAX_DESCRIBE_WAIT_SECONDS,
  MAX_EXECUTION_INPUT_BYTES,
  STANDARD_NOT_SUPPORTED_MESSAGE,
} from './service.js';
export type {
  CreateFlowParams,
  DescribeExecutionParams,
  FlowFileResult,
  FlowServiceOptions,
  GetExecutionHistoryParams,
  ListExecutionsParams,
  ListFlowsParams,
  ServiceStats,
  StartSyncExecutionParams,
  UpdateFlowParams,
} from './service.js';
export { InMemoryFlowStore } from './store.js';
export type { FlowListOptions, FlowStore } from './store.js';
export { ExecutionWindow } from './window.js';
export { API_EVENT_TYPE, API_EVENT_TYPES, toEventViews } from './history.js';
export type { ApiEventType } from './history.js';
export { apiFailure, errorParts, fnfError, FnfErrorCodes, invalidArgument } from './errors.js';
export type { ApiErrorParts, FnfErrorCode } from './errors.js';
export { decodeToken, encodeToken, MAX_TOKEN_LENGTH } from './paging.js';
export { DEFAULT_WATCH_DEBOUNCE_MS, watchFlowsDirectory } from './watch.js';
export type { FlowWatcher, FlowWatchOptions, WatchOutcome } from './watch.js';
export { FLOW_TYPE } from './types.js';
export type * from './types.js';
