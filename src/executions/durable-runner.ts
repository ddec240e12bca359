/**
 * The durable run loop: the durable sibling of `src/interpreter/run.ts`. It drives executions
 * with the pure `step`, but every step is written ahead: its new state, history events, task and
 * timer changes and consumed signals are committed in one transaction (`commitStep`) BEFORE any
 * of its commands runs. After a crash, an execution resumes from its last committed step.
 *
 * Delivery: AT-LEAST-ONCE for RequestComplete tasks. A task whose RunTask was committed but whose
 * result was not (the process died while it ran, or its lease was lost) runs again when the
 * execution is resumed. A task whose result was committed never runs again. Actions with effects
 * should be idempotent (CloudFlow Standard executions make the same promise).
 *
 * Callback tasks (WaitForCustomCallback, and WaitForSystemCallback treated alike) get a task
 * token stored with the task; they end when a `ReportTask` signal arrives for them (see
 * standard-flows.ts) or when their Timeout (kept as a stored timer) expires.
 *
 * Timers (Wait, retry back-off, callback timeouts) are stored as deadlines and scheduled on the
 * injected Clock; after a restart a due timer fires at once and a future one on time.
 *
 * Ownership: each execution is driven by one runner at a time, the holder of its lease. Leases are
 * renewed every `heartbeatMs` (default leaseMs / 3); a runner that dies stops renewing and any
 * runner's claim loop takes its executions over once the lease has expired. Every commit is
 * fenced by the lease, so a runner that lost its lease can no longer write; it stops driving.
 *
 * Signals (stop, task reports, OOS notifications) are queued in the store by whichever instance
 * receives them and picked up by the owner: at once when the owner is this process, else at the
 * next signal poll (`signalPollMs`).
 *
 * No background work is a floating promise: loops, step pumps, timers and task calls are tracked,
 * their rejections handled; a failure while driving an execution ends it as Failed with a
 * FlowrunError code ({@link RunnerErrorNames}) and is logged.
 */
import { setMaxListeners } from 'node:events';
import pino from 'pino';
import type { Logger } from 'pino';
import type { TaskRunner } from '../engine/types.js';
import type { CompiledFlow, TaskMode } from '../flow/graph.js';
import { start, step } from '../interpreter/step.js';
import type { Command, ExecutionState, ExecutionStatus, Frame, HistoryEvent, StepInput, StepResult } from '../interpreter/types.js';
import type { Clock } from '../shared/clock.js';
import { ErrorNames, FlowrunError, toErrorInfo } from '../shared/errors.js';
import type { ErrorInfo } from '../shared/errors.js';
import { newUuid } from '../shared/ids.js';
import { isJsonObject } from '../shared/json.js';
import type { Json, JsonObject } from '../shared/json.js';
import { STANDARD_EXECUTION_TIMEOUT_MS } from '../shared/limits.js';
import { LeaseLostError } from './store.js';
import type {
  CreateExecutionResult,
  ExecutionCursor,
  ExecutionKind,
  ExecutionRecord,
  ExecutionStore,
  NewHistoryRecord,
  NewTimerRecord,
  SignalRecord,
  StepCommit,
  TaskRecord,
  TaskUpdate,
  TimerKind,
} from './store.js';

/** Lease length: how long a dead instance's executions wait before another takes them over. */
export const DEFAULT_LEASE_MS = 30_000;
/** How often signals posted by other instances are looked for. */
export const DEFAULT_SIGNAL_POLL_MS = 500;
/** How often executions without a live lease are looked for (take-over after a crash). */
export const DEFAULT_CLAIM_INTERVAL_MS = 5_000;
/** Executions claimed per query. */
export const DEFAULT_CLAIM_BATCH = 100;
/** Finished executions are purged after this long (0 = never). */
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
/** How often the purge runs. */
export const DEFAULT_PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** Executions purged per purge query. */
export const PURGE_BATCH = 1000;
/** Attempts at committing one step before the execution is failed (delays between, on the clock). */
export const COMMIT_ATTEMPTS = 3;
export const COMMIT_RETRY_DELAY_MS = 200;

/** Signal types the runner understands (others are acknowledged and logged). */
export const SignalTypes = {
  /** payload: `{ error?: {Code, Detail} }` */
  Stop: 'Stop',
  /** payload: `{ taskId, succeeded: true, output }` or `{ taskId, succeeded: false, error: {Code, Detail} }` */
  ReportTask: 'ReportTask',
} as const;

/** Codes of the failures the runner itself records. */
export const RunnerErrorNames = {
  /** The interpreter threw (a bug) or a checkpoint is missing. */
  Internal: 'Flowrun.InternalError',
  /** The execution's definition version is gone or no longer compiles. */
  FlowUnavailable: 'Flowrun.FlowUnavailable',
  /** The store refused to record a step after {@link COMMIT_ATTEMPTS} attempts. */
  StoreFailure: 'Flowrun.StoreFailure',
} as const;

/**
 * What {@link ExecutionHooks} see of an execution the runner drives (read-only views: change it
 * only through the hooks' return values).
 */
export interface DrivenExecution {
  readonly id: string;
  readonly kind: ExecutionKind;
  readonly name: string;
  readonly mode: string | undefined;
  readonly tags: JsonObject;
  readonly parentId: string | undefined;
  /** The interpreter state (after the step, where a hook runs after one). */
  readonly state: ExecutionState;
  /** Open tasks by task id (before the step being planned). */
  readonly tasks: ReadonlyMap<number, OpenTaskView>;
}

/** An open task as hooks see it. */
export interface OpenTaskView {
  readonly id: number;
  readonly path: readonly number[];
  readonly stateName: string;
  readonly action: string;
  readonly mode: TaskMode;
  readonly parameters: Json;
  readonly retryCount: number;
  /** Set while the task is held: kept from running (or, for callback tasks, from starting) until released. */
  readonly hold: JsonObject | undefined;
  /** Data a hook keeps on a waiting task (e.g. approvals so far). */
  readonly progress: JsonObject | undefined;
  /** True while its action is running here. */
  readonly running: boolean;
}

/** A task a step is about to start, as {@link ExecutionHooks.holdTask} sees it. */
export interface NewTaskView {
  readonly id: number;
  readonly path: readonly number[];
  readonly stateName: string;
  readonly action: string;
  readonly mode: TaskMode;
  readonly parameters: Json;
  readonly retryCount: number;
}

/** What a hook decides a signal does (applied in order, serialized with the execution's steps). */
export type ControlDecision =
  /** Feed an input to the interpreter (TaskSucceeded for an approval, Stop for a rejection…). */
  | { type: 'step'; input: StepInput }
  /** Run held tasks (optionally with other parameters). */
  | { type: 'release'; tasks: { id: number; parameters?: Json }[] }
  /** Record progress on a waiting task (kept across restarts). */
  | { type: 'progress'; taskId: number; progress: JsonObject }
  /** End the execution at once with this interpreter status, cancelling its open tasks. */
  | { type: 'end'; status: 'Succeeded' | 'Failed' | 'Stopped'; error?: ErrorInfo; output?: JsonObject }
  /** Abort running tasks: they fail with `error` (a held task is not running: use `step`). */
  | { type: 'abort'; taskIds: number[]; error: ErrorInfo };

/** A history event a control action records (its type is free-form, e.g. `Notified`). */
export interface ControlEvent {
  type: string;
  step?: string;
  detail?: JsonObject;
}

/**
 * Per-kind extensions (set with {@link DurableRunner.setHooks}): how the OOS execution service
 * plugs its lifecycle (holds before risky or debug steps, approvals, failure pauses, its own
 * statuses, loop bookkeeping) into the runner without the runner knowing OOS. Every hook is
 * synchronous except `resolveFlow`, and runs between a step and its commit.
 */
export interface ExecutionHooks {
  /** The compiled flow of an execution being resumed (default: the runner's `resolveFlow`). */
  resolveFlow?(record: ExecutionRecord): Promise<CompiledFlow>;
  /** Runs this kind's RequestComplete tasks (default: the runner's `tasks`). */
  tasks?: TaskRunner;
  /** Depth and chain handed to actions (child executions); default depth 0, chain [flow name]. */
  taskContext?(execution: DrivenExecution): { depth: number; flowChain: readonly string[] };
  /** A task a step starts: return a hold to keep it from running until a `release` decision. */
  holdTask?(execution: DrivenExecution, task: NewTaskView): JsonObject | undefined;
  /** A task failed and the flow would not retry it: return a hold to pause on it instead. */
  holdFailure?(execution: DrivenExecution, task: OpenTaskView, error: ErrorInfo): JsonObject | undefined;
  /** The status stored for the execution (default: the interpreter's). `open`: tasks open after the commit. */
  status?(execution: DrivenExecution, status: ExecutionStatus, open: readonly OpenTaskView[]): string;
  /** After a step (the first one too), before its commit: may add to it (resource statuses…). */
  afterStep?(execution: DrivenExecution, result: StepResult, commit: StepCommit): void;
  /** Signals of types the runner does not know. Undefined: acknowledged and ignored. */
  signal?(execution: DrivenExecution, signal: SignalRecord): { decisions: ControlDecision[]; event?: ControlEvent } | undefined;
  /** The execution has finished (after its final commit), with its stored status. */
  finished?(execution: DrivenExecution, status: string): void;
}

export interface DurableRunnerOptions {
  store: ExecutionStore;
  /** Runs RequestComplete tasks (the task engine's `runTask`). */
  tasks: TaskRunner;
  clock: Clock;
  /** The compiled flow an execution runs (by kind, definition name and version). */
  resolveFlow: (execution: ExecutionRecord) => Promise<CompiledFlow>;
  /** This instance's lease-owner id (default: a new UUID). */
  owner?: string;
  leaseMs?: number;
  /** Default leaseMs / 3. */
  heartbeatMs?: number;
  signalPollMs?: number;
  claimIntervalMs?: number;
  claimBatch?: number;
  retentionMs?: number;
  purgeIntervalMs?: number;
  logger?: Logger;
}

export interface StartRequest {
  /** Store id of the new execution (default: a new UUID). */
  id?: string;
  flow: CompiledFlow;
  kind?: ExecutionKind;
  account?: string;
  /** Default: the flow's name. */
  definitionName?: string;
  definitionVersion: number;
  /** Execution name (unique per definition). */
  name: string;
  input: JsonObject;
  /** Default: 1 year (the Standard limit). */
  timeoutMs?: number;
  parentId?: string;
  mode?: string;
  tags?: JsonObject;
  clientToken?: string;
  /**
   * Create it waiting to start (status {@link QUEUED_STATUS}): stored without running a step, never
   * claimed, until {@link DurableRunner.startQueued} starts it (or {@link DurableRunner.endQueued} ends it).
   */
  queued?: boolean;
}

/** Status of an execution created `queued` that has not started yet. */
export const QUEUED_STATUS = 'Queued';

/** How an execution ended, as told to {@link DurableRunner.onFinished} listeners. */
export interface FinishedExecution {
  id: string;
  status: string;
}

interface OpenTask {
  path: readonly number[];
  action: string;
  mode: TaskMode;
  parameters: Json;
  timeoutMs: number | undefined;
  stateName: string;
  retryCount: number;
  scheduleEventId: number | undefined;
  controller?: AbortController;
  /** Held (not started until released), see {@link ExecutionHooks.holdTask}. */
  hold?: JsonObject;
  /** Data hooks keep on a waiting task. */
  progress?: JsonObject;
}

interface OpenTimer {
  path: readonly number[];
  kind: TimerKind;
  controller: AbortController;
}

interface Item {
  input?: StepInput;
  /** A signal for the kind's hooks (instead of an input). */
  signal?: SignalRecord;
  /** Signals this input consumes (deleted with its commit). */
  ack?: number[];
}

/** What the runner keeps of an execution's record while driving it. */
interface DriverMeta {
  kind: ExecutionKind;
  name: string;
  mode: string | undefined;
  tags: JsonObject;
  parentId: string | undefined;
}

/** What a driver keeps of a stored execution. */
function driverMeta(record: ExecutionRecord): DriverMeta {
  return { kind: record.kind, name: record.name, mode: record.mode, tags: record.tags, parentId: record.parentId };
}

class Driver {
  readonly tasks = new Map<number, OpenTask>();
  readonly timers = new Map<number, OpenTimer>();
  readonly inbox: Item[] = [];
  readonly seenSignals = new Set<number>();
  readonly deadline = new AbortController();
  running = false;
  dead = false;
  /** The status last written to the store. */
  status: string;

  constructor(
    readonly id: string,
    readonly flow: CompiledFlow,
    public state: ExecutionState,
    readonly meta: DriverMeta,
    readonly hooks: ExecutionHooks | undefined,
  ) {
    this.status = state.status;
  }
}

const silentLogger = (): Logger => pino({ level: 'silent' });

/**
 * The reason a deadline or timer sleep is cut short with (its rejection is ignored): shared,
 * because an abort without a reason builds a DOMException, stack and all, every time.
 */
const SLEEP_CANCELLED: unknown = Object.freeze({ reason: 'the sleep is no longer needed' });

const isCallback = (mode: TaskMode): boolean => mode !== 'RequestComplete';

export class DurableRunner {
  readonly owner: string;
  private readonly store: ExecutionStore;
  private readonly tasks: TaskRunner;
  private readonly clock: Clock;
  private readonly resolveFlow: (execution: ExecutionRecord) => Promise<CompiledFlow>;
  private readonly log: Logger;
  readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly signalPollMs: number;
  private readonly claimIntervalMs: number;
  private readonly claimBatch: number;
  private readonly retentionMs: number;
  private readonly purgeIntervalMs: number;

  private readonly drivers = new Map<string, Driver>();
  private readonly hooks = new Map<ExecutionKind, ExecutionHooks>();
  /** Aborted by close() and abandon(): ends loops and timers. */
  private readonly lifetime = new AbortController();
  /** Step pumps, loops, pokes and resumes (awaited by close). */
  private readonly work = new Set<Promise<unknown>>();
  private readonly finishedListeners = new Set<(finished: FinishedExecution) => void>();
  /** Steps, claims, polls and heartbeats under way ({@link settled} waits for them). */
  private readonly active = new Set<Promise<unknown>>();
  private background = false;
  private closed = false;
  private abandoned = false;

  constructor(options: DurableRunnerOptions) {
    this.store = options.store;
    this.tasks = options.tasks;
    this.clock = options.clock;
    this.resolveFlow = options.resolveFlow;
    this.owner = options.owner ?? `runner-${newUuid()}`;
    this.log = (options.logger ?? silentLogger()).child({ component: 'durable-runner', owner: this.owner });
    this.leaseMs = positive(options.leaseMs ?? DEFAULT_LEASE_MS, 'leaseMs');
    this.heartbeatMs = positive(options.heartbeatMs ?? Math.max(1, Math.floor(this.leaseMs / 3)), 'heartbeatMs');
    this.signalPollMs = positive(options.signalPollMs ?? DEFAULT_SIGNAL_POLL_MS, 'signalPollMs');
    this.claimIntervalMs = positive(options.claimIntervalMs ?? DEFAULT_CLAIM_INTERVAL_MS, 'claimIntervalMs');
    this.claimBatch = positive(options.claimBatch ?? DEFAULT_CLAIM_BATCH, 'claimBatch');
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.purgeIntervalMs = positive(options.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS, 'purgeIntervalMs');
    if (this.heartbeatMs >= this.leaseMs) throw new RangeError('heartbeatMs must be shorter than leaseMs');
    // Every loop and commit retry waits on this one signal.
    setMaxListeners(0, this.lifetime.signal);
  }

  // ---------------------------------------------------------------------------------------------
  // public surface
  // ---------------------------------------------------------------------------------------------

  /** Executions this runner drives right now. */
  get driving(): string[] {
    return [...this.drivers.keys()];
  }

  isDriving(executionId: string): boolean {
    return this.drivers.has(executionId);
  }

  /**
   * Installs (or removes) the hooks of one execution kind. Set them before {@link recover} so that
   * resumed executions of that kind get them too.
   */
  setHooks(kind: ExecutionKind, hooks: ExecutionHooks | undefined): void {
    if (hooks) this.hooks.set(kind, hooks);
    else this.hooks.delete(kind);
  }

  /** Called whenever an execution driven here finishes; returns an unsubscribe function. */
  onFinished(listener: (finished: FinishedExecution) => void): () => void {
    this.finishedListeners.add(listener);
    return () => this.finishedListeners.delete(listener);
  }

  /**
   * Starts an execution: runs its first step, creates it in the store together with that step
   * (holding its lease), then carries out the step's commands. When the name (or client token) is
   * taken, nothing is started and the existing execution is returned with `created: false`.
   */
  async startExecution(request: StartRequest): Promise<CreateExecutionResult> {
    this.assertOpen();
    const now = this.clock.now();
    const id = request.id ?? newUuid();
    const kind = request.kind ?? 'flow';
    // what the stored execution says of itself, whether it starts now or waits in the queue
    const identity = {
      id,
      kind,
      ...(request.account !== undefined ? { account: request.account } : {}),
      definitionName: request.definitionName ?? request.flow.name,
      definitionVersion: request.definitionVersion,
      name: request.name,
      input: request.input,
      startedAt: now,
      ...(request.parentId !== undefined ? { parentId: request.parentId } : {}),
      ...(request.mode !== undefined ? { mode: request.mode } : {}),
      ...(request.tags !== undefined ? { tags: request.tags } : {}),
      ...(request.clientToken !== undefined ? { clientToken: request.clientToken } : {}),
    };
    if (request.queued) return this.store.createExecution({ ...identity, status: QUEUED_STATUS, queued: true });
    const first = start({
      flow: request.flow,
      input: request.input,
      executionName: request.name,
      now,
      timeoutMs: request.timeoutMs ?? STANDARD_EXECUTION_TIMEOUT_MS,
      history: true,
      taskTokenSeed: newUuid(),
    });
    const meta: DriverMeta = { kind, name: request.name, mode: request.mode, tags: request.tags ?? {}, parentId: request.parentId };
    const d = new Driver(id, request.flow, first.state, meta, this.hooks.get(kind));
    const plan = this.plan(d, undefined, first, now);
    const result = await this.store.createExecution({
      ...identity,
      status: plan.commit.status,
      ...(plan.commit.output !== undefined ? { output: plan.commit.output } : {}),
      ...(plan.commit.error !== undefined ? { error: plan.commit.error } : {}),
      ...(plan.commit.stoppedAt !== undefined ? { stoppedAt: plan.commit.stoppedAt } : {}),
      state: first.state,
      leaseOwner: this.owner,
      leaseExpiresAt: now + this.leaseMs,
      events: plan.commit.events ?? [],
      newTasks: plan.commit.newTasks ?? [],
      addTimers: plan.commit.addTimers ?? [],
    });
    if (!result.created) return result;
    if (plan.commit.resourceStatuses && plan.commit.resourceStatuses.length > 0) await this.store.putResourceStatuses(id, plan.commit.resourceStatuses);
    this.driveFrom(d, plan);
    this.log.info({ executionId: id, name: request.name, flow: request.flow.name }, 'execution started');
    return result;
  }

  /** After an execution's first step is committed: drive it here, or tell that it has already ended. */
  private driveFrom(d: Driver, plan: Plan): void {
    d.status = plan.commit.status;
    if (d.state.status === 'Running' && !this.closed) {
      this.drivers.set(d.id, d);
      this.scheduleDeadline(d);
      this.apply(d, plan);
    } else if (d.state.status !== 'Running') {
      this.notifyFinished(d);
    }
  }

  /** A queued execution (one that has not started); undefined when it is not (any more). */
  private async queuedRecord(id: string): Promise<ExecutionRecord | undefined> {
    const record = await this.store.getExecution(id);
    return record && record.status === QUEUED_STATUS && record.state === undefined ? record : undefined;
  }


  /**
   * Starts an execution created `queued`: runs its first step (the flow from the kind's hooks or
   * `resolveFlow`) and commits it as the store takes the execution out of the queue, in one
   * transaction; then drives it here. Resolves false when it is no longer queued (started or ended
   * by another instance, or unknown). The execution's deadline counts from now.
   */
  startQueued(id: string): Promise<boolean> {
    this.assertOpen();
    return this.busyWhile(this.startQueuedNow(id));
  }

  private async startQueuedNow(id: string): Promise<boolean> {
    const record = await this.queuedRecord(id);
    if (!record) return false;
    const hooks = this.hooks.get(record.kind);
    let flow: CompiledFlow;
    try {
      flow = await (hooks?.resolveFlow ? hooks.resolveFlow(record) : this.resolveFlow(record));
    } catch (err) {
      // its definition is gone (or broken): it can never start; it ends Failed, the queue moves on
      const error = { Code: RunnerErrorNames.Internal, Detail: `the queued execution cannot start: ${toErrorInfo(err).Detail}` };
      this.log.warn({ executionId: id, err }, 'a queued execution cannot start: it fails');
      await this.finishQueuedNow(record, 'Failed', error);
      return false;
    }
    const now = this.clock.now();
    const first = start({
      flow,
      input: isJsonObject(record.input) ? record.input : {},
      executionName: record.name,
      now,
      timeoutMs: STANDARD_EXECUTION_TIMEOUT_MS,
      history: true,
      taskTokenSeed: newUuid(),
    });
    const d = new Driver(id, flow, first.state, driverMeta(record), hooks);
    const plan = this.plan(d, undefined, first, now);
    plan.commit.state = first.state;
    if (!(await this.store.startQueued(id, plan.commit, now + this.leaseMs))) return false;
    this.driveFrom(d, plan);
    this.log.info({ executionId: id, name: record.name }, 'queued execution started');
    return true;
  }

  /**
   * Ends an execution created `queued` that has not started (e.g. cancelled) with `status` (the
   * kind's own word, e.g. OOS `Cancelled`). Resolves false when it is not queued. The runner's
   * {@link onFinished} listeners are told (no hook: it never ran here).
   */
  endQueued(id: string, status: string, error: ErrorInfo): Promise<boolean> {
    this.assertOpen();
    return this.busyWhile(
      (async () => {
        const record = await this.queuedRecord(id);
        return record !== undefined && this.finishQueuedNow(record, status, error);
      })(),
    );
  }

  private async finishQueuedNow(record: ExecutionRecord, status: string, error: ErrorInfo): Promise<boolean> {
    if (!(await this.store.finishQueued(record.id, { status, error, now: this.clock.now() }))) return false;
    this.emitFinished({ id: record.id, status });
    return true;
  }


  /**
   * Claims every execution without a live lease (and those still leased to this owner id, left by
   * a previous process with the same id) and resumes each from its last checkpoint. Call once at
   * start (then {@link startBackground} keeps claiming). Resolves how many were resumed.
   */
  recover(): Promise<number> {
    this.assertOpen();
    return this.busyWhile(this.claimAndResume(true));
  }

  /** Claims and resumes batch after batch (oldest first) until the claimable ones run out. */
  private async claimAndResume(includeOwn: boolean): Promise<number> {
    let resumed = 0;
    let after: ExecutionCursor | undefined;
    for (;;) {
      const claimed = await this.store.claimRunnable(this.owner, this.clock.now(), this.leaseMs, this.claimBatch, { includeOwn, ...(after ? { after } : {}) });
      for (const record of claimed) if (await this.resume(record)) resumed++;
      const last = claimed[claimed.length - 1];
      if (!last || claimed.length < this.claimBatch || this.closed) break;
      after = { startedAt: last.startedAt, id: last.id };
    }
    if (resumed > 0) this.log.info({ resumed }, 'executions resumed');
    return resumed;
  }

  /** Starts the heartbeat, signal poll, claim and purge loops (idempotent). */
  startBackground(): void {
    this.assertOpen();
    if (this.background) return;
    this.background = true;
    this.every(this.heartbeatMs, 'lease heartbeat', () => this.heartbeat());
    this.every(this.signalPollMs, 'signal poll', () => this.pollSignals());
    this.every(this.claimIntervalMs, 'claim', async () => {
      await this.claimAndResume(false);
    });
    if (this.retentionMs > 0) this.every(this.purgeIntervalMs, 'purge', async () => void (await this.purge()));
  }

  /**
   * Queues a signal for an execution (for whichever instance drives it) and, when this runner
   * drives it, hands it over at once. Resolves the signal id.
   */
  async signal(executionId: string, type: string, payload: JsonObject): Promise<number> {
    const id = await this.store.postSignal(executionId, type, payload, this.clock.now());
    if (this.drivers.has(executionId)) this.track(this.poke(executionId));
    return id;
  }

  /** Purges finished executions older than the retention period; resolves how many. */
  async purge(retentionMs = this.retentionMs): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.store.purgeFinished(this.clock.now() - retentionMs, PURGE_BATCH);
      total += n;
      if (n < PURGE_BATCH) break;
    }
    if (total > 0) this.log.info({ purged: total }, 'finished executions purged');
    return total;
  }

  /**
   * Resolves once nothing is being stepped, claimed or polled (tasks and timers may still be
   * pending). Lets tests wait for the runner without sleeping.
   */
  async settled(maxRounds = 100_000): Promise<void> {
    const turn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
    let quiet = 0;
    for (let i = 0; i < maxRounds; i++) {
      if (this.active.size === 0) {
        if (++quiet >= 3) return;
        await turn();
      } else {
        quiet = 0;
        await Promise.race([Promise.allSettled([...this.active]), turn()]);
      }
    }
    throw new Error('the durable runner did not settle (a step waits on the clock?)');
  }

  /**
   * Stops gracefully: no new step starts, the step being committed completes, running tasks are
   * aborted (their executions stay Running and resume later, here or elsewhere), leases are
   * released so that another instance can take over at once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lifetime.abort(new FlowrunError(ErrorNames.Cancelled, 'the durable runner is closing'));
    const drivers = [...this.drivers.values()];
    for (const d of drivers) this.kill(d, 'the durable runner is closing');
    await Promise.allSettled([...this.work]);
    for (const d of drivers) {
      try {
        await this.store.releaseLease(d.id, this.owner);
      } catch (err) {
        this.log.warn({ err, executionId: d.id }, 'could not release a lease (it will expire)');
      }
    }
  }

  /**
   * Drops everything at once without another write to the store, as if the process had died
   * (tests use it to simulate a crash in-process). Leases are left to expire.
   */
  abandon(): void {
    this.closed = true;
    this.abandoned = true;
    this.lifetime.abort(new FlowrunError(ErrorNames.Cancelled, 'the durable runner was abandoned'));
    for (const d of [...this.drivers.values()]) this.kill(d, 'the durable runner was abandoned');
  }

  // ---------------------------------------------------------------------------------------------
  // resuming
  // ---------------------------------------------------------------------------------------------

  /** Takes over a claimed execution from its last checkpoint. Resolves whether it is now driven. */
  private async resume(record: ExecutionRecord): Promise<boolean> {
    if (this.drivers.has(record.id)) return false;
    if (this.closed) {
      // claimed while closing: hand it back at once (a crashed runner leaves it to expire)
      if (!this.abandoned) await this.store.releaseLease(record.id, this.owner);
      return false;
    }
    if (!record.state) {
      await this.failRecord(record, undefined, { Code: RunnerErrorNames.Internal, Detail: 'the execution has no checkpoint to resume from' });
      return false;
    }
    const hooks = this.hooks.get(record.kind);
    let flow: CompiledFlow;
    try {
      flow = await (hooks?.resolveFlow ? hooks.resolveFlow(record) : this.resolveFlow(record));
    } catch (err) {
      const info = toErrorInfo(err, RunnerErrorNames.FlowUnavailable);
      await this.failRecord(record, record.state, {
        Code: RunnerErrorNames.FlowUnavailable,
        Detail: `cannot resume: ${record.kind} '${record.definitionName}' version ${record.definitionVersion}: ${info.Detail}`,
      });
      return false;
    }
    const [tasks, timers] = await Promise.all([this.store.listTasks(record.id, { openOnly: true }), this.store.listTimers(record.id)]);
    if (this.drivers.has(record.id)) return false;
    if (this.closed) {
      if (!this.abandoned) await this.store.releaseLease(record.id, this.owner);
      return false;
    }
    const meta = driverMeta(record);
    const d = new Driver(record.id, flow, record.state, meta, hooks);
    d.status = record.status;
    this.drivers.set(d.id, d);
    for (const t of tasks) {
      const task = openTaskOf(t);
      d.tasks.set(t.taskId, task);
      // At-least-once: a RequestComplete task that was in flight runs again (unless it is held).
      if (!isCallback(t.mode) && !task.hold) this.launch(d, t.taskId, task);
    }
    for (const t of timers) this.scheduleTimer(d, t.timerId, t.kind, t.dueAt, t.path);
    this.scheduleDeadline(d);
    this.track(this.poke(d.id));
    this.log.info({ executionId: d.id, rerun: [...d.tasks.values()].filter((t) => !isCallback(t.mode) && !t.hold).length, timers: timers.length }, 'execution resumed');
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // stepping
  // ---------------------------------------------------------------------------------------------

  private enqueue(d: Driver, item: Item): void {
    if (d.dead) return;
    d.inbox.push(item);
    if (d.running) return;
    d.running = true;
    this.track(this.busyWhile(this.pump(d)));
  }

  /**
   * Handles the inbox until it is empty. `running` is cleared in the same tick as the inbox is
   * found empty (not in a later `.finally` callback): an item enqueued in between would otherwise
   * find the execution "running" and wait for the next one.
   */
  private async pump(d: Driver): Promise<void> {
    try {
      while (!d.dead) {
        const item = d.inbox.shift();
        if (!item) return;
        try {
          await this.handle(d, item);
        } catch (err) {
          await this.onDriverError(d, err);
          return;
        }
      }
    } finally {
      d.running = false;
    }
  }

  private async handle(d: Driver, item: Item): Promise<void> {
    if (item.signal) {
      await this.control(d, item.signal);
      return;
    }
    if (!item.input) return;
    await this.stepWith(d, item.input, item.ack);
  }

  /** One interpreter step with `input`, committed, then carried out. */
  private async stepWith(d: Driver, input: StepInput, ack?: number[], event?: ControlEvent): Promise<void> {
    const now = this.clock.now();
    let result: StepResult;
    try {
      result = step(d.flow, d.state, input, now, { history: true });
    } catch (err) {
      this.log.error({ err, executionId: d.id }, 'the interpreter failed');
      await this.failDriver(d, { Code: RunnerErrorNames.Internal, Detail: `the interpreter failed: ${toErrorInfo(err).Detail}` }, ack);
      return;
    }
    if (input.type === 'TaskFailed' && d.hooks?.holdFailure && (await this.pauseOnFailure(d, input, result, now, ack))) return;
    // A control event (a notification) is recorded first: the step's own events move up by one.
    const first = d.state.eventCount + 1;
    if (event) result = { ...result, state: withEventCount(result.state, result.state.eventCount + 1), events: result.events.map((e) => ({ ...e, id: e.id + 1 })) };
    const plan = this.plan(d, { input, ...(ack ? { ack } : {}) }, result, now);
    if (event) {
      const e: NewHistoryRecord = { eventId: first, type: event.type, time: now };
      if (event.step !== undefined) e.step = event.step;
      if (event.detail !== undefined) e.detail = event.detail;
      plan.commit.events = [e, ...(plan.commit.events ?? [])];
      plan.commit.state = result.state;
    }
    await this.commitWithRetry(d.id, plan.commit);
    d.state = result.state;
    d.status = plan.commit.status;
    this.apply(d, plan);
  }

  /**
   * FailurePause: a task failed and the step would not retry it (it would be caught or fail its
   * scope). When the hooks hold it, the step is dropped: the task stays open, held, until a
   * release (retry) or a decision that answers it. Resolves whether it was held.
   */
  private async pauseOnFailure(d: Driver, input: Extract<StepInput, { type: 'TaskFailed' }>, result: StepResult, now: number, ack?: number[]): Promise<boolean> {
    const task = d.tasks.get(input.id);
    if (!task || task.hold || !d.hooks?.holdFailure) return false;
    if (retries(d.state, result.state, input.path)) return false;
    const hold = d.hooks.holdFailure(this.view(d), viewOf(input.id, task), input.error);
    if (!hold) return false;
    delete task.controller;
    task.hold = hold;
    await this.commitControl(d, now, { taskUpdates: [{ taskId: input.id, status: 'Waiting', output: { Hold: hold } }] }, ack);
    return true;
  }

  /** Applies what the kind's hooks decide a signal does. */
  private async control(d: Driver, signal: SignalRecord): Promise<void> {
    const ack = [signal.id];
    let outcome: { decisions: ControlDecision[]; event?: ControlEvent } | undefined;
    try {
      outcome = d.hooks?.signal?.(this.view(d), signal);
    } catch (err) {
      this.log.error({ err, executionId: d.id, type: signal.type }, 'a signal hook threw; the signal is dropped');
      outcome = undefined;
    }
    const decisions = outcome?.decisions ?? [];
    let event = outcome?.event;
    let pendingAck: number[] | undefined = ack;
    const now = (): number => this.clock.now();
    for (const decision of decisions) {
      if (d.dead) return;
      switch (decision.type) {
        case 'step':
          await this.stepWith(d, decision.input, pendingAck, event);
          break;
        case 'release': {
          const released: { id: number; task: OpenTask }[] = [];
          const updates: TaskUpdate[] = [];
          for (const r of decision.tasks) {
            const task = d.tasks.get(r.id);
            if (!task?.hold) continue;
            delete task.hold;
            if (r.parameters !== undefined) task.parameters = r.parameters;
            released.push({ id: r.id, task });
            const output: JsonObject = { Released: true };
            if (r.parameters !== undefined) output['Parameters'] = r.parameters;
            updates.push({ taskId: r.id, status: isCallback(task.mode) ? 'Waiting' : 'Scheduled', output });
          }
          if (updates.length === 0 && !event) continue;
          await this.commitControl(d, now(), updates.length > 0 ? { taskUpdates: updates } : {}, pendingAck, event);
          for (const { id, task } of released) this.launch(d, id, task);
          break;
        }
        case 'progress': {
          const task = d.tasks.get(decision.taskId);
          if (!task) continue;
          task.progress = decision.progress;
          await this.commitControl(d, now(), { taskUpdates: [{ taskId: decision.taskId, status: 'Waiting', output: { Progress: decision.progress } }] }, pendingAck, event);
          break;
        }
        case 'end':
          await this.endDriver(d, decision.status, decision.error, decision.output, pendingAck, event);
          break;
        case 'abort':
          for (const id of decision.taskIds) d.tasks.get(id)?.controller?.abort(new FlowrunError(decision.error.Code, decision.error.Detail, { retryable: false }));
          if (!event) continue;
          await this.commitControl(d, now(), {}, pendingAck, event);
          break;
        default: {
          const unhandled: never = decision;
          throw new Error(`unhandled decision ${JSON.stringify(unhandled)}`);
        }
      }
      // the first commit consumes the signal and records the event
      pendingAck = undefined;
      event = undefined;
    }
    if (d.dead) return;
    if (event) await this.commitControl(d, now(), {}, pendingAck, event);
    else if (pendingAck) await this.store.ackSignals(pendingAck);
  }

  /** Commits a change that is not an interpreter step (task holds, releases, progress, an event). */
  private async commitControl(d: Driver, now: number, change: Pick<StepCommit, 'taskUpdates'>, ack?: number[], event?: ControlEvent): Promise<void> {
    const commit: StepCommit = { leaseOwner: this.owner, now, status: this.storedStatus(d, d.state.status, [...d.tasks].map(([id, t]) => viewOf(id, t))), ...change };
    if (ack && ack.length > 0) commit.ackSignals = ack;
    let state = d.state;
    if (event) {
      state = withEventCount(d.state, d.state.eventCount + 1);
      const e: NewHistoryRecord = { eventId: state.eventCount, type: event.type, time: now };
      if (event.step !== undefined) e.step = event.step;
      if (event.detail !== undefined) e.detail = event.detail;
      commit.state = state;
      commit.events = [e];
    }
    await this.commitWithRetry(d.id, commit);
    d.state = state;
    d.status = commit.status;
  }

  /** Ends a driven execution at once with `status` (recorded), cancelling its open tasks. */
  private async endDriver(d: Driver, status: 'Succeeded' | 'Failed' | 'Stopped', error: ErrorInfo | undefined, output: JsonObject | undefined, ack?: number[], event?: ControlEvent): Promise<void> {
    const now = this.clock.now();
    let eventCount = d.state.eventCount;
    const events: NewHistoryRecord[] = [];
    if (event) {
      const e: NewHistoryRecord = { eventId: ++eventCount, type: event.type, time: now };
      if (event.step !== undefined) e.step = event.step;
      if (event.detail !== undefined) e.detail = event.detail;
      events.push(e);
    }
    const type = status === 'Succeeded' ? 'ExecutionSucceeded' : status === 'Failed' ? 'ExecutionFailed' : 'ExecutionStopped';
    events.push({ eventId: ++eventCount, type, time: now, ...(error ? { detail: { Code: error.Code, Detail: error.Detail } } : {}) });
    const state: ExecutionState = { ...d.state, status, stoppedAt: now, eventCount };
    if (error) state.error = error;
    else delete state.error;
    if (output) state.output = output;
    const stored = this.storedStatus(d, status, []);
    await this.commitWithRetry(d.id, {
      leaseOwner: this.owner,
      now,
      state,
      status: stored,
      ...(error ? { error } : {}),
      ...(output ? { output } : {}),
      stoppedAt: now,
      events,
      taskUpdates: [...d.tasks.keys()].map((taskId) => ({ taskId, status: 'Cancelled', endedAt: now })),
      ...(ack && ack.length > 0 ? { ackSignals: ack } : {}),
    });
    d.state = state;
    d.status = stored;
    this.finish(d);
  }

  /** The status written to the store. */
  private storedStatus(d: Driver, status: ExecutionStatus, open: readonly OpenTaskView[]): string {
    if (!d.hooks?.status) return status;
    return d.hooks.status(this.view(d), status, open);
  }

  /**
   * What hooks see of a driver (`state`: another state than the driver's, e.g. after a step). The
   * open-task map is built when first read (most hooks never read it); hooks are synchronous, so
   * it shows the tasks as they were when the hook was called.
   */
  private view(d: Driver, state: ExecutionState = d.state): DrivenExecution {
    let tasks: Map<number, OpenTaskView> | undefined;
    return {
      id: d.id,
      kind: d.meta.kind,
      name: d.meta.name,
      mode: d.meta.mode,
      tags: d.meta.tags,
      parentId: d.meta.parentId,
      state,
      get tasks(): ReadonlyMap<number, OpenTaskView> {
        if (!tasks) {
          tasks = new Map();
          for (const [id, t] of d.tasks) tasks.set(id, viewOf(id, t));
        }
        return tasks;
      },
    };
  }

  private async commitWithRetry(executionId: string, commit: StepCommit): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.commitStep(executionId, commit);
        return;
      } catch (err) {
        if (err instanceof LeaseLostError || attempt >= COMMIT_ATTEMPTS || this.lifetime.signal.aborted) throw err;
        this.log.warn({ err, executionId, attempt }, 'commit failed, retrying');
        await this.clock.sleep(COMMIT_RETRY_DELAY_MS * attempt, this.lifetime.signal);
      }
    }
  }

  private async onDriverError(d: Driver, err: unknown): Promise<void> {
    if (err instanceof LeaseLostError) {
      this.log.warn({ executionId: d.id }, 'lease lost: another instance drives the execution now');
      this.kill(d, 'lease lost');
      return;
    }
    if (d.dead || this.abandoned) return;
    this.log.error({ err, executionId: d.id }, 'could not record a step');
    const info = toErrorInfo(err, RunnerErrorNames.StoreFailure);
    try {
      await this.failDriver(d, { Code: RunnerErrorNames.StoreFailure, Detail: `could not record a step: ${info.Detail}` });
    } catch (again) {
      // The store is unreachable: stop driving; once the lease expires the execution is claimed
      // again and resumes from its last committed step.
      this.log.error({ err: again, executionId: d.id }, 'could not record the failure either; the execution resumes after its lease expires');
      this.kill(d, 'store failure');
    }
  }

  /** Ends a driven execution as Failed (recorded), cancelling its open tasks. */
  private async failDriver(d: Driver, error: ErrorInfo, ack?: number[]): Promise<void> {
    const now = this.clock.now();
    const state: ExecutionState = { ...d.state, status: 'Failed', error, stoppedAt: now, eventCount: d.state.eventCount + 1 };
    const stored = this.storedStatus(d, 'Failed', []);
    await this.store.commitStep(d.id, {
      leaseOwner: this.owner,
      now,
      state,
      status: stored,
      error,
      stoppedAt: now,
      events: [{ eventId: state.eventCount, type: 'ExecutionFailed', time: now, detail: { Code: error.Code, Detail: error.Detail } }],
      taskUpdates: [...d.tasks.keys()].map((taskId) => ({ taskId, status: 'Cancelled', endedAt: now })),
      ...(ack ? { ackSignals: ack } : {}),
    });
    d.state = state;
    d.status = stored;
    this.log.error({ executionId: d.id, code: error.Code, detail: error.Detail }, 'execution failed');
    this.finish(d);
  }

  /** Ends a claimed but not driven execution as Failed. */
  private async failRecord(record: ExecutionRecord, state: ExecutionState | undefined, error: ErrorInfo): Promise<void> {
    const now = this.clock.now();
    const eventId = (state?.eventCount ?? 0) + 1;
    const open = await this.store.listTasks(record.id, { openOnly: true });
    try {
      await this.store.commitStep(record.id, {
        leaseOwner: this.owner,
        now,
        ...(state ? { state: { ...state, status: 'Failed', error, stoppedAt: now, eventCount: eventId } } : {}),
        status: 'Failed',
        error,
        stoppedAt: now,
        events: [{ eventId, type: 'ExecutionFailed', time: now, detail: { Code: error.Code, Detail: error.Detail } }],
        taskUpdates: open.map((t) => ({ taskId: t.taskId, status: 'Cancelled', endedAt: now })),
      });
    } catch (err) {
      if (err instanceof LeaseLostError) return;
      throw err;
    }
    this.log.error({ executionId: record.id, code: error.Code, detail: error.Detail }, 'execution failed');
    this.emitFinished({ id: record.id, status: 'Failed' });
  }

  // ---------------------------------------------------------------------------------------------
  // step → commit → effects
  // ---------------------------------------------------------------------------------------------

  /** What one step writes (the commit) and then does (new tasks and timers, cancellations). */
  private plan(d: Driver, item: Item | undefined, result: StepResult, now: number): Plan {
    const s = result.state;
    const commit: StepCommit = { leaseOwner: this.owner, now, status: s.status };
    if (result.state !== d.state) commit.state = s;
    if (s.status !== 'Running') {
      commit.stoppedAt = s.stoppedAt ?? now;
      if (s.output !== undefined) commit.output = s.output;
      if (s.error !== undefined) commit.error = s.error;
    }
    const input = item?.input;
    const answered = input && (input.type === 'TaskSucceeded' || input.type === 'TaskFailed') ? d.tasks.get(input.id) : undefined;

    // history, with Task results linked to their TaskScheduled event
    const scheduled = new Map<string, number[]>();
    let linked = false;
    const events: NewHistoryRecord[] = result.events.map((e: HistoryEvent) => {
      const r: NewHistoryRecord = { eventId: e.id, type: e.type, time: e.time };
      if (e.step !== undefined) r.step = e.step;
      if (e.path !== undefined && e.path.length > 0) r.path = [...e.path];
      if (e.detail !== undefined) r.detail = e.detail;
      if (e.type === 'TaskScheduled') {
        const key = taskKey(e.step, e.path);
        scheduled.set(key, [...(scheduled.get(key) ?? []), e.id]);
      } else if (!linked && answered?.scheduleEventId !== undefined && (e.type === 'TaskSucceeded' || e.type === 'TaskFailed' || e.type === 'TaskTimedOut')) {
        r.scheduleEventId = answered.scheduleEventId;
        linked = true;
      }
      return r;
    });
    if (events.length > 0) commit.events = events;

    const taskUpdates: TaskUpdate[] = [];
    const removeTimers: number[] = [];
    if (input && (input.type === 'TaskSucceeded' || input.type === 'TaskFailed') && answered) {
      taskUpdates.push(
        input.type === 'TaskSucceeded'
          ? { taskId: input.id, status: 'Succeeded', endedAt: now, output: input.output }
          : { taskId: input.id, status: 'Failed', endedAt: now, error: input.error },
      );
      if (isCallback(answered.mode)) removeTimers.push(input.id);
    }
    if (input?.type === 'TimerFired') removeTimers.push(input.id);

    // what the hooks see of the execution after the step (open tasks as before it), built once
    let after: DrivenExecution | undefined;
    const starts = new Map<number, { task: OpenTask; token?: string }>();
    const timers = new Map<number, NewTimerRecord>();
    const cancels: number[] = [];
    for (const c of result.commands) {
      if (c.type === 'RunTask') {
        const ids = scheduled.get(taskKey(c.stateName, c.path));
        const task: OpenTask = {
          path: c.path,
          action: c.action,
          mode: c.mode,
          parameters: c.parameters,
          timeoutMs: c.timeoutMs,
          stateName: c.stateName,
          retryCount: c.retryCount,
          scheduleEventId: ids?.shift(),
        };
        const entry: { task: OpenTask; token?: string } = { task };
        const hold = d.hooks?.holdTask?.((after ??= this.view(d, s)), { id: c.id, path: c.path, stateName: c.stateName, action: c.action, mode: c.mode, parameters: c.parameters, retryCount: c.retryCount });
        if (hold) task.hold = hold;
        if (isCallback(c.mode)) {
          entry.token = c.taskToken ?? newUuid();
          if (c.timeoutMs !== undefined && c.timeoutMs > 0) timers.set(c.id, { timerId: c.id, kind: 'taskTimeout', dueAt: now + c.timeoutMs, path: [...c.path] });
        }
        starts.set(c.id, entry);
      } else if (c.type === 'StartTimer') {
        timers.set(c.id, { timerId: c.id, kind: 'timer', dueAt: c.at, path: [...c.path] });
      } else if (c.type === 'Cancel') {
        cancels.push(c.id);
      } else {
        // a new command kind fails to compile here until the runner handles it
        const unhandled: never = c;
        throw new Error(`unhandled command ${JSON.stringify(unhandled)}`);
      }
    }
    // Cancellations, including of tasks and timers created by this very step.
    const cancelledNew = new Set<number>();
    for (const id of cancels) {
      if (starts.has(id)) cancelledNew.add(id);
      else if (d.tasks.has(id)) taskUpdates.push({ taskId: id, status: 'Cancelled', endedAt: now });
      if (timers.delete(id)) continue;
      removeTimers.push(id);
    }
    const newTasks: Omit<TaskRecord, 'executionId'>[] = [];
    for (const [id, { task, token }] of starts) {
      const record: Omit<TaskRecord, 'executionId'> = {
        taskId: id,
        stateName: task.stateName,
        action: task.action,
        mode: task.mode,
        path: [...task.path],
        parameters: task.parameters,
        retryCount: task.retryCount,
        status: cancelledNew.has(id) ? 'Cancelled' : isCallback(task.mode) || task.hold ? 'Waiting' : 'Scheduled',
        startedAt: now,
      };
      if (task.hold && !cancelledNew.has(id)) record.output = { Hold: task.hold };
      if (cancelledNew.has(id)) record.endedAt = now;
      if (task.timeoutMs !== undefined) record.timeoutMs = task.timeoutMs;
      if (token !== undefined) record.token = token;
      if (task.scheduleEventId !== undefined) record.scheduleEventId = task.scheduleEventId;
      newTasks.push(record);
    }
    if (newTasks.length > 0) commit.newTasks = newTasks;
    if (taskUpdates.length > 0) commit.taskUpdates = taskUpdates;
    if (timers.size > 0) commit.addTimers = [...timers.values()];
    if (removeTimers.length > 0) commit.removeTimers = removeTimers;
    if (item?.ack && item.ack.length > 0) commit.ackSignals = item.ack;
    if (d.hooks?.status && s.status === 'Running') {
      // the tasks open once this step is carried out
      const open: OpenTaskView[] = [];
      const answeredId = input && (input.type === 'TaskSucceeded' || input.type === 'TaskFailed') ? input.id : undefined;
      for (const [id, t] of d.tasks) if (id !== answeredId && !cancels.includes(id)) open.push(viewOf(id, t));
      for (const [id, { task }] of starts) if (!cancelledNew.has(id)) open.push(viewOf(id, task));
      commit.status = d.hooks.status((after ??= this.view(d, s)), s.status, open);
    } else if (d.hooks?.status) {
      commit.status = d.hooks.status((after ??= this.view(d, s)), s.status, []);
    }
    d.hooks?.afterStep?.(after ?? this.view(d, s), result, commit);
    return { commit, input, starts, cancelledNew, timers: [...timers.values()], cancels, commands: result.commands };
  }

  /** Carries out a committed step: bookkeeping, cancellations, new tasks and timers. */
  private apply(d: Driver, plan: Plan): void {
    const input = plan.input;
    if (input && (input.type === 'TaskSucceeded' || input.type === 'TaskFailed')) {
      d.tasks.delete(input.id);
      this.stopTimer(d, input.id);
    } else if (input?.type === 'TimerFired') {
      d.timers.delete(input.id);
    }
    for (const id of plan.cancels) {
      const task = d.tasks.get(id);
      if (task) {
        task.controller?.abort(new FlowrunError(ErrorNames.Cancelled, `task '${task.stateName}' is no longer needed`));
        d.tasks.delete(id);
      }
      this.stopTimer(d, id);
    }
    if (d.state.status !== 'Running') {
      this.finish(d);
      return;
    }
    if (d.dead) return;
    for (const [id, { task }] of plan.starts) {
      if (plan.cancelledNew.has(id)) continue;
      d.tasks.set(id, task);
      // a held task starts when the hooks release it
      if (!task.hold) this.launch(d, id, task);
    }
    for (const t of plan.timers) this.scheduleTimer(d, t.timerId, t.kind, t.dueAt, t.path);
  }

  private launch(d: Driver, id: number, task: OpenTask): void {
    const controller = new AbortController();
    task.controller = controller;
    const context = d.hooks?.taskContext?.(this.view(d)) ?? { depth: 0, flowChain: [d.state.flowName] };
    const run = d.hooks?.tasks ?? this.tasks;
    const call = Promise.resolve().then(() =>
      run({
        action: task.action,
        parameters: task.parameters,
        ...(task.timeoutMs !== undefined ? { timeoutMs: task.timeoutMs } : {}),
        signal: controller.signal,
        context: {
          flowName: d.state.flowName,
          executionName: d.state.executionName,
          stateName: task.stateName,
          retryCount: task.retryCount,
          depth: context.depth,
          flowChain: context.flowChain,
        },
      }),
    );
    // Settles into the execution's inbox; ignored once the execution is no longer driven here.
    // A callback task's action hands its token on (a message, a notification); its result comes
    // later, by ReportTaskSucceeded/Failed, so only the action's failure is an answer here.
    void call.then(
      (output) => {
        if (!isCallback(task.mode)) this.enqueue(d, { input: { type: 'TaskSucceeded', path: task.path, id, output } });
      },
      (err: unknown) => this.enqueue(d, { input: { type: 'TaskFailed', path: task.path, id, error: toErrorInfo(err, ErrorNames.TaskFailed) } }),
    );
  }

  private scheduleTimer(d: Driver, id: number, kind: TimerKind, dueAt: number, path: readonly number[]): void {
    if (d.dead) return;
    this.stopTimer(d, id);
    const controller = new AbortController();
    d.timers.set(id, { path, kind, controller });
    // A timer already due (after a restart) fires at once, not on the clock's next move.
    void sleepUntil(this.clock, dueAt, controller.signal).then(
      () => {
        if (controller.signal.aborted || d.timers.get(id)?.controller !== controller) return;
        if (kind === 'timer') {
          this.enqueue(d, { input: { type: 'TimerFired', path, id } });
          return;
        }
        const task = d.tasks.get(id);
        if (!task) return;
        this.enqueue(d, {
          input: {
            type: 'TaskFailed',
            path,
            id,
            error: { Code: ErrorNames.Timeout, Detail: `task '${task.stateName}' was not reported within ${task.timeoutMs ?? 0} ms` },
          },
        });
      },
      () => undefined, // cancelled
    );
  }

  private stopTimer(d: Driver, id: number): void {
    const timer = d.timers.get(id);
    if (!timer) return;
    timer.controller.abort(SLEEP_CANCELLED);
    d.timers.delete(id);
  }

  private scheduleDeadline(d: Driver): void {
    void sleepUntil(this.clock, d.state.deadline, d.deadline.signal).then(
      () => this.enqueue(d, { input: { type: 'TimedOut' } }),
      () => undefined,
    );
  }

  /** The execution finished (committed): forget it here. */
  private finish(d: Driver): void {
    this.kill(d, 'the execution has ended');
    this.log.info({ executionId: d.id, status: d.status }, 'execution finished');
    this.notifyFinished(d);
  }

  private notifyFinished(d: Driver): void {
    try {
      d.hooks?.finished?.(this.view(d), d.status);
    } catch (err) {
      this.log.error({ err, executionId: d.id }, 'a finished hook threw');
    }
    this.emitFinished({ id: d.id, status: d.status });
  }

  /** Stops driving an execution here: aborts its tasks and timers, drops queued inputs. */
  private kill(d: Driver, reason: string): void {
    if (this.drivers.get(d.id) === d) this.drivers.delete(d.id);
    if (d.dead) return;
    d.dead = true;
    d.inbox.length = 0;
    d.deadline.abort(SLEEP_CANCELLED);
    let err: FlowrunError | undefined;
    for (const task of d.tasks.values()) {
      if (task.controller && !task.controller.signal.aborted) task.controller.abort((err ??= new FlowrunError(ErrorNames.Cancelled, reason)));
    }
    for (const timer of d.timers.values()) timer.controller.abort(SLEEP_CANCELLED);
    d.timers.clear();
  }

  private emitFinished(finished: FinishedExecution): void {
    for (const listener of [...this.finishedListeners]) {
      try {
        listener(finished);
      } catch (err) {
        this.log.error({ err }, 'a finished-execution listener threw');
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // signals
  // ---------------------------------------------------------------------------------------------

  private poke(executionId: string): Promise<void> {
    return this.busyWhile(
      (async () => {
        if (!this.drivers.has(executionId)) return;
        this.dispatch(await this.store.pendingSignals({ executionId }));
      })(),
    );
  }

  private async pollSignals(): Promise<void> {
    if (this.drivers.size === 0) return;
    this.dispatch(await this.store.pendingSignals({ owner: this.owner }));
  }

  private dispatch(signals: readonly SignalRecord[]): void {
    const ackOnly: number[] = [];
    for (const s of signals) {
      const d = this.drivers.get(s.executionId);
      if (!d || d.dead || d.seenSignals.has(s.id)) continue;
      d.seenSignals.add(s.id);
      if (s.type !== SignalTypes.Stop && s.type !== SignalTypes.ReportTask && d.hooks?.signal) {
        this.enqueue(d, { signal: s });
        continue;
      }
      const input = this.signalInput(d, s);
      if (input) this.enqueue(d, { input, ack: [s.id] });
      else ackOnly.push(s.id);
    }
    if (ackOnly.length > 0) {
      this.track(this.store.ackSignals(ackOnly));
    }
  }

  private signalInput(d: Driver, s: SignalRecord): StepInput | undefined {
    if (s.type === SignalTypes.Stop) {
      const error = s.payload['error'];
      return isErrorInfo(error) ? { type: 'Stop', error } : { type: 'Stop' };
    }
    if (s.type === SignalTypes.ReportTask) {
      const taskId = s.payload['taskId'];
      const task = typeof taskId === 'number' ? d.tasks.get(taskId) : undefined;
      if (typeof taskId !== 'number' || !task || !isCallback(task.mode)) {
        this.log.info({ executionId: d.id, taskId }, 'task report for a task that no longer waits: ignored');
        return undefined;
      }
      if (s.payload['succeeded'] === true) return { type: 'TaskSucceeded', path: task.path, id: taskId, output: s.payload['output'] ?? {} };
      const error = s.payload['error'];
      return { type: 'TaskFailed', path: task.path, id: taskId, error: isErrorInfo(error) ? error : { Code: ErrorNames.TaskFailed, Detail: 'the task was reported failed' } };
    }
    this.log.warn({ executionId: d.id, type: s.type }, 'unknown signal type: ignored');
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // background
  // ---------------------------------------------------------------------------------------------

  private async heartbeat(): Promise<void> {
    const ids = [...this.drivers.keys()];
    if (ids.length === 0) return;
    const held = new Set(await this.store.renewLeases(this.owner, this.clock.now(), this.leaseMs, ids));
    for (const id of ids) {
      const d = this.drivers.get(id);
      if (d && !held.has(id) && !d.dead && !d.running) {
        this.log.warn({ executionId: id }, 'lease lost: another instance drives the execution now');
        this.kill(d, 'lease lost');
      }
    }
  }

  private every(ms: number, what: string, fn: () => Promise<void>): void {
    const loop = async (): Promise<void> => {
      while (!this.lifetime.signal.aborted) {
        try {
          await this.clock.sleep(ms, this.lifetime.signal);
        } catch {
          return;
        }
        try {
          await this.busyWhile(fn());
        } catch (err) {
          if (!this.lifetime.signal.aborted) this.log.error({ err }, `${what} failed`);
        }
      }
    };
    this.track(loop());
  }

  private busyWhile<T>(promise: Promise<T>): Promise<T> {
    const done = promise.then(
      () => undefined,
      () => undefined,
    );
    this.active.add(done);
    void done.then(() => this.active.delete(done));
    return promise;
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.then(
      () => undefined,
      (err: unknown) => {
        if (!this.abandoned) this.log.error({ err }, 'background work failed');
      },
    );
    this.work.add(tracked);
    void tracked.finally(() => this.work.delete(tracked));
  }

  private assertOpen(): void {
    if (this.closed) throw new FlowrunError(ErrorNames.Cancelled, 'the durable runner is closed');
  }
}

interface Plan {
  commit: StepCommit;
  input: StepInput | undefined;
  starts: Map<number, { task: OpenTask; token?: string }>;
  cancelledNew: Set<number>;
  timers: NewTimerRecord[];
  cancels: number[];
  commands: readonly Command[];
}

/** Longest single sleep: Node timers overflow past 2^31 - 1 ms (and then fire at once). */
export const MAX_SLEEP_CHUNK_MS = 2_147_483_647;

/**
 * Resolves at clock time `at` (at once when it has passed), sleeping in chunks a timer can hold:
 * a Standard execution's one-year deadline is far beyond what one timer can wait.
 */
export async function sleepUntil(clock: Clock, at: number, signal: AbortSignal): Promise<void> {
  for (;;) {
    if (signal.aborted) throw signal.reason;
    const left = at - clock.now();
    if (left <= 0) return;
    await clock.sleep(Math.min(left, MAX_SLEEP_CHUNK_MS), signal);
  }
}

function openTaskOf(t: TaskRecord): OpenTask {
  const task: OpenTask = {
    path: t.path,
    action: t.action,
    mode: t.mode,
    parameters: t.parameters,
    timeoutMs: t.timeoutMs,
    stateName: t.stateName,
    retryCount: t.retryCount,
    scheduleEventId: t.scheduleEventId,
  };
  // What hooks left on the open task (see commitControl): a hold, progress, released parameters.
  const kept = t.output;
  if (kept !== undefined && isJsonObject(kept)) {
    const hold = kept['Hold'];
    const progress = kept['Progress'];
    if (hold !== undefined && isJsonObject(hold) && t.status === 'Waiting') task.hold = hold;
    if (progress !== undefined && isJsonObject(progress)) task.progress = progress;
    if (kept['Released'] === true && kept['Parameters'] !== undefined) task.parameters = kept['Parameters'];
  }
  return task;
}

function viewOf(id: number, t: OpenTask): OpenTaskView {
  return {
    id,
    path: t.path,
    stateName: t.stateName,
    action: t.action,
    mode: t.mode,
    parameters: t.parameters,
    retryCount: t.retryCount,
    hold: t.hold,
    progress: t.progress,
    running: t.controller !== undefined && !t.controller.signal.aborted,
  };
}

function withEventCount(state: ExecutionState, eventCount: number): ExecutionState {
  return { ...state, eventCount };
}

/** The frame at `path` (child indexes from the root), if it exists. */
function frameAt(state: ExecutionState, path: readonly number[]): Frame | undefined {
  let frame: Frame | undefined = state.root;
  for (const i of path) {
    frame = frame?.kids?.[i] ?? undefined;
    if (!frame) return undefined;
  }
  return frame;
}

/** Whether a step that failed the task at `path` retries it (same node, waiting to run it again). */
function retries(before: ExecutionState, after: ExecutionState, path: readonly number[]): boolean {
  const was = frameAt(before, path);
  const now = frameAt(after, path);
  if (!was || !now || after.status !== 'Running') return false;
  return now.scope === was.scope && now.node === was.node && (now.phase === 'retry' || (now.phase === 'task' && now.waitId !== was.waitId));
}

const taskKey = (stateName: string | undefined, path: readonly number[] | undefined): string => `${stateName ?? ''}\u0000${(path ?? []).join('.')}`;

function isErrorInfo(value: unknown): value is ErrorInfo {
  return isJsonObject(value as Json) && typeof (value as JsonObject)['Code'] === 'string' && typeof (value as JsonObject)['Detail'] === 'string';
}

function positive(value: number, name: string): number {
  if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

