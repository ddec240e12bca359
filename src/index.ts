/** flowrun's public library surface. */
export { createRuntime } from './runtime.js';
export type { Runtime, RuntimeConfig } from './runtime.js';
export { loadFlowText, loadFlowFile, compileFlow, validateDefinition, formatProblems, parseDefinitionText, FlowDefinitionError, FlowCatalog } from './flow/index.js';
export type { CompiledFlow, CompileOptions, ExecutionMode, Problem } from './flow/index.js';
export { HistoryLog, runExecution, start, step } from './interpreter/index.js';
export type { Command, ExecutionResult, ExecutionState, HistoryEvent, RunOptions, StepInput, StepResult } from './interpreter/index.js';
export { createTaskEngine, ActionRegistry } from './engine/index.js';
export type { ActionDefinition, TaskEngine } from './engine/index.js';
export type { TaskRequest, TaskRunner, TaskListener, TaskContext } from './engine/types.js';
export { ManualClock, systemClock } from './shared/clock.js';
export type { Clock } from './shared/clock.js';
export { ErrorNames, FlowrunError } from './shared/errors.js';
export type { ErrorInfo } from './shared/errors.js';
export type { Json, JsonObject } from './shared/json.js';
export { createApp, startServer, API_ERRORS } from './api/index.js';
export { FlowService, InMemoryFlowStore } from './fnf/index.js';
export type { FlowStore } from './fnf/index.js';
