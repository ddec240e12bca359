/**
 * The pure interpreter step: (compiled flow, execution state, input, now) → (next state, commands,
 * history events). It never sleeps, calls actions, reads the clock or touches storage; runners do.
 *
 * The state passed in is never mutated: frames on the path to the frame an input concerns are
 * copied first (copy-on-write), frames created during the step are fresh — unless the caller asks
 * for `inPlace` (the in-memory run loop, which never looks back). Everything a step leaves behind
 * is plain JSON; the per-state fields a step clears on every transition (`input`, `waitId`,
 * `ruleRetries`) are set to undefined, which JSON leaves out, rather than deleted: deleting them
 * put every frame into V8's slow dictionary mode (a third of the run loop's time).
 */
import type { EvalScope } from '../flow/expr/index.js';
import { END } from '../flow/graph.js';
import type { CompiledFlow, FlowNode, MapBatches, MapNode, ParallelNode, RetryPolicy, ScopeGraph, WaitNode } from '../flow/graph.js';
import { ErrorNames, FlowrunError, toErrorInfo } from '../shared/errors.js';
import type { ErrorInfo } from '../shared/errors.js';
import { isJsonObject, jsonFitsIn, jsonFitsTightly, jsonSizeBound, jsonTypeName } from '../shared/json.js';
import type { Json, JsonObject } from '../shared/json.js';
import {
  MAX_TRANSITIONS_PER_EXECUTION,
  MAX_GLOBAL_KEY_BYTES,
  MAX_GLOBAL_VALUE_BYTES,
  MAX_STATE_IO_BYTES,
} from '../shared/limits.js';
import type { HistoryLog } from './history-log.js';
import type {
  Command,
  ExecutionState,
  Frame,
  HistoryEvent,
  HistoryEventType,
  StepInput,
  StepOptions,
  StepResult,
} from './types.js';

interface Ctx {
  flow: CompiledFlow;
  state: ExecutionState;
  now: number;
  commands: Command[];
  events: HistoryEvent[];
  keep: boolean;
  /** Where kept events go instead of `events` (see StepOptions.log). */
  log: HistoryLog | undefined;
  /** Set when the event cap is passed: every frame stops where it is. */
  halted: boolean;
  /** The task result this step measured, and the bound found (a Map item's result is counted once). */
  sized: Json | undefined;
  sizedBytes: number;
}

const NO_PATH: readonly number[] = [];

/** The commands of a step that has none (most steps have one or none): shared, frozen. */
const NO_COMMANDS = Object.freeze([]) as unknown as Command[];

/** The events of a step that keeps none (they are only counted): shared, frozen. */
const NO_EVENTS = Object.freeze([]) as unknown as HistoryEvent[];

/**
 * Adds a command: the first in an array of exactly one (an empty array grown by push gets room
 * for 17, and a step makes one array).
 */
function addCommand(x: Ctx, command: Command): void {
  if (x.commands === NO_COMMANDS) x.commands = [command];
  else x.commands.push(command);
}

/** The path of child `i` of the frame at `path` (a literal for a child of the root: no spread). */
function childPath(path: readonly number[], i: number): number[] {
  if (path.length === 0) return [i];
  const p = path.slice();
  p.push(i);
  return p;
}

function emit(x: Ctx, type: HistoryEventType, step?: string, path?: readonly number[], detail?: JsonObject): void {
  const id = ++x.state.eventCount;
  if (!x.keep) return;
  if (x.log) {
    x.log.push(id, type, x.now, step, path !== undefined && path.length > 0 ? path : undefined, detail);
    return;
  }
  // Most events are a step's with no path or detail: made whole by one literal, without adding a
  // property afterwards (a new hidden class and a property store per event, most of the cost of
  // keeping the history of a short flow).
  const event: HistoryEvent = step === undefined ? { id, type, time: x.now } : { id, type, time: x.now, step };
  if (path !== undefined && path.length > 0) event.path = path;
  if (detail !== undefined) event.detail = detail;
  x.events.push(event);
}

/** The `$Input`/`$Output`/`$Global`/`$Context` seen by a node's expressions. */
class NodeScope implements EvalScope {
  private ctx: JsonObject | undefined;
  readonly global: JsonObject;

  constructor(
    private readonly x: Ctx,
    private readonly node: FlowNode,
    private readonly frame: Frame,
    readonly input: Json,
    readonly output?: Json,
    private readonly error?: ErrorInfo,
    private readonly taskToken?: string,
  ) {
    this.global = x.state.global;
  }

  context(): JsonObject {
    if (this.ctx) return this.ctx;
    const s = this.x.state;
    const current: JsonObject = { Name: this.node.name, Input: this.input, RetryCount: this.frame.retries };
    if (this.output !== undefined) current['Output'] = this.output;
    if (this.error) current['Error'] = { Code: this.error.Code, Detail: this.error.Detail };
    if (this.frame.iteration !== undefined) current['Iteration'] = this.frame.iteration;
    if (this.taskToken !== undefined) current['TaskToken'] = this.taskToken;
    this.ctx = {
      Execution: { Name: s.executionName, Input: s.executionInput, StartTime: new Date(s.startedAt).toISOString() },
      Current: current,
    };
    return this.ctx;
  }
}

/** State I/O must be a JSON object within the size limit. */
function checkObject(value: Json, what: string, stateName: string): JsonObject {
  if (!isJsonObject(value)) {
    throw new FlowrunError(ErrorNames.Runtime, `the ${what} of state '${stateName}' must be a JSON object, not ${jsonTypeName(value)}`);
  }
  if (!jsonFitsIn(value, MAX_STATE_IO_BYTES)) {
    throw new FlowrunError(ErrorNames.DataLimitExceeded, `the ${what} of state '${stateName}' is larger than ${MAX_STATE_IO_BYTES} bytes`);
  }
  return value;
}

/**
 * {@link checkObject} for a task's result, with the tight size bound: the bound is kept in the
 * step, and a Map whose item ends with this result adds it up without measuring it again.
 */
function checkTaskResult(x: Ctx, value: Json, stateName: string): JsonObject {
  if (!isJsonObject(value)) return checkObject(value, 'task result', stateName);
  const bytes = jsonSizeBound(value, MAX_STATE_IO_BYTES);
  if (bytes > MAX_STATE_IO_BYTES) return checkObject(value, 'task result', stateName);
  x.sized = value;
  x.sizedBytes = bytes;
  return value;
}

/**
 * Like {@link checkObject}, for the output of a Map whose frame has no `resultBytes` (a state saved
 * before it was kept) (every item's result in one object): its size is
 * first bounded tightly (exact for ASCII text and integers, see `jsonFitsTightly`), so the output
 * of 1,000 small results (~40 KB, where jsonFitsIn's cheap bound passes 64 KiB) is not turned into
 * JSON text just to be measured (~0.2 ms per Map of the fan-out benchmark). Task results keep
 * jsonFitsIn: for one small object its bound is enough and cheaper.
 */
function checkMapOutput(value: Json, what: string, stateName: string): JsonObject {
  if (isJsonObject(value) && jsonFitsTightly(value, MAX_STATE_IO_BYTES)) return value;
  return checkObject(value, what, stateName);
}

/**
 * A frame with every field a step sets on its way through a Task laid out at once (undefined until
 * used, which JSON leaves out): adding them one by one moved each frame through five hidden classes,
 * and the stores stayed generic ICs (a Map makes a frame per item).
 */
function newFrame(scope: ScopeGraph, raw: JsonObject, iteration?: number): Frame {
  return {
    scope: scope.id,
    node: scope.start,
    phase: 'enter',
    raw,
    retries: 0,
    iteration,
    ruleRetries: undefined,
    input: undefined,
    waitId: undefined,
    output: undefined,
  };
}

function nodeOf(x: Ctx, frame: Frame): FlowNode {
  const node = x.flow.scopes[frame.scope]?.nodes[frame.node];
  if (!node) throw new Error(`flowrun: no node ${frame.node} in scope ${frame.scope}`);
  return node;
}

const isTerminal = (frame: Frame): boolean => frame.phase === 'done' || frame.phase === 'failed';

/** Drives a frame until it blocks (task, timer, children) or its scope ends. */
function runFrame(x: Ctx, frame: Frame, path: readonly number[]): void {
  while (!x.halted) {
    if (frame.phase === 'enter') enter(x, frame, path);
    else if (frame.phase === 'exec') exec(x, frame, nodeOf(x, frame), path);
    else return;
  }
}

function enter(x: Ctx, frame: Frame, path: readonly number[]): void {
  const node = nodeOf(x, frame);
  if (++x.state.transitions > MAX_TRANSITIONS_PER_EXECUTION) {
    x.halted = true;
    return;
  }
  emit(x, 'StepEntered', node.name, path);
  frame.retries = 0;
  frame.ruleRetries = undefined;
  let input = frame.raw;
  if (node.input) {
    try {
      input = checkObject(node.input(new NodeScope(x, node, frame, frame.raw)), 'input', node.name);
    } catch (err) {
      frame.input = frame.raw;
      fail(x, frame, node, path, toErrorInfo(err, ErrorNames.Runtime));
      return;
    }
  }
  frame.input = input;
  exec(x, frame, node, path);
}

/** Starts the work of the node the frame is on (again, after a retry). */
function exec(x: Ctx, frame: Frame, node: FlowNode, path: readonly number[]): void {
  const input = frame.input ?? frame.raw;
  frame.phase = 'exec';
  try {
    switch (node.kind) {
      case 'Pass':
      case 'Succeed':
        complete(x, frame, node, path, input);
        return;
      case 'Fail':
        fail(x, frame, node, path, { Code: node.code, Detail: node.detail });
        return;
      case 'Choice': {
        const scope = new NodeScope(x, node, frame, input);
        let target = node.default;
        for (const branch of node.branches) {
          if (branch.condition(scope)) {
            target = branch.next;
            break;
          }
        }
        emit(x, 'StepSucceeded', node.name, path);
        frame.node = target;
        frame.raw = input;
        frame.phase = 'enter';
        return;
      }
      case 'Task': {
        const id = x.state.seq + 1;
        const taskToken = node.mode === 'RequestComplete' ? undefined : taskTokenOf(x.state, id);
        const parameters = node.parameters ? node.parameters(new NodeScope(x, node, frame, input, undefined, undefined, taskToken)) : {};
        x.state.seq = id;
        frame.phase = 'task';
        frame.waitId = id;
        // one literal per shape (a spread of the optional token made every command on the slow path)
        addCommand(
          x,
          taskToken === undefined
            ? { type: 'RunTask', path, id, action: node.action, mode: node.mode, parameters, timeoutMs: node.timeoutMs, stateName: node.name, retryCount: frame.retries }
            : { type: 'RunTask', path, id, action: node.action, mode: node.mode, taskToken, parameters, timeoutMs: node.timeoutMs, stateName: node.name, retryCount: frame.retries },
        );
        emit(x, 'TaskScheduled', node.name, path, x.keep ? { Action: node.action, Parameters: parameters } : undefined);
        return;
      }
      case 'Wait':
        startWait(x, frame, node, path, input);
        return;
      case 'Parallel':
        startParallel(x, frame, node, path, input);
        return;
      case 'Map':
        startMap(x, frame, node, path, input);
        return;
    }
  } catch (err) {
    fail(x, frame, node, path, toErrorInfo(err, ErrorNames.Runtime));
  }
}

/** Token of a callback task: the execution's random seed and the task id. */
function taskTokenOf(state: ExecutionState, id: number): string {
  return `${state.tokenSeed ?? state.executionName}.${id}`;
}

function startTimer(x: Ctx, frame: Frame, path: readonly number[], at: number, phase: 'wait' | 'retry'): void {
  const id = ++x.state.seq;
  frame.phase = phase;
  frame.waitId = id;
  addCommand(x, { type: 'StartTimer', path, id, at });
}

function startWait(x: Ctx, frame: Frame, node: WaitNode, path: readonly number[], input: JsonObject): void {
  let at: number;
  const scope = new NodeScope(x, node, frame, input);
  if (node.seconds !== undefined) {
    const seconds = typeof node.seconds === 'number' ? node.seconds : node.seconds(scope);
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < node.minSeconds || seconds > node.maxSeconds) {
      throw new FlowrunError(
        ErrorNames.Runtime,
        `Wait state '${node.name}': Seconds must be a number from ${node.minSeconds} to ${node.maxSeconds}, got ${JSON.stringify(seconds)}`,
      );
    }
    at = x.now + seconds * 1000;
  } else {
    const until = typeof node.until === 'string' ? node.until : node.until ? node.until(scope) : null;
    const time = typeof until === 'string' ? Date.parse(until) : Number.NaN;
    if (Number.isNaN(time)) {
      throw new FlowrunError(ErrorNames.Runtime, `Wait state '${node.name}': UntilDateTime must be an RFC 3339 date-time, got ${JSON.stringify(until)}`);
    }
    at = Math.max(x.now, time);
  }
  emit(x, 'WaitStarted', node.name, path, x.keep ? { Until: new Date(at).toISOString() } : undefined);
  startTimer(x, frame, path, at, 'wait');
}

function startParallel(x: Ctx, frame: Frame, node: ParallelNode, path: readonly number[], input: JsonObject): void {
  const n = node.branches.length;
  frame.kids = new Array<Frame | null>(n).fill(null);
  frame.results = new Array<JsonObject | null>(n).fill(null);
  frame.running = 0;
  frame.phase = 'children';
  for (let i = 0; i < n && frame.phase === 'children' && !x.halted; i++) {
    const kid = newFrame(node.branches[i] as ScopeGraph, input);
    frame.kids[i] = kid;
    frame.running++;
    const kidPath = childPath(path, i);
    emit(x, 'BranchEntered', node.name, kidPath);
    runFrame(x, kid, kidPath);
    if (isTerminal(kid)) settleChild(x, frame, node, path, i);
  }
  finishChildren(x, frame, node, path);
}

function startMap(x: Ctx, frame: Frame, node: MapNode, path: readonly number[], input: JsonObject): void {
  const items = node.items(new NodeScope(x, node, frame, input));
  if (!Array.isArray(items)) {
    throw new FlowrunError(ErrorNames.Runtime, `Map state '${node.name}': ItemsPath must evaluate to an array, got ${jsonTypeName(items)}`);
  }
  frame.items = items;
  if (node.dynamicConcurrency) {
    frame.limit = Math.max(1, Math.floor(node.dynamicConcurrency(new NodeScope(x, node, frame, input), items.length)));
  }
  const batches = node.batches?.(new NodeScope(x, node, frame, input), items.length);
  if (batches) planBatches(frame, batches);
  if (node.tolerance) {
    frame.tolerated = Math.max(0, Math.floor(node.tolerance.max(new NodeScope(x, node, frame, input), items.length)));
    frame.failures = 0;
  }
  frame.nextItem = 0;
  frame.running = 0;
  frame.kids = new Array<Frame | null>(items.length).fill(null);
  frame.results = new Array<JsonObject | null>(items.length).fill(null);
  frame.resultBytes = 0;
  frame.phase = 'children';
  pumpMap(x, frame, node, path);
  finishChildren(x, frame, node, path);
}

/** Map item → iteration input: objects as they are, anything else as `{"Item": value}`. */
function iterationInput(item: Json | undefined): JsonObject {
  return isJsonObject(item) ? item : { Item: item ?? null };
}

/** The batch plan in the frame: as given (short lists, the last entry repeats), plus where it pauses. */
function planBatches(frame: Frame, plan: MapBatches): void {
  frame.batchSizes = plan.sizes.length > 0 ? plan.sizes.map((n) => Math.max(1, Math.floor(n))) : [Number.MAX_SAFE_INTEGER];
  frame.batchLimits = plan.concurrency.length > 0 ? plan.concurrency.map((n) => Math.max(1, Math.floor(n))) : [Number.MAX_SAFE_INTEGER];
  frame.batch = 0;
  if (plan.pause !== 'none') frame.batchPause = plan.pause;
}

/** Entry `i` of a list whose last entry repeats. */
function repeatLast(list: readonly number[], i: number): number {
  return list[Math.min(i, list.length - 1)] ?? 1;
}

/** Index of the first item of batch `b` (sizes repeat their last entry). */
function batchStart(sizes: readonly number[], b: number): number {
  let start = 0;
  const n = Math.min(b, sizes.length);
  for (let i = 0; i < n; i++) start += sizes[i] ?? 1;
  if (b > sizes.length) start += (b - sizes.length) * repeatLast(sizes, sizes.length - 1);
  return start;
}

/** How many batches `count` items make. */
export function batchCount(sizes: readonly number[], count: number): number {
  let n = 0;
  while (batchStart(sizes, n) < count) n++;
  return n;
}

/**
 * The end (exclusive) of the items that may start now and the concurrency: the whole list, or, in
 * batches, the current batch — moving on to the next one once the current one has ended, unless
 * the Map pauses before it (then nothing may start until a `ResumeMap`).
 */
function mapWindow(frame: Frame, node: MapNode, count: number): { end: number; limit: number } {
  const sizes = frame.batchSizes;
  if (!sizes) return { end: count, limit: frame.limit ?? node.maxConcurrency }; // (pumpMap does this itself)
  let b = frame.batch ?? 0;
  let end = Math.min(count, batchStart(sizes, b + 1));
  while (end < count && (frame.nextItem ?? 0) >= end && (frame.running ?? 0) === 0) {
    b++;
    frame.batch = b;
    end = Math.min(count, batchStart(sizes, b + 1));
    if (frame.batchPause === 'every' || (frame.batchPause === 'first' && b === 1)) {
      frame.paused = b;
      return { end: 0, limit: 0 };
    }
  }
  return { end, limit: repeatLast(frame.batchLimits ?? [], b) };
}

/** Starts Map iterations while the concurrency limit (and the batch, and the failure tolerance) allows. */
function pumpMap(x: Ctx, frame: Frame, node: MapNode, path: readonly number[]): void {
  const items = frame.items ?? [];
  const kids = frame.kids ?? [];
  for (;;) {
    if (frame.phase !== 'children' || x.halted || frame.stopped || frame.paused !== undefined) return;
    let end = items.length;
    let limit = frame.limit ?? node.maxConcurrency;
    if (frame.batchSizes) ({ end, limit } = mapWindow(frame, node, items.length));
    if ((frame.running ?? 0) >= limit || (frame.nextItem ?? 0) >= end) return;
    const i = frame.nextItem ?? 0;
    frame.nextItem = i + 1;
    const kid = newFrame(node.processor, iterationInput(items[i]), i);
    kids[i] = kid;
    frame.running = (frame.running ?? 0) + 1;
    const kidPath = childPath(path, i);
    emit(x, 'IterationEntered', node.name, kidPath);
    runFrame(x, kid, kidPath);
    if (isTerminal(kid)) settleChild(x, frame, node, path, i);
  }
}

/** A child frame of a Parallel/Map frame has ended: collect its result or fail the parent. */
function settleChild(x: Ctx, frame: Frame, node: ParallelNode | MapNode, path: readonly number[], index: number): void {
  const kids = frame.kids ?? [];
  const kid = kids[index];
  if (!kid) return;
  kids[index] = null;
  frame.running = (frame.running ?? 1) - 1;
  // the path is built only for a kept event (emit counts the others without reading it)
  emit(x, node.kind === 'Map' ? 'IterationExited' : 'BranchExited', node.name, x.keep ? childPath(path, index) : undefined);
  if (kid.phase === 'failed') {
    for (const other of kids) if (other) cancelFrame(x, other);
    clearChildren(frame);
    fail(x, frame, node, path, kid.error ?? { Code: ErrorNames.Runtime, Detail: 'a branch failed' });
    return;
  }
  const output = kid.output ?? {};
  if (frame.results) frame.results[index] = output;
  // just made, the result is at hand: bounding it now spares a walk of every result at the end
  if (node.kind === 'Map' && frame.resultBytes !== undefined) {
    frame.resultBytes += (output === x.sized ? x.sizedBytes : jsonSizeBound(output, MAX_STATE_IO_BYTES)) + 1;
  }
  if (node.kind === 'Map' && node.tolerance && node.tolerance.failed(output)) {
    frame.failures = (frame.failures ?? 0) + 1;
    if (frame.failures > (frame.tolerated ?? 0)) frame.stopped = true;
  }
}

/** When no child is left to start or running, completes the Parallel/Map node. */
function finishChildren(x: Ctx, frame: Frame, node: ParallelNode | MapNode, path: readonly number[]): void {
  if (frame.phase !== 'children' || x.halted || (frame.running ?? 0) > 0) return;
  if (node.kind === 'Map' && !frame.stopped && (frame.nextItem ?? 0) < (frame.items?.length ?? 0)) return;
  const results = frame.results ?? [];
  let output: JsonObject;
  if (node.kind === 'Map') {
    output = { Items: results.map((r) => r ?? {}) };
  } else {
    output = {};
    results.forEach((r, i) => {
      output[`Branch${i}`] = r ?? {};
    });
  }
  const bound = node.kind === 'Map' ? mapOutputBound(frame) : undefined;
  clearChildren(frame);
  try {
    let checked: JsonObject;
    if (bound !== undefined) {
      // within the bound: fits; past it, checkObject's cheap bound passes the limit at once and
      // the JSON text is measured (a tight walk would find the bound already known)
      checked = bound <= MAX_STATE_IO_BYTES ? output : checkObject(output, 'output', node.name);
    } else {
      checked = node.kind === 'Map' ? checkMapOutput(output, 'output', node.name) : checkObject(output, 'output', node.name);
    }
    complete(x, frame, node, path, checked);
  } catch (err) {
    fail(x, frame, node, path, toErrorInfo(err, ErrorNames.Runtime));
  }
}

/**
 * An upper bound of the size of a finished Map's output, `{"Items":[...]}`, from the bounds of the
 * results collected (`resultBytes`) and 3 bytes (`{}` and a comma) per item that has none;
 * undefined when the frame has no `resultBytes` (then the output is walked).
 */
function mapOutputBound(frame: Frame): number | undefined {
  const results = frame.results;
  if (frame.resultBytes === undefined || !results) return undefined;
  let missing = 0;
  for (let i = 0; i < results.length; i++) if (results[i] === null) missing++;
  return '{"Items":[]}'.length + frame.resultBytes + 3 * missing;
}

function clearChildren(frame: Frame): void {
  delete frame.kids;
  delete frame.results;
  delete frame.resultBytes;
  delete frame.items;
  delete frame.nextItem;
  delete frame.running;
  delete frame.limit;
  delete frame.batchSizes;
  delete frame.batchLimits;
  delete frame.batch;
  delete frame.batchPause;
  delete frame.paused;
  delete frame.released;
  delete frame.tolerated;
  delete frame.failures;
  delete frame.stopped;
}

/** Asks the runner to drop every task and timer a frame (and its children) still waits for. */
function cancelFrame(x: Ctx, frame: Frame): void {
  if ((frame.phase === 'task' || frame.phase === 'wait' || frame.phase === 'retry') && frame.waitId !== undefined) {
    addCommand(x, { type: 'Cancel', id: frame.waitId });
  }
  if (frame.kids) for (const kid of frame.kids) if (kid) cancelFrame(x, kid);
}

/** The node produced `raw`: shape the output, update globals, move on or end the scope. */
function complete(x: Ctx, frame: Frame, node: FlowNode, path: readonly number[], raw: JsonObject): void {
  let output = raw;
  if (node.output || node.global) {
    const scope = new NodeScope(x, node, frame, frame.input ?? frame.raw, raw);
    try {
      if (node.output) output = checkObject(node.output(scope), 'output', node.name);
      if (node.global) x.state.global = mergeGlobals(x.state.global, node.global(scope), node.name);
    } catch (err) {
      fail(x, frame, node, path, toErrorInfo(err, ErrorNames.Runtime));
      return;
    }
  }
  emit(x, 'StepSucceeded', node.name, path);
  frame.input = undefined;
  frame.waitId = undefined;
  if (node.kind === 'Succeed' || node.next === END) {
    frame.output = output;
    frame.phase = 'done';
    return;
  }
  frame.node = node.next;
  frame.raw = output;
  frame.phase = 'enter';
}

function mergeGlobals(global: JsonObject, update: JsonObject, stateName: string): JsonObject {
  for (const key in update) {
    if (Buffer.byteLength(key, 'utf8') > MAX_GLOBAL_KEY_BYTES) {
      throw new FlowrunError(ErrorNames.DataLimitExceeded, `state '${stateName}': global key '${key.slice(0, 40)}…' is longer than ${MAX_GLOBAL_KEY_BYTES} bytes`);
    }
    if (!jsonFitsIn(update[key] as Json, MAX_GLOBAL_VALUE_BYTES)) {
      throw new FlowrunError(ErrorNames.DataLimitExceeded, `state '${stateName}': global '${key}' is larger than ${MAX_GLOBAL_VALUE_BYTES} bytes`);
    }
  }
  return { ...global, ...update };
}

const matches = (rule: { errors: readonly string[]; matchAll: boolean }, code: string): boolean =>
  rule.matchAll || rule.errors.includes(code);

/** Delay before retry number `attempt` (1-based) under `rule`. */
export function retryDelayMs(rule: RetryPolicy, attempt: number): number {
  const delay = rule.intervalMs * Math.pow(rule.backoffRate, attempt - 1) + (rule.linearIncrementMs ?? 0) * (attempt - 1);
  return rule.maxDelayMs === undefined ? delay : Math.min(delay, rule.maxDelayMs);
}

/** The node failed with `error`: retry, catch, or fail the frame. First matching rule wins. */
function fail(x: Ctx, frame: Frame, node: FlowNode, path: readonly number[], error: ErrorInfo): void {
  emit(x, 'StepFailed', node.name, path, { Code: error.Code, Detail: error.Detail });
  frame.waitId = undefined;
  const limitError = error.Code === ErrorNames.EventLimitExceeded;
  for (let r = 0; r < node.retry.length && !limitError; r++) {
    const rule = node.retry[r] as RetryPolicy;
    if (!matches(rule, error.Code)) continue;
    const used = frame.ruleRetries?.[r] ?? 0;
    if (used >= rule.maxAttempts) break;
    const counts = frame.ruleRetries ?? [];
    counts[r] = used + 1;
    frame.ruleRetries = counts;
    frame.retries++;
    const delay = retryDelayMs(rule, used + 1);
    emit(x, 'StepRetrying', node.name, path, x.keep ? { Attempt: frame.retries, DelayMs: delay, Code: error.Code } : undefined);
    if (delay <= 0) frame.phase = 'exec';
    else startTimer(x, frame, path, x.now + delay, 'retry');
    return;
  }
  for (const rule of node.catch) {
    if (!matches(rule, error.Code) || limitError) continue;
    try {
      const output = checkObject(rule.output(new NodeScope(x, node, frame, frame.input ?? frame.raw, undefined, error)), 'catch output', node.name);
      emit(x, 'StepCaught', node.name, path, x.keep ? { Code: error.Code, Next: nodeName(x, frame, rule.next) } : undefined);
      frame.input = undefined;
      frame.node = rule.next;
      frame.raw = output;
      frame.phase = 'enter';
    } catch (err) {
      frame.error = toErrorInfo(err, ErrorNames.Runtime);
      frame.phase = 'failed';
    }
    return;
  }
  frame.input = undefined;
  frame.error = error;
  frame.phase = 'failed';
}

function nodeName(x: Ctx, frame: Frame, index: number): string {
  return x.flow.scopes[frame.scope]?.nodes[index]?.name ?? '';
}

/** Copies the frames from the root to `path` so they can be changed; undefined if the path is gone. */
function copyPath(state: ExecutionState, path: readonly number[]): Frame[] | undefined {
  const root = copyFrame(state.root);
  state.root = root;
  const frames = [root];
  let current = root;
  for (const i of path) {
    const kid = current.kids?.[i];
    if (!kid || !current.kids) return undefined;
    const copy = copyFrame(kid);
    current.kids[i] = copy;
    frames.push(copy);
    current = copy;
  }
  return frames;
}

/** The frames from the root to `path`, as they are (in-place stepping); undefined if the path is gone. */
function framesOnPath(state: ExecutionState, path: readonly number[]): Frame[] | undefined {
  let current = state.root;
  // sized up front: a one-element literal grown by push gets room for 17
  const frames = new Array<Frame>(path.length + 1);
  frames[0] = current;
  for (let k = 0; k < path.length; k++) {
    const kid = current.kids?.[path[k] as number];
    if (!kid) return undefined;
    frames[k + 1] = kid;
    current = kid;
  }
  return frames;
}

function copyFrame(frame: Frame): Frame {
  const copy = { ...frame };
  if (copy.kids) copy.kids = copy.kids.slice();
  if (copy.results) copy.results = copy.results.slice();
  if (copy.ruleRetries) copy.ruleRetries = copy.ruleRetries.slice();
  return copy;
}

/** Ends the execution if its root frame has ended or the event cap was hit. */
function settleExecution(x: Ctx): void {
  const s = x.state;
  if (s.status !== 'Running') return;
  if (x.halted) {
    cancelFrame(x, s.root);
    end(x, 'Failed', {
      Code: ErrorNames.EventLimitExceeded,
      Detail: `the execution entered more than ${MAX_TRANSITIONS_PER_EXECUTION} states (a loop that never ends?)`,
    });
    return;
  }
  if (s.root.phase === 'done') {
    s.output = s.root.output ?? {};
    s.status = 'Succeeded';
    s.stoppedAt = x.now;
    emitFinal(x, 'ExecutionSucceeded');
  } else if (s.root.phase === 'failed') {
    end(x, 'Failed', s.root.error ?? { Code: ErrorNames.Runtime, Detail: 'failed' });
  }
}

function end(x: Ctx, status: 'Failed' | 'TimedOut' | 'Stopped', error: ErrorInfo): void {
  const s = x.state;
  s.status = status;
  s.error = error;
  s.stoppedAt = x.now;
  emitFinal(x, status === 'Failed' ? 'ExecutionFailed' : status === 'TimedOut' ? 'ExecutionTimedOut' : 'ExecutionStopped', { Code: error.Code, Detail: error.Detail });
}

/** Final events are recorded even past the event cap. */
function emitFinal(x: Ctx, type: HistoryEventType, detail?: JsonObject): void {
  const id = ++x.state.eventCount;
  if (x.log && x.keep) x.log.push(id, type, x.now, undefined, undefined, detail);
  else if (x.keep) x.events.push(detail ? { id, type, time: x.now, detail } : { id, type, time: x.now });
}

export interface StartOptions extends StepOptions {
  flow: CompiledFlow;
  input: JsonObject;
  executionName: string;
  now: number;
  /** Execution time limit in ms. */
  timeoutMs: number;
  /** Random text making callback task tokens unguessable (runners pass a UUID). */
  taskTokenSeed?: string;
}

/** Starts an execution: the first step. */
export function start(options: StartOptions): StepResult {
  const { flow, input, now } = options;
  if (!isJsonObject(input)) throw new FlowrunError('InvalidArgument', `the execution input must be a JSON object, not ${jsonTypeName(input)}`);
  const state: ExecutionState = {
    v: 1,
    flowName: flow.name,
    executionName: options.executionName,
    executionInput: input,
    status: 'Running',
    startedAt: now,
    deadline: now + options.timeoutMs,
    global: {},
    eventCount: 0,
    transitions: 0,
    seq: 0,
    root: newFrame(flow.root, input),
  };
  if (options.taskTokenSeed !== undefined) state.tokenSeed = options.taskTokenSeed;
  const x: Ctx = { flow, state, now, commands: NO_COMMANDS, events: options.history === true ? [] : NO_EVENTS, keep: options.history === true, log: options.log, halted: false, sized: undefined, sizedBytes: 0 };
  emit(x, 'ExecutionStarted', undefined, undefined, x.keep ? { Input: input } : undefined);
  if (!jsonFitsIn(input, MAX_STATE_IO_BYTES)) {
    end(x, 'Failed', { Code: ErrorNames.DataLimitExceeded, Detail: `the execution input is larger than ${MAX_STATE_IO_BYTES} bytes` });
    return { state, commands: [], events: x.events };
  }
  runFrame(x, state.root, NO_PATH);
  settleExecution(x);
  return { state, commands: x.commands, events: x.events };
}

/** Applies one input to a running execution. Inputs for tasks/timers no longer awaited are ignored. */
export function step(flow: CompiledFlow, previous: ExecutionState, input: StepInput, now: number, options: StepOptions = {}): StepResult {
  if (previous.status !== 'Running') return { state: previous, commands: [], events: [] };
  // in place, the state itself is the next one (no copy: a spread of it is V8's slow path)
  const state: ExecutionState = options.inPlace === true ? previous : { ...previous };
  const x: Ctx = { flow, state, now, commands: NO_COMMANDS, events: options.history === true ? [] : NO_EVENTS, keep: options.history === true, log: options.log, halted: false, sized: undefined, sizedBytes: 0 };
  switch (input.type) {
    case 'TimedOut':
      cancelFrame(x, state.root);
      end(x, 'TimedOut', { Code: ErrorNames.Timeout, Detail: `the execution did not finish within ${state.deadline - state.startedAt} ms` });
      return { state, commands: x.commands, events: x.events };
    case 'Stop':
      cancelFrame(x, state.root);
      end(x, 'Stopped', input.error ?? { Code: ErrorNames.Cancelled, Detail: 'the execution was stopped' });
      return { state, commands: x.commands, events: x.events };
    default:
      break;
  }
  const frames = options.inPlace === true ? framesOnPath(state, input.path) : copyPath(state, input.path);
  const leaf = frames?.[frames.length - 1];
  if (!frames || !leaf) return { state: previous, commands: [], events: [] };
  const node = nodeOf(x, leaf);
  const path = input.path;
  if (input.type === 'ResumeMap') {
    if (node.kind !== 'Map' || leaf.phase !== 'children') return { state: previous, commands: [], events: [] };
    if (input.release) leaf.released = true;
    if (leaf.paused !== undefined) {
      leaf.paused = undefined;
      pumpMap(x, leaf, node, path);
      finishChildren(x, leaf, node, path);
    }
  } else if (leaf.waitId !== input.id) {
    return { state: previous, commands: [], events: [] };
  } else if (input.type === 'TaskSucceeded' && leaf.phase === 'task') {
    emit(x, 'TaskSucceeded', node.name, path, x.keep ? { Output: input.output } : undefined);
    let output: JsonObject | undefined;
    try {
      output = checkTaskResult(x, input.output, node.name);
    } catch (err) {
      fail(x, leaf, node, path, toErrorInfo(err, ErrorNames.Runtime));
    }
    if (output) complete(x, leaf, node, path, output);
  } else if (input.type === 'TaskFailed' && leaf.phase === 'task') {
    emit(x, input.error.Code === ErrorNames.Timeout ? 'TaskTimedOut' : 'TaskFailed', node.name, path, { Code: input.error.Code, Detail: input.error.Detail });
    fail(x, leaf, node, path, input.error);
  } else if (input.type === 'TimerFired' && leaf.phase === 'wait') {
    complete(x, leaf, node, path, leaf.input ?? leaf.raw);
  } else if (input.type === 'TimerFired' && leaf.phase === 'retry') {
    leaf.phase = 'exec';
  } else {
    return { state: previous, commands: [], events: [] };
  }
  runFrame(x, leaf, path);
  for (let k = frames.length - 2; k >= 0 && !x.halted; k--) {
    const parent = frames[k] as Frame;
    const child = frames[k + 1] as Frame;
    if (!isTerminal(child) || parent.phase !== 'children') break;
    const parentNode = nodeOf(x, parent);
    if (parentNode.kind !== 'Parallel' && parentNode.kind !== 'Map') break;
    const parentPath = k === 0 ? NO_PATH : path.slice(0, k);
    settleChild(x, parent, parentNode, parentPath, path[k] as number);
    if (parentNode.kind === 'Map') pumpMap(x, parent, parentNode, parentPath);
    finishChildren(x, parent, parentNode, parentPath);
    runFrame(x, parent, parentPath);
  }
  settleExecution(x);
  return { state, commands: x.commands, events: x.events };
}
