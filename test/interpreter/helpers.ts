import { loadFlowText } from '../../src/flow/load.js';
import type { CompiledFlow, ExecutionMode } from '../../src/flow/graph.js';
import type { TaskRequest, TaskRunner } from '../../src/engine/types.js';
import { FlowrunError } from '../../src/shared/errors.js';
import type { Json } from '../../src/shared/json.js';

export function flow(yaml: string, mode?: ExecutionMode): CompiledFlow {
  return loadFlowText(yaml, 'test.yaml', mode ? { mode } : {});
}

export type Handler = (parameters: Json, request: TaskRequest) => Json | Promise<Json>;

/** A task runner answering each action from a table; records every request. */
export function actions(table: Record<string, Handler>): TaskRunner & { requests: TaskRequest[] } {
  const requests: TaskRequest[] = [];
  const run = (async (request: TaskRequest) => {
    requests.push(request);
    const handler = table[request.action.replace(/^Test:/, '')];
    if (!handler) throw new FlowrunError('Test.NoHandler', `no handler for ${request.action}`);
    return handler(request.parameters, request);
  }) as TaskRunner & { requests: TaskRequest[] };
  run.requests = requests;
  return run;
}

/** Fails with `code` the first `times` calls, then returns `result`. */
export function flaky(code: string, times: number, result: Json): Handler {
  let calls = 0;
  return () => {
    calls++;
    if (calls <= times) throw new FlowrunError(code, `attempt ${calls} failed`, { retryable: true });
    return result;
  };
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A flow that is one Map over `$Input.items` whose processor is one Task (`Test:<action>` with `parameters`). */
export function mapOfOneTask(action: string, options: { concurrency?: number; parameters?: Record<string, Json> } = {}): CompiledFlow {
  const task: Record<string, Json> = { Type: 'Task', Name: 'T', Action: `Test:${action}`, End: true };
  if (options.parameters) task['Parameters'] = options.parameters;
  const map: Record<string, Json> = { Type: 'Map', Name: 'M', ItemsPath: '$Input.items', Processor: { StartAt: 'T', States: [task] }, End: true };
  if (options.concurrency !== undefined) map['MaxConcurrency'] = options.concurrency;
  return flow(JSON.stringify({ Type: 'StateMachine', Name: 'map', SpecVersion: 'v1', StartAt: 'M', States: [map] }));
}
