/**
 * The compiled form of a flow: a graph of nodes per scope, with every expression already compiled
 * to a closure. It is not tied to FDL's syntax: any front end (FDL today, Amazon States Language
 * later) compiles to this shape and runs on the same interpreter.
 */
import type { EvalScope, Evaluator } from './expr/index.js';
import type { Json, JsonObject } from '../shared/json.js';

/** Builds a JSON object from the evaluation scope (a compiled constructor). */
export type ObjectBuilder = (scope: EvalScope) => JsonObject;
/** Builds any JSON value from the evaluation scope. */
export type ValueBuilder = (scope: EvalScope) => Json;

export type ExecutionMode = 'Express' | 'Standard';

/** `next` value meaning "this node ends its scope". */
export const END = -1;

export interface RetryPolicy {
  /** Error names this policy matches; empty when `matchAll`. */
  errors: readonly string[];
  matchAll: boolean;
  /** Retries allowed by this policy (not counting the first attempt). */
  maxAttempts: number;
  /** Delay before the first retry. */
  intervalMs: number;
  /** Multiplier applied per further retry (1 = constant). */
  backoffRate: number;
  /** Cap on any single delay; undefined = uncapped. */
  maxDelayMs: number | undefined;
  /** Added per further retry (linear back-off, OOS `DelayType: Linear`); default 0. */
  linearIncrementMs?: number;
}

export interface CatchRule {
  errors: readonly string[];
  matchAll: boolean;
  /** Node index (same scope) that receives control. */
  next: number;
  /** Builds the input of `next`; sees `$Input` (the failed state's input) and `$Context.Current.Error`. */
  output: ObjectBuilder;
}

interface NodeBase {
  name: string;
  /** Index of this node in its scope. */
  index: number;
  /** Replaces the raw input (InputConstructor); undefined = raw input passes through. */
  input: ObjectBuilder | undefined;
  /** Shapes the output (OutputConstructor, sees `$Output`); undefined = default output. */
  output: ObjectBuilder | undefined;
  /** Values merged into `$Global` after the node completes (sees the raw `$Output`). */
  global: ObjectBuilder | undefined;
  /** Next node index in the same scope, or END. */
  next: number;
  retry: readonly RetryPolicy[];
  catch: readonly CatchRule[];
}

export interface PassNode extends NodeBase {
  kind: 'Pass';
}
export interface SucceedNode extends NodeBase {
  kind: 'Succeed';
}
export interface FailNode extends NodeBase {
  kind: 'Fail';
  code: string;
  detail: string;
}
export type TaskMode = 'RequestComplete' | 'WaitForCustomCallback' | 'WaitForSystemCallback';
export interface TaskNode extends NodeBase {
  kind: 'Task';
  action: string;
  mode: TaskMode;
  /** Resolves the Parameters; undefined = no parameters (`{}`). */
  parameters: ValueBuilder | undefined;
  /** Invocation timeout; undefined = none. */
  timeoutMs: number | undefined;
}
export interface WaitNode extends NodeBase {
  kind: 'Wait';
  /** Seconds to wait: a constant or an expression. */
  seconds: number | Evaluator | undefined;
  /** Absolute time (RFC 3339) to wait until: a constant or an expression. */
  until: string | Evaluator | undefined;
  /** Allowed range of `seconds` when it comes from an expression. */
  minSeconds: number;
  maxSeconds: number;
}
export interface ChoiceBranch {
  condition: (scope: EvalScope) => boolean;
  next: number;
}
export interface ChoiceNode extends NodeBase {
  kind: 'Choice';
  branches: readonly ChoiceBranch[];
  default: number;
}
export interface ParallelNode extends NodeBase {
  kind: 'Parallel';
  branches: readonly ScopeGraph[];
}
export interface MapNode extends NodeBase {
  kind: 'Map';
  items: Evaluator;
  processor: ScopeGraph;
  maxConcurrency: number;
  /** Concurrency decided when the Map starts (OOS RateControl from a parameter or a percentage). */
  dynamicConcurrency?: (scope: EvalScope, itemCount: number) => number;
  /**
   * Batches (OOS `RateControl.Mode: Batch`), decided when the Map starts: the items run batch after
   * batch, in order, each batch once the previous one has ended. Undefined: no batches.
   */
  batches?: (scope: EvalScope, itemCount: number) => MapBatches | undefined;
  /**
   * Tolerated failures (OOS `MaxErrors`): iteration results that `failed` says are failures are
   * counted; once there are more than `max` of them no further item starts, and the Map ends when
   * the iterations in flight have ended (its output then has `{}` for the items never started).
   */
  tolerance?: { failed: (result: JsonObject) => boolean; max: (scope: EvalScope, itemCount: number) => number };
}

/**
 * Batch `i` has `sizes[i]` items and runs at most `concurrency[i]` of them at a time; past the end
 * of either list its last entry repeats. `pause`: before which batches the Map stops until a
 * `ResumeMap` input (`first`: the second batch; `every`: each batch after the first).
 */
export interface MapBatches {
  sizes: number[];
  concurrency: number[];
  pause: 'none' | 'first' | 'every';
}

export type FlowNode = PassNode | TaskNode | WaitNode | ChoiceNode | ParallelNode | MapNode | SucceedNode | FailNode;
export type NodeKind = FlowNode['kind'];

export interface ScopeGraph {
  /** Index of this scope in `CompiledFlow.scopes`. */
  id: number;
  start: number;
  nodes: readonly FlowNode[];
}

export interface CompiledFlow {
  name: string;
  mode: ExecutionMode;
  description: string | undefined;
  root: ScopeGraph;
  /** Every scope by id (root is 0). */
  scopes: readonly ScopeGraph[];
  /** The definition as written (for DescribeFlow and history). */
  source: JsonObject;
}
