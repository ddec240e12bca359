import { describe, expect, it } from 'vitest';
import { ActionRegistry, createTaskEngine } from '../../src/engine/index.js';
import type { ActionDefinition, TaskRequest, TaskRunner } from '../../src/engine/types.js';
import { runExecution } from '../../src/interpreter/run.js';
import { ManualClock, flushMicrotasks } from '../../src/shared/clock.js';
import type { Json } from '../../src/shared/json.js';
import { deferred, flow, mapOfOneTask } from './helpers.js';
import type { Deferred } from './helpers.js';

const oneTask = flow(`
Type: StateMachine
Name: one
SpecVersion: v1
StartAt: A
States:
  - Type: Task
    Name: A
    Action: Test:A
    End: true
`);

const mapOfTasks = mapOfOneTask('T', { concurrency: 2 });

/** A Parallel whose first branch fails after a task while the second waits for its task. */
const failThenHang = flow(`
Type: StateMachine
Name: p
SpecVersion: v1
StartAt: P
States:
  - Type: Parallel
    Name: P
    Branches:
      - StartAt: Done
        States:
          - Type: Task
            Name: Done
            Action: Test:Done
            Next: Boom
          - Type: Fail
            Name: Boom
            Code: Test.Boom
            Detail: on purpose
      - StartAt: Hangs
        States:
          - Type: Task
            Name: Hangs
            Action: Test:Hangs
            End: true
    End: true
`);

/** An action that runs until its signal aborts (then rejects), recording each call's signal. */
function untilAborted(name: string, signals: AbortSignal[]): ActionDefinition {
  return {
    name,
    description: '',
    parametersSchema: {},
    highRisk: false,
    run: (_p, ctx) =>
      new Promise<Json>((_, reject) => {
        signals.push(ctx.signal);
        ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }),
  };
}

describe('the run loop', () => {
  it('rejects (and leaves no timer behind) when the task runner throws instead of rejecting', async () => {
    const clock = new ManualClock();
    const boom = new Error('runner bug');
    const tasks: TaskRunner = () => {
      throw boom;
    };
    await expect(runExecution(oneTask, {}, { tasks, clock })).rejects.toBe(boom);
    expect(clock.pendingCount).toBe(0);
  });

  it('a stop raised while a step starts its tasks waits for that step, then stops the execution', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const started: TaskRequest[] = [];
    const tasks: TaskRunner = (req) => {
      started.push(req);
      if (started.length === 1) controller.abort(new Error('stopped by the test')); // inside the first step's commands
      return new Promise<Json>((_, reject) => req.signal?.addEventListener('abort', () => reject(req.signal?.reason), { once: true }));
    };
    const r = await runExecution(mapOfTasks, { items: [1, 2, 3] }, { tasks, clock, signal: controller.signal });
    expect(r.status).toBe('Stopped');
    expect(r.error).toMatchObject({ Code: 'FnF.Cancelled', Detail: 'stopped by the test' });
    // the first step started both items of the first wave; the stop came before any other step
    expect(started).toHaveLength(2);
    expect(started.every((s) => s.signal?.aborted)).toBe(true);
    expect(clock.pendingCount).toBe(0);
  });

  it('applies results in the order they arrive, each starting the next item at once', async () => {
    const clock = new ManualClock();
    const gates: Deferred<Json>[] = [];
    const tasks: TaskRunner = () => {
      const d = deferred<Json>();
      gates.push(d);
      return d.promise;
    };
    const run = runExecution(mapOfTasks, { items: [10, 20, 30, 40] }, { tasks, clock, history: true });
    await flushMicrotasks();
    expect(gates).toHaveLength(2);
    gates[1]?.resolve({ r: 'second' });
    gates[0]?.resolve({ r: 'first' });
    await flushMicrotasks();
    expect(gates).toHaveLength(4);
    gates[3]?.resolve({ r: 'fourth' });
    gates[2]?.resolve({ r: 'third' });
    const r = await run;
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ Items: [{ r: 'first' }, { r: 'second' }, { r: 'third' }, { r: 'fourth' }] });
    // the history shows the order they were applied in: as they arrived, not by item
    expect(r.events.filter((e) => e.type === 'TaskSucceeded').map((e) => e.path?.[0])).toEqual([1, 0, 3, 2]);
    expect(clock.pendingCount).toBe(0);
  });

  it("with the engine's runner, a task still running when the execution times out is aborted through its handle", async () => {
    const clock = new ManualClock();
    const signals: AbortSignal[] = [];
    const registry = new ActionRegistry([untilAborted('Test:A', signals)]);
    const engine = createTaskEngine({ registry, clock });
    const requests: TaskRequest[] = [];
    const tasks: TaskRunner = Object.assign((req: TaskRequest) => engine.runTask(req), {
      start: (req: TaskRequest, listener: Parameters<NonNullable<TaskRunner['start']>>[1]) => {
        requests.push(req);
        engine.runTask.start?.(req, listener);
      },
    });
    const run = runExecution(oneTask, {}, { tasks, clock, timeoutMs: 1000 });
    await flushMicrotasks();
    expect(requests).toHaveLength(1);
    expect(requests[0]?.signal).toBeUndefined(); // no shared signal: the handle is enough
    await clock.advance(1000);
    const r = await run;
    expect(r.status).toBe('TimedOut');
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(clock.pendingCount).toBe(0);
    await engine.close();
  });

  it('a runner without start gets one signal for all the tasks, aborted when the execution ends', async () => {
    const clock = new ManualClock();
    const requests: TaskRequest[] = [];
    const tasks: TaskRunner = (req) => {
      requests.push(req);
      return requests.length === 1 ? Promise.resolve({ ok: 1 }) : new Promise<Json>(() => undefined);
    };
    const r = await runExecution(failThenHang, {}, { tasks, clock });
    expect(r.status).toBe('Failed');
    expect(r.error?.Code).toBe('Test.Boom');
    expect(requests).toHaveLength(2);
    expect(requests[0]?.signal).toBe(requests[1]?.signal);
    expect(requests[1]?.signal?.aborted).toBe(true);
    expect(clock.pendingCount).toBe(0);
  });

  it('many executions waiting for engine slots, whose tasks settle at once, start one after another without deepening the stack', async () => {
    const clock = new ManualClock();
    const gates: AbortSignal[] = [];
    const registry = new ActionRegistry([
      untilAborted('Test:Hold', gates),
      // tells its listener before returning: the next task of the execution is asked for at once
      { name: 'Test:Now', description: '', parametersSchema: {}, highRisk: false, run: () => Promise.resolve({}), start: (_p, _ctx, l) => l.succeeded({ ok: true }) },
    ]);
    const engine = createTaskEngine({ registry, clock, maxInFlight: 4 });
    const chain = flow(`
Type: StateMachine
Name: chain
SpecVersion: v1
StartAt: A
States:
  - Type: Task
    Name: A
    Action: Test:Now
    Next: B
  - Type: Task
    Name: B
    Action: Test:Now
    Next: C
  - Type: Task
    Name: C
    Action: Test:Now
    End: true
`);
    const holder = new AbortController();
    const held = runExecution(mapOfOneTask('Hold', { concurrency: 4 }), { items: [1, 2, 3, 4] }, { tasks: engine.runTask, clock, signal: holder.signal });
    await flushMicrotasks();
    expect(gates).toHaveLength(4); // every slot of the engine is taken
    const waiting = Array.from({ length: 3000 }, () => runExecution(chain, {}, { tasks: engine.runTask, clock }));
    holder.abort(new Error('let the others run')); // four slots free at once
    expect((await held).status).toBe('Stopped');
    const results = await Promise.all(waiting);
    expect(results.filter((r) => r.status === 'Succeeded')).toHaveLength(3000);
    await engine.close();
  });

  it("rejects, and leaves nothing behind, when a custom runner's abort throws", async () => {
    const clock = new ManualClock();
    const tasks: TaskRunner = (req) => {
      if (req.action === 'Test:Done') return Promise.resolve({});
      if (req.handle) {
        req.handle.abort = () => {
          throw new Error('abort is broken');
        };
      }
      return new Promise<Json>(() => undefined);
    };
    await expect(runExecution(failThenHang, {}, { tasks, clock })).rejects.toThrow('abort is broken');
    expect(clock.pendingCount).toBe(0);
  });

  it('an onEvent that throws in the first step rejects the run (it does not throw)', async () => {
    const onEvent = (): void => {
      throw new Error('listener bug');
    };
    let run: Promise<unknown> | undefined;
    expect(() => (run = runExecution(oneTask, {}, { tasks: () => Promise.resolve({}), onEvent }))).not.toThrow();
    await expect(run).rejects.toThrow('listener bug');
  });

  it("a Task timeout aborts the timed-out attempt's signal before its retry starts", async () => {
    const clock = new ManualClock();
    const log: string[] = [];
    let attempt = 0;
    const registry = new ActionRegistry([
      {
        name: 'Test:Slow',
        description: '',
        parametersSchema: {},
        highRisk: false,
        run: (_p, ctx) => {
          const n = ++attempt;
          log.push(`start ${n}`);
          ctx.signal.addEventListener('abort', () => log.push(`abort ${n}`), { once: true });
          return n === 1 ? new Promise<Json>(() => undefined) : Promise.resolve({ n });
        },
      },
    ]);
    const engine = createTaskEngine({ registry, clock });
    const f = flow(`
Type: StateMachine
Name: t
SpecVersion: v1
StartAt: S
States:
  - Type: Task
    Name: S
    Action: Test:Slow
    Timeout: 1
    Retry:
      - Errors: [FnF.Timeout]
        MaxAttempts: 1
        IntervalSeconds: 0
    End: true
`);
    const run = runExecution(f, {}, { tasks: engine.runTask, clock });
    await flushMicrotasks();
    await clock.advance(1000);
    const r = await run;
    expect(r.status).toBe('Succeeded');
    expect(log).toEqual(['start 1', 'abort 1', 'start 2']);
    await engine.close();
  });
});
