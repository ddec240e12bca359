import type { Logger } from 'pino';
import { setTimer, systemClock } from '../shared/clock.js';
import type { Clock, Timer } from '../shared/clock.js';
import { ErrorNames, FlowrunError } from '../shared/errors.js';
import type { Json } from '../shared/json.js';
import { registerBuiltinActions } from './actions/index.js';
import { cancellationError, toTaskError } from './errors.js';
import type { FunctionLoader } from './functions.js';
import PQueue from 'p-queue';
import { SignalLinks } from './signal-links.js';
import { ActionRegistry } from './registry.js';
import type { ActionDefinition, ActionRunContext, ChildFlowStarter, TaskContext, TaskListener, TaskRequest, TaskRunner } from './types.js';

/** Tasks running at once across the whole engine (every execution together). */
export const DEFAULT_MAX_IN_FLIGHT_TASKS = 1000;
/** Deepest child execution `FnF:StartSyncExecution` may start (a top-level execution has depth 0). */
export const DEFAULT_MAX_CHILD_DEPTH = 5;
/** Where `FC:InvokeFunction` looks for local functions, relative to the working directory. */
export const DEFAULT_FUNCTIONS_DIR = 'flows/functions';

export interface TaskEngineOptions {
  /** Time source for timeouts and action sleeps (default: the system clock). */
  clock?: Clock;
  /**
   * The actions to run. When absent, a registry holding the built-in actions (`HTTP:Request`,
   * `FC:InvokeFunction`, `FnF:StartSyncExecution`, `Mock`) is made; when given, it is used as is
   * (call {@link registerBuiltinActions} on it to include the built-ins).
   */
  registry?: ActionRegistry;
  /** Global concurrency limit (default {@link DEFAULT_MAX_IN_FLIGHT_TASKS}). */
  maxInFlight?: number;
  /**
   * Local functions directory for `FC:InvokeFunction` (default {@link DEFAULT_FUNCTIONS_DIR});
   * `false` disables local functions (`FC.FunctionsDisabled`).
   */
  functionsDir?: string | false;
  /** The sentence `FC.FunctionsDisabled` gives when `functionsDir` is false. */
  disabledFunctionsReason?: string;
  logger?: Logger;
  /** Runs child flows for `FnF:StartSyncExecution` (absent: that action fails). */
  startChildFlow?: ChildFlowStarter;
  /** Default {@link DEFAULT_MAX_CHILD_DEPTH}. */
  maxChildDepth?: number;
}

export interface TaskEngine {
  readonly registry: ActionRegistry;
  /** The local functions loader, when the engine registered the built-in actions itself. */
  readonly functions: FunctionLoader | undefined;
  /** Runs one task under the global concurrency limit. */
  runTask: TaskRunner;
  /** A runner for one execution: the global limit plus at most `limit` of this execution's tasks at once. */
  forExecution(limit: number): TaskRunner;
  /** Cancels queued and running tasks (they reject with `FnF.Cancelled`), waits for them, stops watchers. */
  close(): Promise<void>;
}

/**
 * Builds a task engine. Each task: looks up its action, waits for a concurrency slot (global, and
 * per execution via {@link TaskEngine.forExecution}), runs the action with an AbortSignal that
 * aborts on the Task timeout (measured from the moment the action starts, with the injected clock),
 * on `request.signal`, or on {@link TaskEngine.close}.
 *
 * Rejections are always FlowrunErrors: `FnF.Timeout` (retryable) on timeout; on abort, the signal's
 * reason when it is a FlowrunError, else `FnF.Cancelled`; an action's FlowrunError as is; anything
 * else an action throws becomes `FnF.TaskFailed`. A concurrency slot is released as soon as the task
 * settles for its caller, even if an action ignoring its signal is still winding down.
 */
export function createTaskEngine(options: TaskEngineOptions = {}): TaskEngine {
  const clock = options.clock ?? systemClock;
  const logger = options.logger;
  const maxInFlight = checkLimit(options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT_TASKS, 'maxInFlight');
  let registry = options.registry;
  let functions: FunctionLoader | undefined;
  if (!registry) {
    registry = new ActionRegistry();
    functions = registerBuiltinActions(registry, {
      functionsDir: options.functionsDir ?? DEFAULT_FUNCTIONS_DIR,
      ...(options.disabledFunctionsReason !== undefined ? { disabledFunctionsReason: options.disabledFunctionsReason } : {}),
      startChildFlow: options.startChildFlow,
      maxChildDepth: options.maxChildDepth ?? DEFAULT_MAX_CHILD_DEPTH,
      logger,
    }).functions;
  }
  const actions = registry;
  const active = new ActiveTasks();
  const links = new SignalLinks((signal) => {
    for (const run of active.list((r) => r.callerSignal === signal)) run.abort(signal.reason);
  });
  const core: EngineCore = { clock, logger, global: new Slots(maxInFlight), links, active };
  let closed = false;

  function startTask(req: TaskRequest, listener: TaskListener, perExecution: Slots | undefined): void {
    const def = actions.get(req.action);
    if (!def) {
      listener.failed(
        new FlowrunError(ErrorNames.TaskFailed, `unknown action '${req.action}'; known actions: ${actions.names().join(', ')}`, {
          retryable: false,
        }),
      );
      return;
    }
    if (closed) {
      listener.failed(new FlowrunError(ErrorNames.Cancelled, 'task engine is closing', { retryable: false }));
      return;
    }
    if (req.signal?.aborted) {
      listener.failed(cancellationError(req.signal.reason));
      return;
    }
    const run = new TaskRun(core, def, req, perExecution, listener);
    // The task aborts when the caller's signal does: linked with one listener per caller signal,
    // however many tasks share it (no composite AbortSignal per task), or through `req.handle`.
    if (req.signal) core.links.add(req.signal);
    if (req.handle) req.handle.abort = (reason) => run.abort(reason);
    core.active.add(run);
    (perExecution ?? core.global).take(run);
  }

  /** A TaskRunner (promise per task) with its callback form `start` (see TaskRunner). */
  function runner(perExecution: Slots | undefined): TaskRunner {
    const run: TaskRunner = (req) =>
      new Promise<Json>((resolve, reject) => {
        startTask(req, { succeeded: resolve, failed: reject }, perExecution);
      });
    run.start = (req, listener) => startTask(req, listener, perExecution);
    return run;
  }

  return {
    registry: actions,
    functions,
    runTask: runner(undefined),
    forExecution(limit) {
      return runner(new Slots(checkLimit(limit, 'limit')));
    },
    async close() {
      closed = true;
      const reason = new FlowrunError(ErrorNames.Cancelled, 'task engine is closing', { retryable: false });
      for (const run of core.active.list()) run.abort(reason);
      await core.global.onIdle();
      functions?.close();
    },
  };
}

/** What every task of an engine shares. */
interface EngineCore {
  readonly clock: Clock;
  readonly logger: Logger | undefined;
  /** The engine-wide limit ({@link TaskEngineOptions.maxInFlight}). */
  readonly global: Slots;
  readonly links: SignalLinks;
  /** Tasks not settled yet (what {@link TaskEngine.close} aborts). */
  readonly active: ActiveTasks;
}

/**
 * The tasks not settled yet, in the order they came: a list through the tasks themselves. Not a
 * Set: with a long-lived Set taking one add and one delete per task, V8 promoted (nearly) every
 * settled task to old space, with its promise and the caller's callbacks behind it (1.7–4 MB per
 * scavenge in the fan-out benchmark, scavenges of 5–15 ms, then full GCs to reclaim it all); with
 * this list nothing is promoted and a scavenge takes well under 1 ms.
 */
class ActiveTasks {
  private head: TaskRun | undefined;
  private tail: TaskRun | undefined;

  add(run: TaskRun): void {
    run.prevActive = this.tail;
    run.nextActive = undefined;
    if (this.tail) this.tail.nextActive = run;
    else this.head = run;
    this.tail = run;
  }

  /** Removes a task added before (once). */
  delete(run: TaskRun): void {
    const prev = run.prevActive;
    const next = run.nextActive;
    if (prev) prev.nextActive = next;
    else this.head = next;
    if (next) next.prevActive = prev;
    else this.tail = prev;
    run.prevActive = undefined;
    run.nextActive = undefined;
  }

  /** A snapshot of the tasks (matching `filter`), oldest first. */
  list(filter?: (run: TaskRun) => boolean): TaskRun[] {
    const out: TaskRun[] = [];
    for (let run = this.head; run; run = run.nextActive) if (!filter || filter(run)) out.push(run);
    return out;
  }
}

/** Who waits for a slot of {@link Slots}. */
interface SlotTaker {
  /** Called once the slot is held (release it with {@link Slots.release}). */
  granted(slots: Slots): void;
  /** Called instead when handing over the slot failed unexpectedly. */
  failed(err: unknown): void;
}

/**
 * A concurrency limit: a count of the slots held, and a p-queue holding the tasks that wait for
 * one, in order. A task that finds a free slot and nobody waiting takes it at once, without the
 * queue (most tasks, far below the engine-wide limit: p-queue's `add` costs several promises, a
 * closure set and a running-task record per task). The queue stays paused except while a freed
 * slot is being handed on ({@link pump}), one task at a time: each task it starts pauses it again.
 */
class Slots {
  private held = 0;
  private readonly waiting = new PQueue({ autoStart: false });
  /** A {@link pump} is due (queued as a microtask). */
  private scheduled = false;

  constructor(private readonly limit: number) {}

  take(taker: SlotTaker): void {
    if (this.held < this.limit && this.waiting.size === 0) {
      this.held++;
      try {
        taker.granted(this);
      } catch (err) {
        taker.failed(err); // as from the queue: a rejection, never a throw out of runTask
      }
      return;
    }
    this.waiting
      .add(() => {
        this.held++;
        // Paused before the task runs, always: a task may settle at once (an action telling its
        // listener synchronously), free its slot and make its caller queue the next task, which
        // p-queue would start inside this one's call, and so on, one stack frame per waiting
        // task. Paused, the queue hands the free slots out one at a time from pump's loop.
        this.waiting.pause();
        taker.granted(this);
      })
      .catch((err: unknown) => taker.failed(err));
  }

  /**
   * Frees a slot. A waiting task gets it a microtask later, as p-queue would hand it on: when one
   * abort frees several slots (an execution stopping, close), its other tasks are aborted before
   * any of them could start.
   */
  release(): void {
    this.held--;
    if (this.waiting.size > 0 && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.pump);
    }
  }

  /** Settles once no task waits (and p-queue finished its bookkeeping). */
  onIdle(): Promise<void> {
    return this.waiting.onIdle();
  }

  /** Hands free slots to waiting tasks in order. */
  private readonly pump = (): void => {
    this.scheduled = false;
    while (this.held < this.limit && this.waiting.size > 0) {
      this.waiting.start(); // runs the next waiting task, which pauses the queue again
      this.waiting.pause();
    }
  };
}

/**
 * One task in the engine: waits for its slots (per execution, then global), runs its action, and
 * settles once (the first of result, failure, abort), telling its listener. The action's signal
 * is made only when the action asks for it (`ctx.signal`): most tasks never abort, and an
 * AbortController per task is a fair share of a short task's cost. Holds its state in fields rather than in closures, and makes
 * no promise of its own (the caller's listener is told; see TaskRunner.start): every object per
 * task is work for the garbage collector.
 */
class TaskRun implements SlotTaker, TaskListener {
  private controller: AbortController | undefined;
  private reason: { value: unknown } | undefined;
  private done = false;
  /** Slots held: 0 none, 1 the per-execution one (waiting for a global one), 2 all it needs. */
  private holds = 0;
  private started = false;
  /** The Task timeout, while the action runs. */
  private timer: Timer | undefined;
  /** Told the outcome; cleared once told. */
  private listener: TaskListener | undefined;
  /** Neighbours in {@link ActiveTasks}. */
  prevActive: TaskRun | undefined;
  nextActive: TaskRun | undefined;

  constructor(
    private readonly core: EngineCore,
    private readonly def: ActionDefinition,
    private readonly req: TaskRequest,
    private readonly perExecution: Slots | undefined,
    listener: TaskListener,
  ) {
    this.listener = listener;
  }

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  /** The caller's signal (`request.signal`). */
  get callerSignal(): AbortSignal | undefined {
    return this.req.signal;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason.value);
    }
    return this.controller.signal;
  }

  granted(slots: Slots): void {
    if (slots === this.perExecution && this.holds === 0) {
      this.holds = 1;
      if (this.aborted) this.releaseSlots();
      else this.core.global.take(this);
      return;
    }
    this.holds = 2;
    // aborted while queued: settled already; its turn passes straight on
    if (this.aborted) this.releaseSlots();
    else this.execute();
  }

  /** The action's outcome (an action with `start` tells the task itself), or a slot hand-over that failed. */
  failed(err: unknown): void {
    this.fail(toTaskError(err));
  }


  abort(reason: unknown): void {
    if (this.reason) return;
    this.reason = { value: reason };
    this.controller?.abort(reason);
    // an abort (caller, close, Cancel, timeout) settles the task, and frees its slots at once if it runs
    this.fail(cancellationError(reason));
  }

  succeeded(value: Json): void {
    if (this.done) return;
    const listener = this.listener;
    this.settle();
    listener?.succeeded(value);
  }

  fail(err: FlowrunError): void {
    if (this.done) return;
    const listener = this.listener;
    this.settle();
    listener?.failed(err);
  }

  private settle(): void {
    this.done = true;
    this.core.active.delete(this);
    const req = this.req;
    if (req.signal) this.core.links.remove(req.signal);
    // What still points at a settled task (the caller's handle, an action that ignored its signal)
    // holds no more than the task itself: not its listener and what the listener holds.
    if (req.handle) req.handle.abort = undefined;
    this.listener = undefined;
    if (this.started) {
      this.timer?.cancel(); // no timer outlives the task
      this.releaseSlots();
    }
  }

  private releaseSlots(): void {
    const holds = this.holds;
    this.holds = 0;
    if (holds === 2) this.core.global.release();
    if (holds >= 1 && this.perExecution) this.perExecution.release();
  }

  /** Runs the action of a task that has its slots; settles the task (a timeout aborts the action). */
  private execute(): void {
    this.started = true;
    const { req, core } = this;
    const ctx = new ActionContext(this, req.context, core.clock, core.logger);
    const timeoutMs = req.timeoutMs !== undefined && req.timeoutMs > 0 && Number.isFinite(req.timeoutMs) ? req.timeoutMs : undefined;
    if (timeoutMs !== undefined) {
      ctx.deadline = core.clock.now() + timeoutMs;
      this.timer = setTimer(core.clock, timeoutMs, () => {
        // the action's signal aborts (closing sockets, stopping functions) before the caller is
        // told: a retry starts after the timed-out attempt was told to stop
        this.abort(
          new FlowrunError(ErrorNames.Timeout, `task '${req.context.stateName}' (${req.action}) timed out after ${formatMs(timeoutMs)}`, {
            retryable: true,
          }),
        );
      });
    }
    const def = this.def;
    if (def.start) {
      try {
        def.start(req.parameters, ctx, this);
      } catch (err) {
        this.failed(err);
      }
      return;
    }
    let running: Promise<Json>;
    try {
      running = def.run(req.parameters, ctx);
    } catch (err) {
      running = Promise.reject(err);
    }
    running.then(
      (value) => this.succeeded(value),
      (err: unknown) => this.failed(err),
    );
  }
}

/**
 * What an action receives: the task's context copied field by field (a spread followed by a getter
 * makes V8 build the object in its slow path, microseconds per task), the lazy signal as a
 * prototype getter, the clock and the logger.
 */
class ActionContext implements ActionRunContext {
  readonly #run: TaskRun;
  flowName: string;
  executionName: string;
  stateName: string;
  retryCount: number;
  depth: number;
  flowChain: readonly string[] | undefined;
  clock: Clock;
  deadline: number | undefined;
  logger: Logger | undefined;

  constructor(run: TaskRun, context: TaskContext, clock: Clock, logger: Logger | undefined) {
    this.#run = run;
    this.flowName = context.flowName;
    this.executionName = context.executionName;
    this.stateName = context.stateName;
    this.retryCount = context.retryCount;
    this.depth = context.depth;
    this.flowChain = context.flowChain;
    this.clock = clock;
    this.deadline = undefined;
    this.logger = logger;
  }

  get signal(): AbortSignal {
    return this.#run.signal;
  }
}

/** Every field of TaskContext, so that a new one fails to compile here until ActionContext copies it. */
const COPIED_CONTEXT_FIELDS = { flowName: true, executionName: true, stateName: true, retryCount: true, depth: true, flowChain: true } satisfies Record<
  keyof TaskContext,
  true
>;
void COPIED_CONTEXT_FIELDS;

function checkLimit(value: number, name: string): number {
  if (!(value === Number.POSITIVE_INFINITY || (Number.isInteger(value) && value >= 1))) {
    throw new RangeError(`${name} must be a positive integer (or Infinity), got ${value}`);
  }
  return value;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
