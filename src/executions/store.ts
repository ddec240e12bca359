/**
 * The store behind durable executions: interfaces only, owned by the executions module. Adapters
 * (embedded SQLite, PostgreSQL) live in `src/store/` and pass one contract suite
 * (`test/store/contract.ts`).
 *
 * Every operation is async and adapter-neutral. Times are epoch milliseconds handed in by the
 * caller (read from the injected Clock): the store never reads a clock of its own, so leases and
 * timers move with a ManualClock in tests. JSON values are stored as JSON text.
 *
 * The one write that matters is {@link ExecutionStore.commitStep}: a step's new interpreter state,
 * its history events, its task and timer changes and the signals it consumed are written in ONE
 * transaction, fenced by the lease (a runner that lost its lease cannot write).
 */
import type { TaskMode } from '../flow/graph.js';
import type { ExecutionState } from '../interpreter/types.js';
import { FlowrunError } from '../shared/errors.js';
import type { ErrorInfo } from '../shared/errors.js';
import type { Json, JsonObject } from '../shared/json.js';

// ---------------------------------------------------------------------------------------------
// Definitions (flows and templates) with versions
// ---------------------------------------------------------------------------------------------

export type DefinitionKind = 'flow' | 'template';

/** One version of a flow or template definition. */
export interface DefinitionRecord {
  kind: DefinitionKind;
  /** Owner account ('' until accounts exist). */
  account: string;
  name: string;
  /** 1, 2, 3… in creation order. */
  version: number;
  /** The definition text as written (YAML or JSON). */
  content: string;
  /** Whatever the service keeps beside the text (description, execution mode, ids…). */
  metadata: JsonObject;
  createdAt: number;
}

export interface NewDefinition {
  kind: DefinitionKind;
  account?: string;
  name: string;
  content: string;
  metadata?: JsonObject;
  now: number;
}

export interface DefinitionListOptions {
  account?: string;
  limit: number;
  /** Only names sorting strictly after this one (code-unit order). */
  after?: string;
  /** Only names starting with this. */
  namePrefix?: string;
}

// ---------------------------------------------------------------------------------------------
// Executions
// ---------------------------------------------------------------------------------------------

export type ExecutionKind = DefinitionKind;

/**
 * Statuses after which an execution is finished: never claimed, driven or signalled again, and
 * purged after the retention period. FnF uses Succeeded/Failed/TimedOut/Stopped; OOS also uses
 * Success and Cancelled. Every other status (Starting, Running, Waiting, Queued…) is active.
 */
export const FINISHED_STATUSES: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'TimedOut', 'Stopped', 'Success', 'Cancelled']);

export const isFinishedStatus = (status: string): boolean => FINISHED_STATUSES.has(status);

export interface ExecutionRecord {
  /** Store-wide unique id (a UUID). */
  id: string;
  kind: ExecutionKind;
  account: string;
  /** Flow or template name and the version the execution runs. */
  definitionName: string;
  definitionVersion: number;
  /** Execution name, unique per (kind, account, definition name). */
  name: string;
  status: string;
  input: Json;
  output?: Json;
  error?: ErrorInfo;
  /** The interpreter state of the last committed step. */
  state?: ExecutionState;
  startedAt: number;
  stoppedAt?: number;
  /** Time of the last write. */
  updatedAt: number;
  parentId?: string;
  /** Instance driving the execution, and until when its lease holds. */
  leaseOwner?: string;
  leaseExpiresAt?: number;
  /** Free-form mode (OOS: Automatic / Debug; FnF: Standard). */
  mode?: string;
  tags: JsonObject;
  /** Client token the execution was started with (idempotent starts). */
  clientToken?: string;
}

// ---------------------------------------------------------------------------------------------
// Tasks, history, timers, resources, signals
// ---------------------------------------------------------------------------------------------

/**
 * Scheduled: a RequestComplete task whose RunTask was committed and whose result was not (yet).
 * Waiting: a callback task waiting for ReportTaskSucceeded/Failed with its token.
 */
export type TaskStatus = 'Scheduled' | 'Waiting' | 'Succeeded' | 'Failed' | 'Cancelled';

export const OPEN_TASK_STATUSES: readonly TaskStatus[] = ['Scheduled', 'Waiting'];

export interface TaskRecord {
  executionId: string;
  /** The interpreter's task id (unique within the execution). */
  taskId: number;
  stateName: string;
  action: string;
  mode: TaskMode;
  /** Frame path of the Task state (for the step input that answers it). */
  path: number[];
  parameters: Json;
  timeoutMs?: number;
  retryCount: number;
  status: TaskStatus;
  startedAt: number;
  endedAt?: number;
  output?: Json;
  error?: ErrorInfo;
  /** Callback modes: the token handed out for ReportTaskSucceeded/Failed. */
  token?: string;
  /** Event id of the TaskScheduled history event. */
  scheduleEventId?: number;
}

export interface TaskUpdate {
  taskId: number;
  status: TaskStatus;
  endedAt?: number;
  output?: Json;
  error?: ErrorInfo;
}

export interface HistoryRecord {
  executionId: string;
  /** 1-based, in order, unique within the execution. */
  eventId: number;
  /** flowrun's event type (see the interpreter's HistoryEventType). */
  type: string;
  time: number;
  step?: string;
  path?: number[];
  detail?: JsonObject;
  /** For Task results: the event id of their TaskScheduled event. */
  scheduleEventId?: number;
}

export type NewHistoryRecord = Omit<HistoryRecord, 'executionId'>;

/** `timer`: a Wait or retry back-off; `taskTimeout`: the Timeout of a callback task. */
export type TimerKind = 'timer' | 'taskTimeout';

export interface TimerRecord {
  executionId: string;
  /** The interpreter's timer (or task) id. */
  timerId: number;
  kind: TimerKind;
  dueAt: number;
  path: number[];
}

export type NewTimerRecord = Omit<TimerRecord, 'executionId'>;

/** Per-resource progress of an OOS loop task. */
export interface ResourceStatusRecord {
  executionId: string;
  taskName: string;
  resourceId: string;
  status: string;
  outputs: JsonObject;
  updatedAt: number;
}

export type NewResourceStatus = Omit<ResourceStatusRecord, 'executionId'>;

/** An external signal waiting for the execution's owner (stop, notify, task report). */
export interface SignalRecord {
  /** Increasing store-wide. */
  id: number;
  executionId: string;
  type: string;
  payload: JsonObject;
  createdAt: number;
}

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

/** The effects of one step, written atomically by {@link ExecutionStore.commitStep}. */
export interface StepCommit {
  /** Fencing: the commit fails with {@link LeaseLostError} unless this owner holds the lease. */
  leaseOwner: string;
  now: number;
  /** New interpreter state (absent: unchanged). */
  state?: ExecutionState;
  status: string;
  output?: Json;
  error?: ErrorInfo;
  stoppedAt?: number;
  events?: NewHistoryRecord[];
  newTasks?: Omit<TaskRecord, 'executionId'>[];
  taskUpdates?: TaskUpdate[];
  addTimers?: NewTimerRecord[];
  removeTimers?: number[];
  resourceStatuses?: NewResourceStatus[];
  /** Signals consumed by this step (deleted with it). */
  ackSignals?: number[];
}

/**
 * A new execution together with its first step. When the execution finishes in that first step,
 * pass a finished status (the lease is then not taken).
 */
export interface NewExecution extends Omit<ExecutionRecord, 'account' | 'tags' | 'updatedAt'> {
  /** Default '' (no account). */
  account?: string;
  /** Default {}. */
  tags?: JsonObject;
  /**
   * Created waiting to start (e.g. status `Queued`): without a state, a lease or a first step, not
   * claimed by {@link ExecutionStore.claimRunnable}, until {@link ExecutionStore.startQueued}.
   */
  queued?: boolean;
  events?: NewHistoryRecord[];
  newTasks?: Omit<TaskRecord, 'executionId'>[];
  addTimers?: NewTimerRecord[];
}

export type CreateExecutionResult =
  | { created: true; execution: ExecutionRecord }
  /** The name (or the client token) was taken: the execution that holds it. */
  | { created: false; execution: ExecutionRecord; conflict: 'name' | 'clientToken' };

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

/** Position in a newest-first list of executions (opaque to callers; encode it in tokens). */
export interface ExecutionCursor {
  startedAt: number;
  id: string;
}

export interface ExecutionFilter {
  kind: ExecutionKind;
  account?: string;
  definitionName?: string;
  status?: string;
  namePrefix?: string;
  /** Inclusive bounds on startedAt. */
  startedFrom?: number;
  startedTo?: number;
  parentId?: string;
}

export interface Page<T, C> {
  items: T[];
  /** Where the next page starts; absent on the last page. */
  next?: C;
}

export interface ExecutionStore {
  readonly dialect: 'sqlite' | 'postgres';

  // definitions
  /** Creates version 1; undefined when the name is taken. */
  createDefinition(definition: NewDefinition): Promise<DefinitionRecord | undefined>;
  /** Adds the next version; undefined when there is no such definition. */
  updateDefinition(definition: NewDefinition): Promise<DefinitionRecord | undefined>;
  /** The given version, or the latest. */
  getDefinition(kind: DefinitionKind, name: string, version?: number, account?: string): Promise<DefinitionRecord | undefined>;
  /** Latest version of each definition, by name. */
  listDefinitions(kind: DefinitionKind, options: DefinitionListOptions): Promise<DefinitionRecord[]>;
  /** The accounts holding a definition of this kind and name (tenant checks: whose is it?). */
  definitionAccounts(kind: DefinitionKind, name: string): Promise<string[]>;
  /** Every version, oldest first. */
  listDefinitionVersions(kind: DefinitionKind, name: string, account?: string): Promise<DefinitionRecord[]>;
  /** Deletes every version; false when there was none. Executions are kept. */
  deleteDefinition(kind: DefinitionKind, name: string, account?: string): Promise<boolean>;

  // executions
  createExecution(execution: NewExecution): Promise<CreateExecutionResult>;
  getExecution(id: string): Promise<ExecutionRecord | undefined>;
  findExecution(kind: ExecutionKind, definitionName: string, name: string, account?: string): Promise<ExecutionRecord | undefined>;
  findExecutionByClientToken(clientToken: string): Promise<ExecutionRecord | undefined>;
  /** Newest first (startedAt, then id, descending). */
  listExecutions(filter: ExecutionFilter, page: { limit: number; after?: ExecutionCursor }): Promise<Page<ExecutionRecord, ExecutionCursor>>;
  /**
   * Writes one step in one transaction. When `status` is finished the lease is released and the
   * execution's timers and pending signals are deleted. Throws {@link LeaseLostError} when
   * `leaseOwner` does not hold the lease (nothing is written).
   */
  commitStep(executionId: string, commit: StepCommit): Promise<void>;
  /** Deletes an execution and everything it owns; false when there was none. */
  deleteExecution(id: string): Promise<boolean>;
  /** Deletes up to `limit` finished executions stopped before `before`; resolves how many. */
  purgeFinished(before: number, limit: number): Promise<number>;

  // leases
  /**
   * Takes the lease of up to `limit` active executions whose lease is free or expired at `now`
   * (with `includeOwn`, also those `owner` already holds: a restarted instance with the same
   * owner id resumes its executions at once), oldest first (startedAt, then id; only after
   * `after` when given, to page through), atomically, and returns them. Two owners never get the
   * same execution.
   */
  claimRunnable(
    owner: string,
    now: number,
    leaseMs: number,
    limit: number,
    options?: { includeOwn?: boolean; after?: ExecutionCursor },
  ): Promise<ExecutionRecord[]>;
  /**
   * Starts a queued execution with its first step, in one transaction: it becomes runnable, leased
   * to `commit.leaseOwner` until `leaseExpiresAt`, and the step is committed. Resolves false (and
   * writes nothing) when the execution is not queued (any more): started or ended elsewhere.
   */
  startQueued(executionId: string, commit: StepCommit, leaseExpiresAt: number): Promise<boolean>;
  /** Ends a queued execution that never started (e.g. cancelled). Resolves false when it is not queued. */
  finishQueued(executionId: string, end: { status: string; error?: ErrorInfo; now: number }): Promise<boolean>;
  /** Extends the leases `owner` still holds (all, or those in `ids`); resolves their ids. */
  renewLeases(owner: string, now: number, leaseMs: number, ids?: readonly string[]): Promise<string[]>;
  /** Gives up a lease (no-op unless `owner` holds it). */
  releaseLease(executionId: string, owner: string): Promise<void>;

  // tasks, history, timers, resources
  listTasks(executionId: string, options?: { openOnly?: boolean }): Promise<TaskRecord[]>;
  getTaskByToken(token: string): Promise<TaskRecord | undefined>;
  /** Ascending event id, after `afterEventId`. */
  listEvents(executionId: string, options: { afterEventId?: number; limit: number }): Promise<HistoryRecord[]>;
  listTimers(executionId: string): Promise<TimerRecord[]>;
  /** Timers due at `now` (earliest first), optionally only of executions leased by `owner`. */
  dueTimers(now: number, limit: number, owner?: string): Promise<TimerRecord[]>;
  /** Adds or replaces resource statuses (outside a step). */
  putResourceStatuses(executionId: string, statuses: readonly NewResourceStatus[]): Promise<void>;
  listResourceStatuses(
    executionId: string,
    options: { taskName?: string; limit: number; after?: { taskName: string; resourceId: string } },
  ): Promise<ResourceStatusRecord[]>;

  // signals
  /** Queues a signal for whoever drives the execution; resolves its id. */
  postSignal(executionId: string, type: string, payload: JsonObject, now: number): Promise<number>;
  /** Pending signals (oldest first) of one execution, or of every execution `owner` leases. */
  pendingSignals(target: { executionId: string } | { owner: string }): Promise<SignalRecord[]>;
  /** Deletes signals that were handled without a step. */
  ackSignals(ids: readonly number[]): Promise<void>;

  close(): Promise<void>;
}

/** Code of {@link LeaseLostError}. */
export const LEASE_LOST = 'Flowrun.LeaseLost';

/** A commit by an owner that no longer holds the execution's lease. */
export class LeaseLostError extends FlowrunError {
  constructor(executionId: string, owner: string) {
    super(LEASE_LOST, `execution ${executionId}: '${owner}' does not hold its lease (taken over or finished)`, { retryable: false });
    this.name = 'LeaseLostError';
  }
}
