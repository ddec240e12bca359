import type { Logger } from 'pino';
import { systemClock } from '../shared/clock.js';
import type { Clock } from '../shared/clock.js';
import { ErrorNames, FlowrunError } from '../shared/errors.js';
import type { Json } from '../shared/json.js';
import { registerBuiltinActions } from './actions/index.js';
import { cancellationError, toTaskError } from './errors.js';
import type { FunctionLoader } from './functions.js';
import PQueue from 'p-queue';
import { SignalLinks } from './signal-links.js';
import type { Abortable } from './signal-links.js';
import { ActionRegistry } from './registry.js';
import type { ActionDefinition, ActionRunContext, ChildFlowStarter, TaskRequest, TaskRunner } from './types.js';

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
  const global = new PQueue({ concurrency: maxInFlight });
  const links = new SignalLinks();
  const active = new Set<TaskRun>();
  let closed = false;

  /** Runs the action of a task that has its slot; settles `run` (a timeout aborts the action). */
  function execute(def: ActionDefinition, req: TaskRequest, run: TaskRun): Promise<void> {
    return new Promise<void>((slotFree) => {
      const timeoutMs = req.timeoutMs !== undefined && req.timeoutMs > 0 && Number.isFinite(req.timeoutMs) ? req.timeoutMs : undefined;
      const timer = timeoutMs === undefined ? undefined : new AbortController();
      const done = (): void => {
        timer?.abort(); // cancels the pending timeout sleep: no timer outlives the task
        slotFree();
      };
      // an abort (caller, close, Cancel, timeout) settles the task and frees its slot at once
      run.onAbort = (reason) => {
        run.fail(cancellationError(reason));
        done();
      };
      const ctx = run.context(req, clock, logger);
      if (timer && timeoutMs !== undefined) {
        ctx.deadline = clock.now() + timeoutMs;
        clock.sleep(timeoutMs, timer.signal).then(
          () => {
            const err = new FlowrunError(ErrorNames.Timeout, `task '${req.context.stateName}' (${req.action}) timed out after ${formatMs(timeoutMs)}`, { retryable: true });
            run.fail(err);
            run.abort(err); // tells the action to stop (closes sockets, aborts functions)
          },
          () => undefined, // cancelled because the task settled first
        );
      }
      let running: Promise<Json>;
      try {
        running = def.run(req.parameters, ctx);
      } catch (err) {
        running = Promise.reject(err);
      }
      running.then(
        (value) => {
          run.succeed(value);
          done();
        },
        (err: unknown) => {
          run.fail(toTaskError(err));
          done();
        },
      );
    });
  }

  function runTask(req: TaskRequest, perExecution: PQueue | undefined): Promise<Json> {
    const def = actions.get(req.action);
    if (!def) {
      return Promise.reject(
        new FlowrunError(ErrorNames.TaskFailed, `unknown action '${req.action}'; known actions: ${actions.names().join(', ')}`, {
          retryable: false,
        }),
      );
    }
    if (closed) return Promise.reject(new FlowrunError(ErrorNames.Cancelled, 'task engine is closing', { retryable: false }));
    if (req.signal?.aborted) return Promise.reject(cancellationError(req.signal.reason));

    // The task aborts when the caller's signal does: linked with one listener per caller signal,
    // however many tasks share it (no composite AbortSignal per task), or through `req.handle`.
    const run = new TaskRun();
    const external = req.signal;
    if (external) links.add(external, run);
    if (req.handle) req.handle.abort = (reason) => run.abort(reason);
    active.add(run);
    const settled = new Promise<Json>((resolve, reject) => {
      run.settle = (err, value) => {
        active.delete(run);
        if (external) links.remove(external, run);
        if (err) reject(err);
        else resolve(value as Json);
      };
    });
    // aborted while queued: settled at once; its turn then passes straight on
    run.onAbort = (reason) => run.fail(cancellationError(reason));
    const job = (): Promise<void> => (run.aborted ? Promise.resolve() : execute(def, req, run));
    const queued = perExecution ? perExecution.add(() => global.add(job)) : global.add(job);
    queued.catch((err: unknown) => run.fail(toTaskError(err)));
    return settled;
  }

  return {
    registry: actions,
    functions,
    runTask: (req) => runTask(req, undefined),
    forExecution(limit) {
      const queue = new PQueue({ concurrency: checkLimit(limit, 'limit') });
      return (req) => runTask(req, queue);
    },
    async close() {
      closed = true;
      const reason = new FlowrunError(ErrorNames.Cancelled, 'task engine is closing', { retryable: false });
      for (const run of [...active]) run.abort(reason);
      await global.onIdle();
      functions?.close();
    },
  };
}

/**
 * One task in the engine: settles once (the first of result, failure, abort), and aborts its action
 * through a signal made only when the action asks for it (`ctx.signal`): most tasks never abort,
 * and an AbortController per task is a fair share of a short task's cost.
 */
class TaskRun implements Abortable {
  private controller: AbortController | undefined;
  private reason: { value: unknown } | undefined;
  private done = false;
  /** Set by the engine: resolves or rejects the task's promise. */
  settle: ((err: FlowrunError | undefined, value?: Json) => void) | undefined;
  /** What an abort does now (queued: reject; running: reject, the action stops on its signal). */
  onAbort: ((reason: unknown) => void) | undefined;

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason.value);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.reason) return;
    this.reason = { value: reason };
    this.controller?.abort(reason);
    this.onAbort?.(reason);
  }

  succeed(value: Json): void {
    if (this.done) return;
    this.done = true;
    this.settle?.(undefined, value);
  }

  fail(err: FlowrunError): void {
    if (this.done) return;
    this.done = true;
    this.settle?.(err);
  }

  /** The action's context: the task's context, its (lazy) signal, the clock and the logger. */
  context(req: TaskRequest, clock: Clock, logger: Logger | undefined): ActionRunContext {
    const signal = (): AbortSignal => this.signal;
    const ctx: ActionRunContext = {
      ...req.context,
      get signal(): AbortSignal {
        return signal();
      },
      clock,
    };
    if (logger) ctx.logger = logger;
    return ctx;
  }
}

function checkLimit(value: number, name: string): number {
  if (!(value === Number.POSITIVE_INFINITY || (Number.isInteger(value) && value >= 1))) {
    throw new RangeError(`${name} must be a positive integer (or Infinity), got ${value}`);
  }
  return value;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
