/**
 * The in-memory run loop: drives `step` for one execution inside one call (express flows, the
 * CLI, child flows). Effects happen only here: tasks go to the TaskRunner, timers to the Clock.
 */
import type { TaskContext, TaskHandle, TaskListener, TaskRequest, TaskRunner } from '../engine/types.js';
import type { CompiledFlow } from '../flow/graph.js';
import { setTimer, systemClock } from '../shared/clock.js';
import type { Clock, Timer } from '../shared/clock.js';
import { ErrorNames, toErrorInfo } from '../shared/errors.js';
import type { ErrorInfo } from '../shared/errors.js';
import { newUuid } from '../shared/ids.js';
import type { Json, JsonObject } from '../shared/json.js';
import { EXPRESS_EXECUTION_TIMEOUT_MS, STANDARD_EXECUTION_TIMEOUT_MS } from '../shared/limits.js';
import type { HistoryLog } from './history-log.js';
import { start, step } from './step.js';
import type { Command, ExecutionState, ExecutionStatus, HistoryEvent, StepInput, StepOptions, StepResult } from './types.js';

export interface RunOptions {
  /** Runs Task states. */
  tasks: TaskRunner;
  clock?: Clock;
  /** Aborting it stops the execution (status Stopped) and aborts its tasks. */
  signal?: AbortSignal;
  /**
   * Instead of `signal`: the controller whose signal stops the execution, read only once the
   * execution has to wait (a task, a timer). An execution that ends within its first step then
   * never makes the controller create a signal (see ../shared/abort.ts). The run loop never aborts it.
   */
  controller?: AbortController;
  /** Default: a new UUID. */
  executionName?: string;
  /** Default: 5 minutes for Express flows, 1 year for Standard ones. */
  timeoutMs?: number;
  /** Keep the history events in the result. */
  history?: boolean;
  /** Called with each history event as it happens (implies history). */
  onEvent?: (event: HistoryEvent) => void;
  /**
   * Append each history event to this array as it happens (implies history); it is then the
   * result's `events`. Lets a caller that keeps the history (the execution window) hold the only
   * copy, readable while the execution runs, without a callback per event.
   */
  events?: HistoryEvent[];
  /**
   * Record the history into this compact log as it happens (implies history; not with `events`
   * or `onEvent`): the result's `events` stays empty. For a caller that keeps the history after
   * the execution ends (the execution window): see ./history-log.ts.
   */
  log?: HistoryLog;
  /** Child-execution nesting depth and the chain of flow names above this execution. */
  depth?: number;
  flowChain?: readonly string[];
}

export interface ExecutionResult {
  flowName: string;
  executionName: string;
  status: Exclude<ExecutionStatus, 'Running'>;
  output?: JsonObject;
  error?: ErrorInfo;
  startedAt: number;
  stoppedAt: number;
  /** History events (empty unless `history`, `onEvent` or `events` was given). */
  events: HistoryEvent[];
}

/** Appends a step's history events (and hands each to `onEvent`). */
function record(events: HistoryEvent[], batch: readonly HistoryEvent[], onEvent: ((event: HistoryEvent) => void) | undefined): void {
  for (const e of batch) {
    events.push(e);
    onEvent?.(e);
  }
}

export function runExecution(flow: CompiledFlow, input: JsonObject, options: RunOptions): Promise<ExecutionResult> {
  const clock = options.clock ?? systemClock;
  const log = options.log;
  if (log && (options.events !== undefined || options.onEvent !== undefined)) {
    return Promise.reject(new TypeError('runExecution: give log, or events/onEvent, not both'));
  }
  const history = options.history === true || options.onEvent !== undefined || options.events !== undefined || log !== undefined;
  const executionName = options.executionName ?? newUuid();
  const timeoutMs = options.timeoutMs ?? (flow.mode === 'Express' ? EXPRESS_EXECUTION_TIMEOUT_MS : STANDARD_EXECUTION_TIMEOUT_MS);
  const events: HistoryEvent[] = options.events ?? [];
  const onEvent = options.onEvent;

  let first: StepResult;
  try {
    first = start({ flow, input, executionName, now: clock.now(), timeoutMs, history, log });
    if (history) record(events, first.events, onEvent);
  } catch (err) {
    return Promise.reject(err);
  }
  if (first.state.status !== 'Running') return Promise.resolve(result(first.state, events));
  return new Promise<ExecutionResult>((resolve, reject) => {
    new RunLoop(flow, first, options, clock, executionName, history, events, resolve, reject).begin(first.commands);
  });
}

/**
 * One running execution: applies each input to the state as it arrives (a task's result, a
 * timer, a stop), synchronously, in the callback that delivers it: no promise and no turn of the
 * microtask queue per input between an action settling and the next step. Inputs that arrive
 * while a step is applied (an action settling at once, an abort) wait in the inbox, in order.
 */
class RunLoop {
  private state: ExecutionState;
  private readonly inbox: (StepInput | undefined)[] = [];
  private head = 0;
  /** A step is being applied (or the loop is starting): inputs only queue. */
  private busy = true;
  private ended = false;
  /** Tasks and timers awaited, by id: what a Cancel command aborts. */
  private readonly pending = new Map<number, TaskCall | PendingTimer>();
  /**
   * The signal of the tasks of a runner without `start` (it may not honour handles): aborted
   * when the execution ends. Made only for such a runner: the engine's tasks are aborted through
   * their handles, and an AbortController costs microseconds to make and to abort.
   */
  private lifetime: AbortController | undefined;
  private deadline: Timer | undefined;
  private readonly signal: AbortSignal | undefined;
  readonly depth: number;
  readonly flowChain: readonly string[];
  private readonly stepOptions: StepOptions;

  constructor(
    readonly flow: CompiledFlow,
    first: StepResult,
    private readonly options: RunOptions,
    readonly clock: Clock,
    readonly executionName: string,
    private readonly history: boolean,
    private readonly events: HistoryEvent[],
    private readonly resolve: (result: ExecutionResult) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    this.state = first.state;
    this.signal = options.signal ?? options.controller?.signal;
    this.depth = options.depth ?? 0;
    this.flowChain = [...(options.flowChain ?? []), flow.name];
    this.stepOptions = { history, inPlace: true, log: options.log };
  }

  /** Arms the execution deadline and the stop signal, applies the first step's commands, drains. */
  begin(commands: readonly Command[]): void {
    const { clock, state, signal } = this;
    this.deadline = setTimer(clock, state.deadline - clock.now(), () => this.push({ type: 'TimedOut' }));
    if (signal?.aborted) this.onAbort();
    else signal?.addEventListener('abort', this.onAbort, { once: true });
    try {
      this.apply(commands);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.drain(undefined);
  }

  readonly push = (item: StepInput): void => {
    if (this.ended) return;
    // idle, the inbox is empty: the input is applied at once, without a trip through it
    if (this.busy) this.inbox.push(item);
    else this.drain(item);
  };

  private readonly onAbort = (): void => {
    const reason: unknown = this.signal?.reason;
    this.push({ type: 'Stop', error: { Code: ErrorNames.Cancelled, Detail: reason instanceof Error ? reason.message : 'the execution was cancelled' } });
  };

  /** Applies `first`, then the queued inputs, in order; ends the execution once it is no longer Running. */
  private drain(first: StepInput | undefined): void {
    this.busy = true;
    const { flow, history, events, stepOptions } = this;
    const onEvent = this.options.onEvent;
    try {
      for (let item = first ?? this.nextQueued(); item !== undefined && this.state.status === 'Running'; item = this.nextQueued()) {
        if ('id' in item) this.pending.delete(item.id);
        // in place: the loop never looks at an earlier state again (no O(items) frame copies)
        const next = step(flow, this.state, item, this.clock.now(), stepOptions);
        this.state = next.state;
        if (history) record(events, next.events, onEvent);
        this.apply(next.commands);
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    this.busy = false;
    if (this.state.status !== 'Running') this.finish(undefined);
  }

  /** The oldest queued input, taken out of the inbox (undefined when it is empty). */
  private nextQueued(): StepInput | undefined {
    const inbox = this.inbox;
    if (this.head >= inbox.length) {
      if (this.head > 0) {
        inbox.length = 0;
        this.head = 0;
      }
      return undefined;
    }
    const item = inbox[this.head];
    // the slot is cleared at once: a consumed input dies young instead of waiting for the splice
    inbox[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > inbox.length) {
      inbox.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }

  private apply(commands: readonly Command[]): void {
    const { pending, clock } = this;
    for (const c of commands) {
      if (c.type === 'RunTask') {
        const tasks = this.options.tasks;
        // a runner without `start` may not honour handles: its tasks share a signal aborted at the end
        const task = new TaskCall(this, c, tasks.start ? undefined : (this.lifetime ??= new AbortController()).signal);
        pending.set(c.id, task);
        if (tasks.start) tasks.start(task, task);
        else tasks(task).then((output) => task.succeeded(output), (err: unknown) => task.failed(err));
      } else if (c.type === 'StartTimer') {
        pending.set(c.id, new PendingTimer(this, c.path, c.id, c.at - clock.now()));
      } else {
        pending.get(c.id)?.abort?.(new Error('no longer needed'));
        pending.delete(c.id);
      }
    }
  }

  /** A step or a task runner threw (a bug, or a runner that throws): the run's promise rejects. */
  private fail(err: unknown): void {
    this.finish({ err });
  }

  /** Drops what the execution still waits for and settles the run's promise. */
  private finish(thrown: { err: unknown } | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.busy = true;
    this.deadline?.cancel();
    this.signal?.removeEventListener('abort', this.onAbort);
    for (const p of this.pending.values()) {
      try {
        p.abort?.(EXECUTION_ENDED);
      } catch {
        // a custom runner's abort that throws: the execution ends all the same
      }
    }
    this.pending.clear();
    this.inbox.length = 0;
    this.lifetime?.abort(EXECUTION_ENDED); // its listeners' errors go to the process, not here
    if (thrown) this.reject(thrown.err);
    else this.resolve(result(this.state, this.events));
  }
}

/**
 * A task the execution waits for, in one object (a task is made per Map item): the request handed
 * to the runner, which is also its own context (their fields are distinct; `context` and `handle`
 * are getters returning the object itself, so that a runner that serializes either sees no
 * cycle), the handle the engine sets `abort` on (for a Cancel command, and when the execution
 * ends), and the listener told the outcome (which becomes the step input). The run loop is held
 * in a private field, dropped once the outcome is told: an action that never settles does not
 * keep the ended execution alive.
 */
class TaskCall implements TaskRequest, TaskContext, TaskHandle, TaskListener {
  readonly action: string;
  readonly parameters: Json;
  readonly timeoutMs: number | undefined;
  readonly flowName: string;
  readonly executionName: string;
  readonly stateName: string;
  readonly retryCount: number;
  readonly depth: number;
  readonly flowChain: readonly string[];
  abort: ((reason: unknown) => void) | undefined = undefined;
  #loop: RunLoop | undefined;
  readonly #path: readonly number[];
  readonly #id: number;

  constructor(
    loop: RunLoop,
    command: Extract<Command, { type: 'RunTask' }>,
    readonly signal: AbortSignal | undefined,
  ) {
    this.action = command.action;
    this.parameters = command.parameters;
    this.timeoutMs = command.timeoutMs;
    this.flowName = loop.flow.name;
    this.executionName = loop.executionName;
    this.stateName = command.stateName;
    this.retryCount = command.retryCount;
    this.depth = loop.depth;
    this.flowChain = loop.flowChain;
    this.#loop = loop;
    this.#path = command.path;
    this.#id = command.id;
  }

  get context(): TaskContext {
    return this;
  }

  get handle(): TaskHandle {
    return this;
  }

  succeeded(output: Json): void {
    const loop = this.#loop;
    this.#loop = undefined;
    loop?.push({ type: 'TaskSucceeded', path: this.#path, id: this.#id, output });
  }

  failed(err: unknown): void {
    const loop = this.#loop;
    this.#loop = undefined;
    loop?.push({ type: 'TaskFailed', path: this.#path, id: this.#id, error: toErrorInfo(err, ErrorNames.TaskFailed) });
  }
}

/** A Wait or a Retry delay the execution waits for. */
class PendingTimer {
  private readonly timer: Timer;

  constructor(
    private readonly loop: RunLoop,
    private readonly path: readonly number[],
    private readonly id: number,
    ms: number,
  ) {
    this.timer = setTimer(loop.clock, ms, this.fire);
  }

  private readonly fire = (): void => {
    this.loop.push({ type: 'TimerFired', path: this.path, id: this.id });
  };

  abort(): void {
    this.timer.cancel();
  }
}

/** The reason the tasks and timers of an ended execution are dropped with (one, no stack per execution). */
const EXECUTION_ENDED = new Error('execution ended');

function result(state: ExecutionState, events: HistoryEvent[]): ExecutionResult {
  const r: ExecutionResult = {
    flowName: state.flowName,
    executionName: state.executionName,
    status: state.status as ExecutionResult['status'],
    startedAt: state.startedAt,
    stoppedAt: state.stoppedAt ?? state.startedAt,
    events,
  };
  if (state.output !== undefined) r.output = state.output;
  if (state.error !== undefined) r.error = state.error;
  return r;
}
