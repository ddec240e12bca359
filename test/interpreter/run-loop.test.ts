import { describe, expect, it } from 'vitest';
import type { TaskRequest, TaskRunner } from '../../src/engine/types.js';
import { runExecution } from '../../src/interpreter/run.js';
import { ManualClock, flushMicrotasks } from '../../src/shared/clock.js';
import type { Json } from '../../src/shared/json.js';
import { deferred, flow } from './helpers.js';

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

const mapOfTasks = flow(`
Type: StateMachine
Name: m
SpecVersion: v1
StartAt: M
States:
  - Type: Map
    Name: M
    ItemsPath: $Input.items
    MaxConcurrency: 2
    Processor:
      StartAt: T
      States:
        - Type: Task
          Name: T
          Action: Test:T
          End: true
    End: true
`);

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
    const gates: ReturnType<typeof deferred<Json>>[] = [];
    const tasks: TaskRunner = () => {
      const d = deferred<Json>();
      gates.push(d);
      return d.promise;
    };
    const run = runExecution(mapOfTasks, { items: [10, 20, 30, 40] }, { tasks, clock });
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
    expect(clock.pendingCount).toBe(0);
  });
});
