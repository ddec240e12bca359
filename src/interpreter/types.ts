/**
 * The interpreter's data: execution state (plain JSON, checkpointed by durable runners), the
 * events a runner feeds into `step`, the commands `step` hands back, and the history events.
 */
import type { ErrorInfo } from '../shared/errors.js';
import type { Json, JsonObject } from '../shared/json.js';
import type { TaskMode } from '../flow/graph.js';
import type { HistoryLog } from './history-log.js';

export type ExecutionStatus = 'Running' | 'Succeeded' | 'Failed' | 'TimedOut' | 'Stopped';

/**
 * One activation of a scope (the top level, a Parallel branch or a Map iteration). Only frames
 * that are blocked (on a task, a timer or their children) outlive a `step` call.
 */
export interface Frame {
  /** Scope id in the compiled flow. */
  scope: number;
  /** Current node index in the scope. */
  node: number;
  phase: FramePhase;
  /** Input of the current node before its InputConstructor. */
  raw: JsonObject;
  /** `$Input` of the current node (after InputConstructor); set once entered. */
  input?: JsonObject;
  /** Retries made for the current node, total and per Retry rule. */
  retries: number;
  ruleRetries?: number[];
  /** Map iteration index, for `$Context.Current.Iteration` (undefined elsewhere). */
  iteration?: number;
  /** Id of the task or timer this frame waits for. */
  waitId?: number;
  /** Children of a running Parallel/Map node; null = not started or already finished. */
  kids?: (Frame | null)[];
  /** Results of finished children, by index. */
  results?: (JsonObject | null)[];
  /**
   * Map: an upper bound of the JSON size of the results collected so far, each with its separator
   * (see `jsonSizeBound`), so that the Map's output is size-checked without a walk of every result
   * once the last one is in. Absent (a state written before it existed): the output is walked.
   */
  resultBytes?: number;
  /** Map: the items, the next item to start, and children in flight. */
  items?: Json[];
  nextItem?: number;
  running?: number;
  /** Map: the concurrency decided when it started (when the node's is dynamic). */
  limit?: number;
  /** Map in batches: the sizes and concurrency of the batches (the last entry repeats), the batch running, and the batches it stops before. */
  batchSizes?: number[];
  batchLimits?: number[];
  batch?: number;
  batchPause?: 'first' | 'every';
  /** Map in batches: the batch that waits for a `ResumeMap` input before it starts. */
  paused?: number;
  /** Set by a `ResumeMap` input with `release`: a runner confirmed this Map's items (its holds read it). */
  released?: boolean;
  /** Map with tolerated failures: the tolerance, the failures so far, and whether it stopped starting items. */
  tolerated?: number;
  failures?: number;
  stopped?: boolean;
  /** Set when the frame's scope has ended. */
  output?: JsonObject;
  error?: ErrorInfo;
}

export type FramePhase =
  /** About to enter `node`. */
  | 'enter'
  /** About to (re)start the work of `node` (its input is already built); never outlives a step. */
  | 'exec'
  /** Waiting for the task `waitId`. */
  | 'task'
  /** Waiting for the timer `waitId` of a Wait node. */
  | 'wait'
  /** Waiting for the timer `waitId` before a retry. */
  | 'retry'
  /** Waiting for the children of a Parallel/Map node. */
  | 'children'
  /** Scope ended successfully (`output` set). */
  | 'done'
  /** Scope failed (`error` set). */
  | 'failed';

export interface ExecutionState {
  v: 1;
  flowName: string;
  executionName: string;
  executionInput: JsonObject;
  status: ExecutionStatus;
  startedAt: number;
  /** Time by which the execution must end (epoch ms). */
  deadline: number;
  stoppedAt?: number;
  global: JsonObject;
  /** History events recorded so far (counted even when not kept). */
  eventCount: number;
  /** States entered so far (capped by MAX_TRANSITIONS_PER_EXECUTION). */
  transitions: number;
  /** Last task/timer id handed out. */
  seq: number;
  /** Random part of callback task tokens (`<seed>.<task id>`), chosen when the execution starts. */
  tokenSeed?: string;
  root: Frame;
  output?: JsonObject;
  error?: ErrorInfo;
}

/** What a runner feeds into `step`. `path` locates the frame: child indexes from the root. */
export type StepInput =
  | { type: 'TaskSucceeded'; path: readonly number[]; id: number; output: Json }
  | { type: 'TaskFailed'; path: readonly number[]; id: number; error: ErrorInfo }
  | { type: 'TimerFired'; path: readonly number[]; id: number }
  | { type: 'TimedOut' }
  /**
   * To the Map running at `path` (the path of its frame): starts the batch it waits before, if it
   * waits; with `release`, marks it released (see {@link Frame.released}). Otherwise ignored.
   */
  | { type: 'ResumeMap'; path: readonly number[]; release?: boolean }
  | { type: 'Stop'; error?: ErrorInfo };

/** What `step` asks the runner to do. */
export type Command =
  | {
      type: 'RunTask';
      path: readonly number[];
      id: number;
      action: string;
      /**
       * RequestComplete: run the action and report its result. The callback modes: a runner hands
       * out a task token and waits for it to be reported (ReportTaskSucceeded/Failed).
       */
      mode: TaskMode;
      /** Callback modes: the token that reports the task's result (also `$Context.Current.TaskToken`). */
      taskToken?: string;
      parameters: Json;
      timeoutMs: number | undefined;
      stateName: string;
      retryCount: number;
    }
  | { type: 'StartTimer'; path: readonly number[]; id: number; at: number }
  /** Forget (and abort) a task or timer that is no longer awaited. */
  | { type: 'Cancel'; id: number };

export type HistoryEventType =
  | 'ExecutionStarted'
  | 'ExecutionSucceeded'
  | 'ExecutionFailed'
  | 'ExecutionTimedOut'
  | 'ExecutionStopped'
  | 'StepEntered'
  | 'StepSucceeded'
  | 'StepFailed'
  | 'StepRetrying'
  | 'StepCaught'
  | 'BranchEntered'
  | 'BranchExited'
  | 'IterationEntered'
  | 'IterationExited'
  | 'TaskScheduled'
  | 'TaskSucceeded'
  | 'TaskFailed'
  | 'TaskTimedOut'
  | 'WaitStarted';

export interface HistoryEvent {
  /** 1-based, in order. */
  id: number;
  type: HistoryEventType;
  /** Epoch ms. */
  time: number;
  /** State name, for step/task events. */
  step?: string;
  /** Frame path (child indexes), for events inside branches and iterations. */
  path?: readonly number[];
  detail?: JsonObject;
}

export interface StepResult {
  state: ExecutionState;
  commands: readonly Command[];
  /** History events of this step (empty unless requested). */
  events: readonly HistoryEvent[];
}

export interface StepOptions {
  /** Keep history events (they are always counted). */
  history?: boolean;
  /**
   * With `history`: append the events to this log instead of returning them in the result (whose
   * `events` is then empty). See ./history-log.ts.
   */
  log?: HistoryLog;
  /**
   * `step` changes the frames of the state passed in instead of copying those on the input's
   * path first. Only for a caller that never looks at an earlier state again (the in-memory run
   * loop): copying a Map frame costs O(items) per step. Default false: the state passed in is
   * left as it was (durable runners checkpoint it).
   */
  inPlace?: boolean;
}
