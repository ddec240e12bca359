/**
 * Loop bookkeeping for ListResourceExecutionStatus and ListTaskExecutions: the compiled flow of a
 * template is wrapped so that each loop iteration reports when it starts (its item) and how it
 * ends (Success with the task's Outputs, or Failed with the error). The interpreter stays pure:
 * the wrapped builders only append to an in-memory list, which the runner's `afterStep` hook
 * drains right after the step (same tick) into resource-status rows of the step's commit.
 */
import type { CompiledTemplate } from '../../oos/index.js';
import { batchPause, LOOP_ITEM_KEY, strongerPause } from '../../oos/index.js';
import type { EvalScope } from '../../flow/expr/index.js';
import type { CompiledFlow, FlowNode, MapNode, ScopeGraph, TaskNode } from '../../flow/graph.js';
import { isJsonObject } from '../../shared/json.js';
import type { Json, JsonObject } from '../../shared/json.js';

export interface LoopObservation {
  /** Execution name (= the OOS ExecutionId). */
  execution: string;
  task: string;
  /** Item index in the loop. */
  index: number;
  item: Json;
  kind: 'start' | 'end';
  /** Attempt (0 = first) of a start. */
  retry?: number;
  status?: 'Success' | 'Failed';
  /** Success: the task's Outputs; Failed: `{Error: {Code, Detail}}`. */
  outputs?: JsonObject;
}

/** Collects observations per execution between a step and its commit. */
export class LoopObserver {
  private readonly pending = new Map<string, LoopObservation[]>();

  push(o: LoopObservation): void {
    const list = this.pending.get(o.execution);
    if (list) list.push(o);
    else this.pending.set(o.execution, [o]);
  }

  /** Takes what was observed for an execution since the last drain. */
  drain(execution: string): LoopObservation[] {
    const list = this.pending.get(execution) ?? [];
    this.pending.delete(execution);
    return list;
  }
}

function where(scope: EvalScope): { execution: string; index: number; retry: number; item: Json } {
  const ctx = scope.context();
  const exec = ctx['Execution'];
  const current = ctx['Current'];
  const execution = isJsonObject(exec) && typeof exec['Name'] === 'string' ? exec['Name'] : '';
  const index = isJsonObject(current) && typeof current['Iteration'] === 'number' ? current['Iteration'] : -1;
  const retry = isJsonObject(current) && typeof current['RetryCount'] === 'number' ? current['RetryCount'] : 0;
  const input = scope.input;
  const item = isJsonObject(input) && Object.hasOwn(input, LOOP_ITEM_KEY) ? (input[LOOP_ITEM_KEY] as Json) : null;
  return { execution, index, retry, item };
}

/**
 * The template's flow with every loop's per-item task reporting to `observer`. Builders are
 * wrapped, not changed: what they return is what they returned before.
 */
export function observeLoops(template: CompiledTemplate, observer: LoopObserver): CompiledFlow {
  const flow = template.flow;
  const scopes: ScopeGraph[] = [...flow.scopes];
  const root = flow.root;
  const rootNodes: FlowNode[] = [...root.nodes];
  let changed = false;
  for (const task of template.tasks) {
    if (!task.loop) continue;
    const map = rootNodes[task.node];
    if (!map || map.kind !== 'Map') continue;
    const processor = map.processor;
    const first = processor.nodes[0];
    if (!first || first.kind !== 'Task') continue;
    const name = task.name;
    const original = first;
    const wrapped: TaskNode = {
      ...original,
      parameters: (scope) => {
        const p = original.parameters ? original.parameters(scope) : {};
        const w = where(scope);
        observer.push({ execution: w.execution, task: name, index: w.index, item: w.item, kind: 'start', retry: w.retry });
        return p;
      },
      output: (scope) => {
        const out = original.output ? original.output(scope) : {};
        const w = where(scope);
        const outputs = isJsonObject(out['Outputs'] ?? null) ? (out['Outputs'] as JsonObject) : {};
        observer.push({ execution: w.execution, task: name, index: w.index, item: w.item, kind: 'end', status: 'Success', outputs });
        return out;
      },
      catch: original.catch.map((rule) => ({
        ...rule,
        output: (scope: EvalScope) => {
          const out = rule.output(scope);
          const w = where(scope);
          const error = isJsonObject(out['Error'] ?? null) ? (out['Error'] as JsonObject) : {};
          observer.push({ execution: w.execution, task: name, index: w.index, item: w.item, kind: 'end', status: 'Failed', outputs: { Error: error } });
          return out;
        },
      })),
    };
    const newProcessor: ScopeGraph = { ...processor, nodes: [wrapped, ...processor.nodes.slice(1)] };
    scopes[processor.id] = newProcessor;
    const newMap: MapNode = { ...map, processor: newProcessor };
    rootNodes[task.node] = newMap;
    changed = true;
  }
  if (!changed) return flow;
  const newRoot: ScopeGraph = { ...root, nodes: rootNodes };
  scopes[root.id] = newRoot;
  return { ...flow, root: newRoot, scopes };
}

const withLoopModeCache = new WeakMap<CompiledFlow, Map<string, CompiledFlow>>();

/**
 * The flow with the execution's `LoopMode` (FirstBatchPause / EveryBatchPause) added to the
 * pauses of every loop in Batch mode (its own BatchPauseOption still counts: the stronger wins).
 * Loops in Concurrency mode have no batches and do not pause. Cached per flow and mode.
 */
export function withLoopMode(template: CompiledTemplate, flow: CompiledFlow, loopMode: string): CompiledFlow {
  const pause = batchPause(loopMode);
  if (pause === 'none') return flow;
  let byMode = withLoopModeCache.get(flow);
  const hit = byMode?.get(loopMode);
  if (hit) return hit;
  const scopes: ScopeGraph[] = [...flow.scopes];
  const rootNodes: FlowNode[] = [...flow.root.nodes];
  for (const task of template.tasks) {
    const map = rootNodes[task.node];
    if (!task.loop || !map || map.kind !== 'Map' || !map.batches) continue;
    const batches = map.batches;
    rootNodes[task.node] = {
      ...map,
      batches: (scope, count) => {
        const plan = batches(scope, count);
        return plan ? { ...plan, pause: strongerPause(plan.pause, pause) } : plan;
      },
    };
  }
  const root: ScopeGraph = { ...flow.root, nodes: rootNodes };
  scopes[root.id] = root;
  const wrapped: CompiledFlow = { ...flow, root, scopes };
  if (!byMode) withLoopModeCache.set(flow, (byMode = new Map()));
  byMode.set(loopMode, wrapped);
  return wrapped;
}
