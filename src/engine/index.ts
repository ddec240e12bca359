/** The task engine: actions, their registry, runTask (timeout, signal, concurrency), mocks. */
export type {
  ActionDefinition,
  ActionRunContext,
  ChildFlowRequest,
  ChildFlowResult,
  ChildFlowStarter,
  TaskContext,
  TaskListener,
  TaskRequest,
  TaskRunner,
} from './types.js';
export { ActionRegistry, DYNAMIC_KEY_SUFFIX, SCHEMA_MESSAGE_KEYWORD } from './registry.js';
export { createTaskEngine, DEFAULT_FUNCTIONS_DIR, DEFAULT_MAX_CHILD_DEPTH, DEFAULT_MAX_IN_FLIGHT_TASKS } from './engine.js';
export type { TaskEngine, TaskEngineOptions } from './engine.js';
export { EngineErrorNames, httpStatusErrorName } from './errors.js';
export { createFunctionLoader, functionNameFromArn, FUNCTION_EXTENSIONS, FUNCTION_NAME_PATTERN } from './functions.js';
export type { FunctionContext, FunctionHandler, FunctionLoader, FunctionWatchOptions, LoadedFunction } from './functions.js';
export { registerBuiltinActions } from './actions/index.js';
export type { BuiltinActionsOptions } from './actions/index.js';
export { createHttpRequestAction, HTTP_METHODS, HTTP_REQUEST_ACTION, MAX_HTTP_RESPONSE_BYTES } from './actions/http.js';
export type { HttpRequestActionOptions } from './actions/http.js';
export { createInvokeFunctionAction, INVOKE_FUNCTION_ACTION } from './actions/fc.js';
export { createStartSyncExecutionAction, START_SYNC_EXECUTION_ACTION } from './actions/fnf.js';
export type { StartSyncExecutionOptions } from './actions/fnf.js';
export { createMockAction, MOCK_ACTION } from './actions/mock.js';
export {
  checkMockConfig,
  createMockTaskRunner,
  diffJson,
  listTestCases,
  loadMockConfig,
  MockConfigError,
  mockConfigSchema,
  parseMockConfig,
} from './mock-config.js';
export type { MockConfig, MockedError, MockedResponse, MockFlowConfig, MockTaskRunner, MockTestCase } from './mock-config.js';
