import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { Json, JsonObject } from '../shared/json.js';

/** Who is asking for a task: carried to actions for naming, logging and mock lookup. */
export interface TaskContext {
  /** Flow (or template) name of the execution. */
  flowName: string;
  /** Execution name. */
  executionName: string;
  /** Name of the Task state (or OOS task) issuing the call. */
  stateName: string;
  /** Retries already made for this state (0 on the first attempt). */
  retryCount: number;
  /** Nesting depth of child executions (0 for a top-level execution). */
  depth: number;
  /** Names of the flows on the current child-execution chain, outermost first (cycle detection). */
  flowChain?: readonly string[];
}

/** One call of an action. */
export interface TaskRequest {
  /** Action name: `Service:Operation` (e.g. `HTTP:Request`) or `Mock`. */
  action: string;
  /** Parameters, already resolved (no `.$` keys left). */
  parameters: Json;
  /** Invocation timeout in milliseconds (the Task `Timeout`); undefined = none. */
  timeoutMs?: number;
  /** Aborts the call (execution cancelled or timed out). Share one signal between an execution's tasks: the engine listens once per signal. */
  signal?: AbortSignal;
  /**
   * Aborts this task alone: the runner sets `abort` when the task is handed to it (the engine
   * does). The run loop shares one `signal` between an execution's tasks and cancels a single task
   * (a Map iteration no longer needed, a failed Parallel branch) only through this handle: a custom
   * TaskRunner that leaves it unset sees those tasks stop only when the execution ends.
   */
  handle?: TaskHandle;
  context: TaskContext;
}

/**
 * A way to abort one task (e.g. a Map iteration no longer needed) without a signal per task. The
 * engine sets `abort` when it takes the task and clears it once the task settled (so that the
 * handle does not keep the settled task and its result alive).
 */
export interface TaskHandle {
  abort?: ((reason: unknown) => void) | undefined;
}

/**
 * What the interpreter needs from the task engine: run one task and settle with its JSON result,
 * or reject with a FlowrunError whose `code` Retry/Catch match.
 */
export type TaskRunner = (request: TaskRequest) => Promise<Json>;

// ---------------------------------------------------------------------------------------------
// Actions (added by the task engine; the exports above are the interpreter's contract).
// ---------------------------------------------------------------------------------------------

/** What an action receives besides its parameters. */
export type ActionRunContext = TaskContext & {
  /** Aborted when the task times out, is cancelled, or the engine closes. Actions must honour it. */
  signal: AbortSignal;
  /** The engine's clock: actions sleep with `clock.sleep(ms, signal)`, never with `setTimeout`. */
  clock: Clock;
  /** Clock time (ms since the epoch) at which the task times out, when it has a timeout. */
  deadline?: number;
  /** The engine's logger, when one was given (log at debug level on the hot path). */
  logger?: Logger;
};

/** One action a Task state can call (`Action: HTTP:Request`). */
export interface ActionDefinition {
  /** `Service:Operation` (or a single word such as `Mock`). */
  name: string;
  description: string;
  /**
   * JSON Schema (draft-07) of the resolved parameters. Used at flow compile time to check the
   * Parameters template (see {@link ActionRegistry.checkParameters}); not applied per call.
   */
  parametersSchema: object;
  /** Whether the action has effects outside flowrun worth an approval (informational). */
  highRisk: boolean;
  /** Runs the action; rejects with a FlowrunError whose `code` Retry/Catch match. */
  run(parameters: Json, ctx: ActionRunContext): Promise<Json>;
}

/** What {@link ChildFlowStarter} is asked to run (an `FnF:StartSyncExecution` task). */
export interface ChildFlowRequest {
  flowName: string;
  input: JsonObject;
  executionName?: string;
  /** Aborted when the parent task is cancelled or times out. */
  signal: AbortSignal;
  /** Depth of the child execution (the parent's depth + 1). */
  depth: number;
  /** Flow names on the chain, outermost first, ending with the child's own name. */
  flowChain: readonly string[];
}

/** How a child execution ended. */
export interface ChildFlowResult {
  /** `Succeeded`, `Failed`, `TimedOut`, `Aborted`, ... */
  status: string;
  output?: JsonObject;
  error?: { Code: string; Detail: string };
}

/**
 * Runs a child flow to completion. Injected into the engine by the composition root so that the
 * engine never imports the interpreter.
 */
export type ChildFlowStarter = (request: ChildFlowRequest) => Promise<ChildFlowResult>;
