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
   * does). The run loop cancels a single task (a Map iteration no longer needed, a failed Parallel
   * branch) only through this handle. With a runner that has `start` (the engine's), it also stops
   * every task through its handle when the execution ends, and gives no `signal`; a custom
   * TaskRunner without `start` gets one `signal` shared by the execution's tasks, aborted when the
   * execution ends (leaving the handle unset, its tasks stop only then).
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

/** Told the outcome of one task, once (see {@link TaskRunner.start}). */
export interface TaskListener {
  succeeded(output: Json): void;
  failed(error: unknown): void;
}

/**
 * What the interpreter needs from the task engine: run one task and settle with its JSON result,
 * or reject with a FlowrunError whose `code` Retry/Catch match.
 *
 * A runner may also offer `start`: the same task, its outcome told to a listener instead of a
 * returned promise (no promise and no callbacks per task: the engine's runner has it, and the
 * in-memory run loop uses it when present). The listener may be told before `start` returns (a
 * task refused at once), and is told exactly once.
 */
export type TaskRunner = ((request: TaskRequest) => Promise<Json>) & {
  start?: (request: TaskRequest, listener: TaskListener) => void;
};

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
  /**
   * Optional callback form of {@link run}: the same call, its outcome told to `listener` (once,
   * possibly before `start` returns) instead of settling a promise. The engine uses it when
   * present: no promise and no callbacks of the engine's own per task.
   */
  start?(parameters: Json, ctx: ActionRunContext, listener: TaskListener): void;
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
