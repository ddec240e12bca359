/**
 * The in-memory run loop: drives `step` for one execution inside one call (express flows, the
 * CLI, child flows). Effects happen only here: tasks go to the TaskRunner, timers to the Clock.
 */
import type { TaskHandle, TaskRunner } from '../engine/types.js';
import type { CompiledFlow } from '../flow/graph.js';
import { systemClock } from '../shared/clock.js';
import type { Clock } from '../shared/clock.js';
import { ErrorNames, toErrorInfo } from '../shared/errors.js';
import type { ErrorInfo } from '../shared/errors.js';
import { newUuid } from '../shared/ids.js';
import type { JsonObject } from '../shared/json.js';
import { EXPRESS_EXECUTION_TIMEOUT_MS, STANDARD_EXECUTION_TIMEOUT_MS } from '../shared/limits.js';
import type { HistoryLog } from './history-log.js';
import { start, step } from './step.js';
import type { Command, ExecutionState, ExecutionStatus, HistoryEvent, StepInput } from './types.js';

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

const noop = (): void => {};

/** Appends a step's history events (and hands each to `onEvent`). */
function record(events: HistoryEvent[], batch: readonly HistoryEvent[], onEvent: ((event: HistoryEvent) => void) | undefined): void {
  for (const e of batch) {
    events.push(e);
    onEvent?.(e);
  }
}

export async function runExecution(flow: CompiledFlow, input: JsonObject, options: RunOptions): Promise<ExecutionResult> {
  const clock = options.clock ?? systemClock;
  const log = options.log;
  if (log && (options.events !== undefined || options.onEvent !== undefined)) throw new TypeError('runExecution: give log, or events/onEvent, not both');
  const history = options.history === true || options.onEvent !== undefined || options.events !== undefined || log !== undefined;
  const executionName = options.executionName ?? newUuid();
  const timeoutMs = options.timeoutMs ?? (flow.mode === 'Express' ? EXPRESS_EXECUTION_TIMEOUT_MS : STANDARD_EXECUTION_TIMEOUT_MS);
  const events: HistoryEvent[] = options.events ?? [];
  const onEvent = options.onEvent;

  const first = start({ flow, input, executionName, now: clock.now(), timeoutMs, history, log });
  if (history) record(events, first.events, onEvent);
  let state: ExecutionState = first.state;
  if (state.status !== 'Running') return result(state, events);

  const inbox: (StepInput | undefined)[] = [];
  let head = 0;
  let wake: (() => void) | undefined;
  const push = (item: StepInput): void => {
    inbox.push(item);
    if (wake) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  /** Tasks and timers awaited, by id: what a Cancel command aborts. */
  const pending = new Map<number, { abort?: (reason: unknown) => void }>();
  const lifetime = new AbortController();
  const signal = options.signal ?? options.controller?.signal;
  const depth = options.depth ?? 0;
  const flowChain = [...(options.flowChain ?? []), flow.name];

  const apply = (commands: Command[]): void => {
    for (const c of commands) {
      if (c.type === 'RunTask') {
        // every task shares the execution's signal; one is aborted alone through its handle
        const handle: TaskHandle = {};
        pending.set(c.id, handle);
        options
          .tasks({
            action: c.action,
            parameters: c.parameters,
            timeoutMs: c.timeoutMs,
            signal: lifetime.signal,
            handle,
            context: { flowName: flow.name, executionName, stateName: c.stateName, retryCount: c.retryCount, depth, flowChain },
          })
          .then(
            (output) => push({ type: 'TaskSucceeded', path: c.path, id: c.id, output }),
            (err: unknown) => push({ type: 'TaskFailed', path: c.path, id: c.id, error: toErrorInfo(err, ErrorNames.TaskFailed) }),
          );
      } else if (c.type === 'StartTimer') {
        const ac = new AbortController();
        pending.set(c.id, ac);
        clock.sleep(c.at - clock.now(), ac.signal).then(() => push({ type: 'TimerFired', path: c.path, id: c.id }), noop);
      } else {
        pending.get(c.id)?.abort?.(new Error('no longer needed'));
        pending.delete(c.id);
      }
    }
  };

  clock.sleep(state.deadline - clock.now(), lifetime.signal).then(() => push({ type: 'TimedOut' }), noop);
  const onAbort = (): void => {
    const reason: unknown = signal?.reason;
    push({ type: 'Stop', error: { Code: ErrorNames.Cancelled, Detail: reason instanceof Error ? reason.message : 'the execution was cancelled' } });
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });

  try {
    apply(first.commands);
    while (state.status === 'Running') {
      if (head >= inbox.length) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const item = inbox[head] as StepInput;
      // the slot is cleared at once: a consumed input dies young instead of waiting for the splice
      inbox[head++] = undefined;
      if (head > 1024 && head * 2 > inbox.length) {
        inbox.splice(0, head);
        head = 0;
      }
      if ('id' in item) pending.delete(item.id);
      // in place: the loop never looks at an earlier state again (no O(items) frame copies)
      const next = step(flow, state, item, clock.now(), { history, inPlace: true, log });
      state = next.state;
      if (history) record(events, next.events, onEvent);
      apply(next.commands);
    }
  } finally {
    for (const p of pending.values()) p.abort?.(EXECUTION_ENDED);
    lifetime.abort(EXECUTION_ENDED);
    signal?.removeEventListener('abort', onAbort);
    pending.clear();
  }
  return result(state, events);
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
