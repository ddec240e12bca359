import { describe, expect, it } from 'vitest';
import { ManualClock, flushMicrotasks } from '../../src/shared/clock.js';
import { ErrorNames, FlowrunError } from '../../src/shared/errors.js';
import type { Json } from '../../src/shared/json.js';
import {
  ActionRegistry,
  createMockAction,
  createTaskEngine,
  DEFAULT_FUNCTIONS_DIR,
  DEFAULT_MAX_CHILD_DEPTH,
  DEFAULT_MAX_IN_FLIGHT_TASKS,
} from '../../src/engine/index.js';
import type { ActionDefinition, ActionRunContext } from '../../src/engine/index.js';
import { context, drain, gateAction, rejectionOf, request } from './helpers.js';

/** An action that waits until its signal aborts and records what it saw. */
function waitForAbortAction(seen: { signal?: AbortSignal; reason?: unknown; ctx?: ActionRunContext }): ActionDefinition {
  return {
    name: 'Test:WaitForAbort',
    description: '',
    parametersSchema: {},
    highRisk: false,
    run: (_p, ctx) =>
      new Promise<Json>((_resolve, reject) => {
        seen.signal = ctx.signal;
        seen.ctx = ctx;
        ctx.signal.addEventListener('abort', () => {
          seen.reason = ctx.signal.reason;
          reject(new Error('stopped'));
        });
      }),
  };
}

function simple(name: string, run: ActionDefinition['run']): ActionDefinition {
  return { name, description: '', parametersSchema: {}, highRisk: false, run };
}

describe('createTaskEngine', () => {
  it('names its defaults', () => {
    expect(DEFAULT_MAX_IN_FLIGHT_TASKS).toBe(1000);
    expect(DEFAULT_MAX_CHILD_DEPTH).toBe(5);
    expect(DEFAULT_FUNCTIONS_DIR).toBe('flows/functions');
    expect(() => createTaskEngine({ maxInFlight: 0 })).toThrow(RangeError);
    expect(() => createTaskEngine().forExecution(1.5)).toThrow(RangeError);
  });

  it('rejects an unknown action with a non-retryable FnF.TaskFailed naming the known ones', async () => {
    const engine = createTaskEngine();
    const err = await rejectionOf(engine.runTask(request('HTTP:Reqest', {})));
    expect(err).toBeInstanceOf(FlowrunError);
    expect(err.code).toBe(ErrorNames.TaskFailed);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain("unknown action 'HTTP:Reqest'");
    expect(err.message).toContain('HTTP:Request');
  });

  it('runs Mock: result, error and a delay on the injected clock', async () => {
    const clock = new ManualClock();
    const engine = createTaskEngine({ clock });
    await expect(engine.runTask(request('Mock', { result: { ok: true } }))).resolves.toEqual({ ok: true });
    await expect(engine.runTask(request('Mock', {}))).resolves.toEqual({});
    const err = await rejectionOf(engine.runTask(request('Mock', { error: { Code: 'Custom.Boom', Detail: 'bad' } })));
    expect([err.code, err.message, err.retryable]).toEqual(['Custom.Boom', 'bad', false]);

    let value: Json | undefined;
    const delayed = engine.runTask(request('Mock', { result: { late: 1 }, delaySeconds: 10 })).then((v) => (value = v));
    await clock.advance(9_999);
    expect(value).toBeUndefined();
    await clock.advance(1);
    await delayed;
    expect(value).toEqual({ late: 1 });
  });

  it('times out with the clock: aborts the action signal and rejects with retryable FnF.Timeout', async () => {
    const clock = new ManualClock();
    const seen: { signal?: AbortSignal; reason?: unknown; ctx?: ActionRunContext } = {};
    const engine = createTaskEngine({ clock, registry: new ActionRegistry([waitForAbortAction(seen)]) });
    let outcome: unknown;
    const task = engine.runTask(request('Test:WaitForAbort', {}, { timeoutMs: 5_000 })).catch((e: unknown) => (outcome = e));
    await clock.advance(4_999);
    expect(outcome).toBeUndefined();
    expect(seen.signal?.aborted).toBe(false);
    expect(seen.ctx?.deadline).toBe(clock.now() + 1);
    await clock.advance(1);
    await task;
    const err = outcome as FlowrunError;
    expect(err.code).toBe(ErrorNames.Timeout);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain("task 'Step' (Test:WaitForAbort) timed out after 5 s");
    expect(seen.signal?.aborted).toBe(true);
    expect((seen.reason as FlowrunError).code).toBe(ErrorNames.Timeout);
    expect(clock.pendingCount).toBe(0);
  });

  it('cancels the timeout sleep when the action settles first', async () => {
    const clock = new ManualClock();
    const engine = createTaskEngine({ clock });
    await expect(engine.runTask(request('Mock', { result: { a: 1 } }, { timeoutMs: 60_000 }))).resolves.toEqual({ a: 1 });
    await expect(engine.runTask(request('Mock', { error: { Code: 'X' } }, { timeoutMs: 60_000 }))).rejects.toMatchObject({ code: 'X' });
    expect(clock.pendingCount).toBe(0);
  });

  it('wraps errors that are not FlowrunErrors as FnF.TaskFailed, sync or async', async () => {
    const registry = new ActionRegistry([
      simple('Test:Throw', async () => {
        throw new TypeError('kaput');
      }),
      simple('Test:SyncThrow', () => {
        throw new Error('sync kaput');
      }),
      simple('Test:Flowrun', async () => {
        throw new FlowrunError('Custom.Err', 'mine', { retryable: true });
      }),
    ]);
    const engine = createTaskEngine({ registry });
    const a = await rejectionOf(engine.runTask(request('Test:Throw', {})));
    expect([a.code, a.message, a.retryable]).toEqual([ErrorNames.TaskFailed, 'kaput', false]);
    const b = await rejectionOf(engine.runTask(request('Test:SyncThrow', {})));
    expect([b.code, b.message]).toEqual([ErrorNames.TaskFailed, 'sync kaput']);
    const c = await rejectionOf(engine.runTask(request('Test:Flowrun', {})));
    expect([c.code, c.message, c.retryable]).toEqual(['Custom.Err', 'mine', true]);
  });

  it('passes the task context, clock and parameters to the action', async () => {
    const clock = new ManualClock();
    let got: { parameters?: Json; ctx?: ActionRunContext } = {};
    const registry = new ActionRegistry([simple('Test:Echo', async (parameters, ctx) => ((got = { parameters, ctx }), { ok: true }))]);
    const engine = createTaskEngine({ clock, registry });
    await engine.runTask({ action: 'Test:Echo', parameters: { x: 1 }, context: context('Echo', { retryCount: 2, depth: 1 }) });
    expect(got.parameters).toEqual({ x: 1 });
    expect(got.ctx).toMatchObject({ flowName: 'test-flow', executionName: 'exec-1', stateName: 'Echo', retryCount: 2, depth: 1 });
    expect(got.ctx?.clock).toBe(clock);
    expect(got.ctx?.deadline).toBeUndefined();
  });

  it('an external abort rejects with FnF.Cancelled and aborts the action', async () => {
    const seen: { signal?: AbortSignal; reason?: unknown } = {};
    const engine = createTaskEngine({ registry: new ActionRegistry([waitForAbortAction(seen)]) });
    const controller = new AbortController();
    const task = rejectionOf(engine.runTask(request('Test:WaitForAbort', {}, { signal: controller.signal })));
    await flushMicrotasks();
    expect(seen.signal?.aborted).toBe(false);
    controller.abort();
    const err = await task;
    expect(err.code).toBe(ErrorNames.Cancelled);
    expect(err.retryable).toBe(false);
    expect(seen.signal?.aborted).toBe(true);

    const pre = new AbortController();
    pre.abort();
    expect((await rejectionOf(engine.runTask(request('Test:WaitForAbort', {}, { signal: pre.signal })))).code).toBe(ErrorNames.Cancelled);
  });

  it('an abort whose reason is a FlowrunError rejects with that error', async () => {
    const engine = createTaskEngine({ registry: new ActionRegistry([waitForAbortAction({})]) });
    const controller = new AbortController();
    const task = rejectionOf(engine.runTask(request('Test:WaitForAbort', {}, { signal: controller.signal })));
    await flushMicrotasks();
    controller.abort(new FlowrunError(ErrorNames.Timeout, 'execution timed out', { retryable: false }));
    const err = await task;
    expect([err.code, err.message]).toEqual([ErrorNames.Timeout, 'execution timed out']);
  });

  it('an abort while queued removes the task before it runs', async () => {
    const gate = gateAction();
    const engine = createTaskEngine({ maxInFlight: 1, registry: new ActionRegistry([gate.def]) });
    const first = engine.runTask(request('Test:Gate', { i: 1 }));
    const controller = new AbortController();
    const second = rejectionOf(engine.runTask(request('Test:Gate', { i: 2 }, { signal: controller.signal })));
    await flushMicrotasks();
    expect(gate.started).toBe(1);
    controller.abort();
    expect((await second).code).toBe(ErrorNames.Cancelled);
    gate.releaseAll();
    await expect(first).resolves.toEqual({ i: 1 });
    await flushMicrotasks();
    expect(gate.started).toBe(1);
  });

  it('close() cancels queued and running tasks and refuses new ones', async () => {
    const seen: { signal?: AbortSignal } = {};
    const gate = gateAction();
    const engine = createTaskEngine({ maxInFlight: 1, registry: new ActionRegistry([waitForAbortAction(seen), gate.def]) });
    const running = rejectionOf(engine.runTask(request('Test:WaitForAbort', {})));
    const queued = rejectionOf(engine.runTask(request('Test:Gate', {})));
    await flushMicrotasks();
    await engine.close();
    expect((await running).code).toBe(ErrorNames.Cancelled);
    expect((await queued).code).toBe(ErrorNames.Cancelled);
    expect(seen.signal?.aborted).toBe(true);
    expect(gate.started).toBe(0);
    expect((await rejectionOf(engine.runTask(request('Mock', {})))).code).toBe(ErrorNames.TaskFailed); // custom registry: no Mock
    expect((await rejectionOf(engine.runTask(request('Test:Gate', {})))).code).toBe(ErrorNames.Cancelled);
  });
});

describe('concurrency', () => {
  it('forExecution(40): 1,000 tasks, exactly 40 in flight at most, results in order', async () => {
    const gate = gateAction();
    const engine = createTaskEngine({ registry: new ActionRegistry([gate.def]) });
    const run = engine.forExecution(40);
    const tasks = Array.from({ length: 1000 }, (_, i) => run(request('Test:Gate', { i })));
    await flushMicrotasks();
    expect(gate.inFlight).toBe(40);
    await drain(gate, tasks, 40);
    expect(gate.maxInFlight).toBe(40);
    expect(gate.started).toBe(1000);
    expect(await Promise.all(tasks)).toEqual(Array.from({ length: 1000 }, (_, i) => ({ i })));
  });

  it('the global limit holds across runTask and several executions', async () => {
    const gate = gateAction();
    const engine = createTaskEngine({ maxInFlight: 25, registry: new ActionRegistry([gate.def]) });
    const a = engine.forExecution(20);
    const b = engine.forExecution(20);
    const tasks = [
      ...Array.from({ length: 400 }, (_, i) => engine.runTask(request('Test:Gate', { i }))),
      ...Array.from({ length: 300 }, (_, i) => a(request('Test:Gate', { i: 1000 + i }))),
      ...Array.from({ length: 300 }, (_, i) => b(request('Test:Gate', { i: 2000 + i }))),
    ];
    await flushMicrotasks();
    expect(gate.inFlight).toBe(25);
    await drain(gate, tasks, 25);
    expect(gate.maxInFlight).toBe(25);
    const results = (await Promise.all(tasks)) as { i: number }[];
    expect(results.map((r) => r.i)).toEqual([
      ...Array.from({ length: 400 }, (_, i) => i),
      ...Array.from({ length: 300 }, (_, i) => 1000 + i),
      ...Array.from({ length: 300 }, (_, i) => 2000 + i),
    ]);
  });

  it('runs Mock tasks through the default registry', async () => {
    const engine = createTaskEngine({ registry: new ActionRegistry([createMockAction()]) });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => engine.runTask(request('Mock', { result: { i } }))));
    expect(results[49]).toEqual({ i: 49 });
  });
});

describe('actions with a callback form (start)', () => {
  /** An action whose `start` does what `behave` says with the listener; `run` must not be called. */
  function startAction(name: string, behave: (listener: { succeeded(v: Json): void; failed(e: unknown): void }, ctx: ActionRunContext) => void): ActionDefinition {
    return {
      name,
      description: '',
      parametersSchema: {},
      highRisk: false,
      run: () => Promise.reject(new Error('run called instead of start')),
      start: (_p, ctx, listener) => behave(listener, ctx),
    };
  }

  function engineWith(...defs: ActionDefinition[]): ReturnType<typeof createTaskEngine> {
    return createTaskEngine({ registry: new ActionRegistry(defs), clock: new ManualClock(), maxInFlight: 1 });
  }

  it('takes the first outcome only, settled at once or later, and frees the slot each time', async () => {
    let later: ((v: Json) => void) | undefined;
    const engine = engineWith(
      startAction('Test:Now', (l) => {
        l.succeeded({ now: true });
        l.failed(new Error('too late'));
      }),
      startAction('Test:Later', (l) => {
        later = (v) => l.succeeded(v);
      }),
      startAction('Test:Throws', () => {
        throw new FlowrunError('Test.Boom', 'thrown by start', { retryable: true });
      }),
      startAction('Test:Fails', (l) => l.failed(new Error('plain error'))),
    );
    await expect(engine.runTask(request('Test:Now', {}))).resolves.toEqual({ now: true });
    const pending = engine.runTask(request('Test:Later', {}));
    const queued = engine.runTask(request('Test:Now', {})); // waits for the only slot
    await flushMicrotasks();
    later?.({ later: 1 });
    await expect(pending).resolves.toEqual({ later: 1 });
    await expect(queued).resolves.toEqual({ now: true });
    expect(await rejectionOf(engine.runTask(request('Test:Throws', {})))).toMatchObject({ code: 'Test.Boom', retryable: true });
    expect(await rejectionOf(engine.runTask(request('Test:Fails', {})))).toMatchObject({ code: ErrorNames.TaskFailed, message: 'plain error' });
    await engine.close();
  });

  it('a timeout or an abort settles a task whose action never tells, and aborts its signal', async () => {
    const clock = new ManualClock();
    const signals: AbortSignal[] = [];
    const engine = createTaskEngine({
      registry: new ActionRegistry([startAction('Test:Never', (_l, ctx) => signals.push(ctx.signal))]),
      clock,
    });
    const timed = rejectionOf(engine.runTask(request('Test:Never', {}, { timeoutMs: 1000 })));
    await flushMicrotasks();
    await clock.advance(1000);
    expect(await timed).toMatchObject({ code: ErrorNames.Timeout, retryable: true });
    const caller = new AbortController();
    const aborted = engine.runTask(request('Test:Never', {}, { signal: caller.signal }));
    caller.abort(new FlowrunError('Test.Stop', 'stopped by the caller'));
    expect(await rejectionOf(aborted)).toMatchObject({ code: 'Test.Stop' });
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    await engine.close();
  });
});
