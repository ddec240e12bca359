/**
 * Composition root: builds the clock, the task engine and the flow catalog from configuration,
 * and wires child flows (`FnF:StartSyncExecution`) back to the run loop.
 */
import { createTaskEngine } from './engine/index.js';
import type { TaskEngine } from './engine/index.js';
import { FlowCatalog } from './flow/catalog.js';
import type { CompileOptions } from './flow/compile.js';
import type { CompiledFlow } from './flow/graph.js';
import { runExecution } from './interpreter/run.js';
import type { ExecutionResult, RunOptions } from './interpreter/run.js';
import { systemClock } from './shared/clock.js';
import type { Clock } from './shared/clock.js';
import type { JsonObject } from './shared/json.js';

export const DEFAULT_FLOWS_DIR = 'flows';

export interface RuntimeConfig {
  clock?: Clock;
  /** Folder of local functions for `FC:InvokeFunction` (default flows/functions); `false`: disabled. */
  functionsDir?: string | false;
  /** What `FC.FunctionsDisabled` says when `functionsDir` is false. */
  disabledFunctionsReason?: string;
  /** Global limit on tasks in flight. */
  maxInFlightTasks?: number;
}

export interface Runtime {
  clock: Clock;
  engine: TaskEngine;
  flows: FlowCatalog;
  /** Compile options that check Task actions against the engine's registry. */
  compileOptions: CompileOptions;
  run(flow: CompiledFlow, input: JsonObject, options?: Omit<RunOptions, 'tasks' | 'clock'>): Promise<ExecutionResult>;
  close(): Promise<void>;
}

export function createRuntime(config: RuntimeConfig = {}): Runtime {
  const clock = config.clock ?? systemClock;
  const flows = new FlowCatalog();
  const engine: TaskEngine = createTaskEngine({
    clock,
    ...(config.functionsDir !== undefined && config.functionsDir !== '' ? { functionsDir: config.functionsDir } : {}),
    ...(config.disabledFunctionsReason !== undefined ? { disabledFunctionsReason: config.disabledFunctionsReason } : {}),
    ...(config.maxInFlightTasks ? { maxInFlight: config.maxInFlightTasks } : {}),
    startChildFlow: async ({ flowName, input, executionName, signal, depth, flowChain }) => {
      const child = flows.get(flowName);
      if (!child) return { status: 'Failed', error: { Code: 'FlowNotExists', Detail: `no flow named '${flowName}'` } };
      const r = await runExecution(child, input ?? {}, {
        tasks: engine.runTask,
        clock,
        ...(signal ? { signal } : {}),
        ...(executionName ? { executionName } : {}),
        depth,
        ...(flowChain ? { flowChain } : {}),
      });
      return { status: r.status, ...(r.output ? { output: r.output } : {}), ...(r.error ? { error: r.error } : {}) };
    },
  });
  const compileOptions: CompileOptions = { checkTask: (action, parameters) => engine.registry.checkParameters(action, parameters) };
  return {
    clock,
    engine,
    flows,
    compileOptions,
    // The options go last: V8 (Node 20) adds properties to an object made by a spread about 1 µs
    // each, slower than the whole run of a short flow. They hold no `tasks` or `clock` (their type).
    run: (flow, input, options = {}) => runExecution(flow, input, { tasks: engine.runTask, clock, ...options }),
    close: () => engine.close(),
  };
}

