/**
 * The durable runner on a real SQLite file, with a ManualClock (no real sleeps). A "crash" drops
 * a runner mid-way with `abandon()` (no further write, its leases left behind, its tasks dropped)
 * and closes its store connection; a new runner on a new connection to the same file takes over.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunnerErrorNames } from '../../src/executions/durable-runner.js';
import { LeaseLostError } from '../../src/executions/store.js';
import type { ExecutionStore } from '../../src/executions/store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { FlowrunError } from '../../src/shared/errors.js';
import type { JsonObject } from '../../src/shared/json.js';
import { advanceTo, executionByName, gate, instance, putFlow, SideEffects, T0, TempDb } from './helpers.js';
import type { Instance } from './helpers.js';

const LEASE_MS = 3_000;
const SECOND = 1000;

const DURABLE_FLOW = `
Type: StateMachine
Name: durable
SpecVersion: v1
StartAt: A
States:
  - Type: Task
    Name: A
    Action: Test:A
    Parameters:
      n.$: $Input.n
    Next: W
  - Type: Wait
    Name: W
    Seconds: 10
    Next: B
  - Type: Task
    Name: B
    Action: Test:B
    Retry:
      - Errors: [Flaky]
        MaxAttempts: 3
        IntervalSeconds: 5
        BackoffRate: 1
    Next: C
  - Type: Task
    Name: C
    Action: Test:C
    End: true
`;

const CALLBACK_FLOW = `
Type: StateMachine
Name: callback
SpecVersion: v1
StartAt: Ask
States:
  - Type: Task
    Name: Ask
    Action: Test:Ask
    TaskMode: WaitForCustomCallback
    Parameters:
      q.$: $Input.q
      token.$: $Context.Current.TaskToken
    Catch:
      - Errors: [Rejected]
        Next: Refused
    Next: Done
  - Type: Pass
    Name: Done
    End: true
  - Type: Pass
    Name: Refused
    End: true
`;

describe('durable runner', () => {
  let db: TempDb;
  let clock: ManualClock;
  let effects: SideEffects;
  const live: Instance[] = [];

  beforeEach(() => {
    db = new TempDb();
    clock = new ManualClock(T0);
    effects = new SideEffects();
    // A callback task's action only hands its token on; the result comes by ReportTask*.
    effects.on('Ask', () => ({ sent: true }));
  });

  afterEach(async () => {
    for (const i of live.splice(0)) await i.runner.close();
    await db.dispose();
  });

  async function boot(options: Parameters<typeof instance>[3] = {}, store?: ExecutionStore): Promise<Instance> {
    const i = await instance(db, clock, effects.run, { leaseMs: LEASE_MS, claimIntervalMs: 500, signalPollMs: 100, ...options }, store);
    live.push(i);
    return i;
  }

  /** Simulates the death of a process: no further write, its store connection closed. */
  async function crash(i: Instance): Promise<void> {
    i.runner.abandon();
    await i.store.close();
    live.splice(live.indexOf(i), 1);
  }

  it('survives crashes mid-way: finished tasks never run again, the in-flight task runs again once, timers fire once and on time', async () => {
    const c = gate();
    effects
      .on('A', (r) => ({ a: (r.parameters as JsonObject)['n'] ?? null }))
      .on('B', (_r, call) => {
        if (call <= 2) throw new FlowrunError('Flaky', `attempt ${call}`, { retryable: true });
        return { b: call };
      })
      .on('C', c.handler);

    let node = await boot({ owner: 'node-1' });
    await putFlow(node.store, 'durable', DURABLE_FLOW);
    await node.service.startExecution({ FlowName: 'durable', ExecutionName: 'e1', Input: '{"n": 7}' });
    await node.runner.settled();
    expect(effects.count('A')).toBe(1);
    let e = await executionByName(node.store, 'durable', 'e1');
    expect(await node.store.listTimers(e.id)).toMatchObject([{ kind: 'timer', dueAt: T0 + 10 * SECOND }]);

    // crash 1: during the Wait; the same node restarts (same owner id) and resumes at once
    await advanceTo(clock, T0 + 1 * SECOND, node.runner);
    await crash(node);
    node = await boot({ owner: 'node-1' });
    expect(await node.runner.recover()).toBe(1);
    node.runner.startBackground();
    await advanceTo(clock, T0 + 10 * SECOND - 1, node.runner);
    expect(effects.count('B')).toBe(0); // not a millisecond early
    await advanceTo(clock, T0 + 10 * SECOND, node.runner);
    expect(effects.count('B')).toBe(1); // on time, once

    // crash 2: during the retry back-off of B (attempt 1 failed at 10 s; retry due at 15 s)
    await advanceTo(clock, T0 + 12 * SECOND, node.runner);
    await crash(node);
    node = await boot({ owner: 'node-1' });
    await node.runner.recover();
    node.runner.startBackground();
    await advanceTo(clock, T0 + 15 * SECOND - 1, node.runner);
    expect(effects.count('B')).toBe(1);
    await advanceTo(clock, T0 + 15 * SECOND, node.runner);
    expect(effects.count('B')).toBe(2);
    await advanceTo(clock, T0 + 20 * SECOND, node.runner);
    expect(effects.count('B')).toBe(3);
    expect(effects.count('C')).toBe(1); // C is in flight

    // crash 3: while C runs; its RunTask was committed, its result never was
    await crash(node);
    expect(c.signals[0]?.aborted).toBe(true); // the process's tasks die with it
    node = await boot({ owner: 'node-1' });
    await node.runner.recover();
    await node.runner.settled();
    expect(effects.count('C')).toBe(2); // ran again, once (at-least-once)
    c.pending[1]?.resolve({ c: 'done' });
    await node.runner.settled();

    e = await executionByName(node.store, 'durable', 'e1');
    expect(e.status).toBe('Succeeded');
    expect(e.output).toEqual({ c: 'done' });
    expect(effects.count('A')).toBe(1);
    expect(effects.count('B')).toBe(3);
    expect(effects.count('C')).toBe(2);

    const events = await node.store.listEvents(e.id, { limit: 1000 });
    expect(events.map((x) => x.eventId)).toEqual(events.map((_x, i) => i + 1)); // no gap, no duplicate
    const waitDone = events.filter((x) => x.type === 'StepSucceeded' && x.step === 'W');
    expect(waitDone.map((x) => x.time)).toEqual([T0 + 10 * SECOND]);
    expect(events.filter((x) => x.type === 'TaskScheduled' && x.step === 'C')).toHaveLength(1);
    expect(events.filter((x) => x.type === 'StepRetrying').map((x) => x.time)).toEqual([T0 + 10 * SECOND, T0 + 15 * SECOND]);
    expect(events[events.length - 1]?.type).toBe('ExecutionSucceeded');
    const tasks = await node.store.listTasks(e.id);
    expect(tasks.map((t) => [t.stateName, t.status])).toEqual([
      ['A', 'Succeeded'],
      ['B', 'Failed'],
      ['B', 'Failed'],
      ['B', 'Succeeded'],
      ['C', 'Succeeded'],
    ]);
    expect(await node.store.listTimers(e.id)).toEqual([]);
    expect(e.leaseOwner).toBeUndefined();
  });

  it('recovers in batches and stops claiming once nothing new comes', async () => {
    const g = gate();
    effects.on('A', g.handler);
    const first = await boot({ owner: 'node-1' });
    await putFlow(first.store, 'durable', DURABLE_FLOW);
    for (let i = 0; i < 5; i++) await first.service.startExecution({ FlowName: 'durable', ExecutionName: `b${i}` });
    await first.runner.settled();
    await crash(first);
    const second = await boot({ owner: 'node-1', claimBatch: 2 });
    expect(await second.runner.recover()).toBe(5);
    expect(second.runner.driving).toHaveLength(5);
    expect(await second.runner.recover()).toBe(0); // all its own already: no endless re-claiming
    second.runner.startBackground();
    await advanceTo(clock, T0 + 5 * LEASE_MS, second.runner);
    expect(second.runner.driving).toHaveLength(5);
    expect(effects.count('A')).toBe(10);
  });

  it('a Wait crossing a restart by another instance fires once, on time', async () => {
    effects.on('A', () => ({})).on('B', () => ({ b: 1 })).on('C', () => ({ c: 1 }));
    const first = await boot({ owner: 'node-1' });
    await putFlow(first.store, 'durable', DURABLE_FLOW);
    await first.service.startExecution({ FlowName: 'durable', ExecutionName: 'w' });
    await first.runner.settled();
    await crash(first);
    // a different instance: must wait for the lease (3 s) to expire
    const second = await boot({ owner: 'node-2' });
    expect(await second.runner.recover()).toBe(0);
    second.runner.startBackground();
    await advanceTo(clock, T0 + LEASE_MS - 1, second.runner);
    expect(second.runner.isDriving((await executionByName(second.store, 'durable', 'w')).id)).toBe(false);
    await advanceTo(clock, T0 + 3_500, second.runner); // the claim loop (every 500 ms) takes it over
    const e = await executionByName(second.store, 'durable', 'w');
    expect(e.leaseOwner).toBe('node-2');
    expect(second.runner.isDriving(e.id)).toBe(true);
    await advanceTo(clock, T0 + 10 * SECOND - 1, second.runner);
    expect(effects.count('B')).toBe(0);
    await advanceTo(clock, T0 + 10 * SECOND, second.runner);
    expect(effects.count('B')).toBe(1);
    await advanceTo(clock, T0 + 60 * SECOND, second.runner);
    expect(effects.count('B')).toBe(1);
    expect((await executionByName(second.store, 'durable', 'w')).status).toBe('Succeeded');
  });

  it('a timer already due at restart fires at once', async () => {
    effects.on('A', () => ({})).on('B', () => ({})).on('C', () => ({}));
    const first = await boot({ owner: 'node-1' });
    await putFlow(first.store, 'durable', DURABLE_FLOW);
    await first.service.startExecution({ FlowName: 'durable', ExecutionName: 'late' });
    await first.runner.settled();
    await crash(first);
    await advanceTo(clock, T0 + 40 * SECOND); // down for 40 s
    const second = await boot({ owner: 'node-1' });
    await second.runner.recover();
    await second.runner.settled();
    expect(effects.count('B')).toBe(1);
    const e = await executionByName(second.store, 'durable', 'late');
    expect(e.status).toBe('Succeeded');
    const w = (await second.store.listEvents(e.id, { limit: 100 })).filter((x) => x.type === 'StepSucceeded' && x.step === 'W');
    expect(w.map((x) => x.time)).toEqual([T0 + 40 * SECOND]);
  });

  it('a callback task waits for its token and is resumed by ReportTaskSucceeded after a restart', async () => {
    const first = await boot({ owner: 'node-1' });
    await putFlow(first.store, 'callback', CALLBACK_FLOW);
    await first.service.startExecution({ FlowName: 'callback', ExecutionName: 'cb', Input: '{"q": "ok?"}' });
    await first.runner.settled();
    expect(effects.count('Ask')).toBe(1); // the action runs once and hands the token on
    let e = await executionByName(first.store, 'callback', 'cb');
    const [task] = await first.store.listTasks(e.id);
    expect(task).toMatchObject({ stateName: 'Ask', status: 'Waiting', mode: 'WaitForCustomCallback', parameters: { q: 'ok?' } });
    const token = task?.token ?? '';
    expect(token).not.toBe('');
    expect(effects.requests.find((r) => r.action === 'Test:Ask')?.parameters).toEqual({ q: 'ok?', token });
    await crash(first);

    const second = await boot({ owner: 'node-2' });
    await second.runner.recover(); // lease not expired yet: not claimed
    second.runner.startBackground();
    // the report arrives at node-2 before it owns the execution: it is queued
    await expect(second.service.reportTaskSucceeded({ TaskToken: token, Output: '{"answer": 42}' })).resolves.toMatchObject({ EventId: expect.any(Number) });
    await advanceTo(clock, T0 + LEASE_MS + SECOND, second.runner);
    e = await executionByName(second.store, 'callback', 'cb');
    expect(e.status).toBe('Succeeded');
    expect(e.output).toEqual({ answer: 42 });
    expect((await second.store.listTasks(e.id))[0]).toMatchObject({ status: 'Succeeded', output: { answer: 42 } });
    // the token is spent
    await expect(second.service.reportTaskSucceeded({ TaskToken: token, Output: '{}' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(second.service.reportTaskSucceeded({ TaskToken: 'no-such-token', Output: '{}' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    const history = await second.service.getExecutionHistory({ FlowName: 'callback', ExecutionName: 'cb' });
    const scheduled = history.Events.find((x) => x.Type === 'TaskScheduled');
    const succeeded = history.Events.find((x) => x.Type === 'TaskSucceeded');
    expect(succeeded?.ScheduleEventId).toBe(scheduled?.EventId);
  });

  it('ReportTaskFailed fails the task with the reported error (Catch matches it)', async () => {
    const node = await boot();
    await putFlow(node.store, 'callback', CALLBACK_FLOW);
    await node.service.startExecution({ FlowName: 'callback', ExecutionName: 'no' });
    await node.runner.settled();
    const e = await executionByName(node.store, 'callback', 'no');
    const token = (await node.store.listTasks(e.id))[0]?.token ?? '';
    await node.service.reportTaskFailed({ TaskToken: token, Error: 'Rejected', Cause: 'not today' });
    await node.runner.settled();
    const done = await executionByName(node.store, 'callback', 'no');
    expect(done.status).toBe('Succeeded');
    expect(done.output).toEqual({ Code: 'Rejected', Detail: 'not today' });
    expect((await node.store.listTasks(e.id))[0]).toMatchObject({ status: 'Failed', error: { Code: 'Rejected', Detail: 'not today' } });
  });

  it('a callback task times out after its Timeout, also across a restart', async () => {
    const node1 = await boot({ owner: 'node-1' });
    await putFlow(node1.store, 'cbt', CALLBACK_FLOW.replace('Name: callback', 'Name: cbt').replace('TaskMode: WaitForCustomCallback', 'TaskMode: WaitForCustomCallback\n    Timeout: 30'));
    await node1.service.startExecution({ FlowName: 'cbt', ExecutionName: 't' });
    await node1.runner.settled();
    await crash(node1);
    const node2 = await boot({ owner: 'node-1' });
    await node2.runner.recover();
    await advanceTo(clock, T0 + 30 * SECOND - 1, node2.runner);
    expect((await executionByName(node2.store, 'cbt', 't')).status).toBe('Running');
    await advanceTo(clock, T0 + 30 * SECOND, node2.runner);
    const e = await executionByName(node2.store, 'cbt', 't');
    expect(e).toMatchObject({ status: 'Failed', error: { Code: 'FnF.Timeout' } });
    expect((await node2.store.listEvents(e.id, { limit: 100 })).some((x) => x.type === 'TaskTimedOut')).toBe(true);
  });

  it('StopExecution aborts the running task through its AbortSignal and records Stopped', async () => {
    const c = gate();
    effects.on('A', c.handler);
    const node = await boot();
    await putFlow(node.store, 'durable', DURABLE_FLOW);
    await node.service.startExecution({ FlowName: 'durable', ExecutionName: 's' });
    await node.runner.settled();
    expect(c.signals).toHaveLength(1);
    expect(c.signals[0]?.aborted).toBe(false);
    const view = await node.service.stopExecution({ FlowName: 'durable', ExecutionName: 's', Error: 'Operator.Stop', Cause: 'no longer needed' });
    expect(view).toMatchObject({ Status: 'Stopped', ErrorCode: 'Operator.Stop', ErrorMessage: 'no longer needed' });
    expect(c.signals[0]?.aborted).toBe(true);
    const e = await executionByName(node.store, 'durable', 's');
    expect((await node.store.listTasks(e.id)).map((t) => t.status)).toEqual(['Cancelled']);
    expect(node.runner.isDriving(e.id)).toBe(false);
    // stopping again answers the same
    await expect(node.service.stopExecution({ FlowName: 'durable', ExecutionName: 's' })).resolves.toMatchObject({ Status: 'Stopped' });
  });

  it('a stop received by another instance reaches the owner (signal poll)', async () => {
    const c = gate();
    effects.on('A', c.handler);
    const owner = await boot({ owner: 'owner' });
    const other = await boot({ owner: 'other' });
    await putFlow(owner.store, 'durable', DURABLE_FLOW);
    await owner.service.startExecution({ FlowName: 'durable', ExecutionName: 'x' });
    owner.runner.startBackground();
    other.runner.startBackground();
    await owner.runner.settled();
    const stopping = other.service.stopExecution({ FlowName: 'durable', ExecutionName: 'x' });
    await advanceTo(clock, T0 + 100, owner.runner, other.runner); // the owner's signal poll
    await advanceTo(clock, T0 + 600, owner.runner, other.runner); // the other's long poll re-reads
    await expect(stopping).resolves.toMatchObject({ Status: 'Stopped', ErrorCode: 'FnF.Cancelled' });
    expect(c.signals[0]?.aborted).toBe(true);
    expect(other.runner.isDriving((await executionByName(other.store, 'durable', 'x')).id)).toBe(false);
  });

  it('two runners never drive one execution at once; the other takes over after the lease expires', async () => {
    const c = gate();
    effects.on('A', c.handler).on('B', () => ({})).on('C', () => ({ c: 'from B' }));
    // A runs without heartbeat (no background): a zombie whose lease silently expires
    const a = await boot({ owner: 'A' });
    const b = await boot({ owner: 'B' });
    await putFlow(a.store, 'durable', DURABLE_FLOW);
    await a.service.startExecution({ FlowName: 'durable', ExecutionName: 'z' });
    await a.runner.settled();
    const id = (await executionByName(a.store, 'durable', 'z')).id;
    b.runner.startBackground();
    await advanceTo(clock, T0 + LEASE_MS - 1, a.runner, b.runner);
    expect((await a.store.getExecution(id))?.leaseOwner).toBe('A');
    expect(b.runner.isDriving(id)).toBe(false);
    await advanceTo(clock, T0 + LEASE_MS + 500, a.runner, b.runner);
    expect((await a.store.getExecution(id))?.leaseOwner).toBe('B');
    expect(b.runner.isDriving(id)).toBe(true);
    expect(effects.count('A')).toBe(2); // B re-ran the in-flight task
    // A's task finishes now: A's commit is refused by the lease, A stops driving
    c.pending[0]?.resolve({ from: 'A' });
    await a.runner.settled();
    expect(a.runner.isDriving(id)).toBe(false);
    const events = await a.store.listEvents(id, { limit: 100 });
    expect(events.filter((x) => x.type === 'TaskSucceeded')).toHaveLength(0);
    c.pending[1]?.resolve({ from: 'B' });
    await advanceTo(clock, T0 + 30 * SECOND, b.runner);
    const done = await b.store.getExecution(id);
    expect(done).toMatchObject({ status: 'Succeeded', output: { c: 'from B' } });
    const tasks = await b.store.listTasks(id);
    expect(tasks[0]).toMatchObject({ stateName: 'A', status: 'Succeeded', output: { from: 'B' } });
    await expect(a.store.commitStep(id, { leaseOwner: 'A', now: clock.now(), status: 'Running' })).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('a runner with a heartbeat keeps its lease; close() hands executions over at once', async () => {
    const c = gate();
    effects.on('A', c.handler).on('B', () => ({})).on('C', () => ({}));
    const a = await boot({ owner: 'A' });
    const b = await boot({ owner: 'B' });
    await putFlow(a.store, 'durable', DURABLE_FLOW);
    await a.service.startExecution({ FlowName: 'durable', ExecutionName: 'h' });
    a.runner.startBackground();
    b.runner.startBackground();
    const id = (await executionByName(a.store, 'durable', 'h')).id;
    await advanceTo(clock, T0 + 10 * LEASE_MS, a.runner, b.runner);
    expect((await a.store.getExecution(id))?.leaseOwner).toBe('A');
    expect(b.runner.isDriving(id)).toBe(false);
    expect(effects.count('A')).toBe(1);
    await a.runner.close();
    live.splice(live.indexOf(a), 1);
    expect(c.signals[0]?.aborted).toBe(true);
    expect((await b.store.getExecution(id))?.leaseOwner).toBeUndefined();
    await advanceTo(clock, clock.now() + 500, b.runner);
    expect(b.runner.isDriving(id)).toBe(true);
    expect(effects.count('A')).toBe(2);
  });

  it('an execution whose flow version is gone ends Failed with a recorded code when resumed', async () => {
    effects.on('A', gate().handler);
    const first = await boot({ owner: 'node-1' });
    await putFlow(first.store, 'durable', DURABLE_FLOW);
    await first.service.startExecution({ FlowName: 'durable', ExecutionName: 'orphan' });
    await first.runner.settled();
    await crash(first);
    const second = await boot({ owner: 'node-1' });
    await second.store.deleteDefinition('flow', 'durable');
    expect(await second.runner.recover()).toBe(0);
    const e = await executionByName(second.store, 'durable', 'orphan');
    expect(e).toMatchObject({ status: 'Failed', error: { Code: RunnerErrorNames.FlowUnavailable } });
    expect(e.leaseOwner).toBeUndefined();
    expect((await second.store.listTasks(e.id)).map((t) => t.status)).toEqual(['Cancelled']);
    const events = await second.store.listEvents(e.id, { limit: 100 });
    expect(events[events.length - 1]).toMatchObject({ type: 'ExecutionFailed', detail: { Code: RunnerErrorNames.FlowUnavailable } });
  });

  it('a store that refuses a step fails the execution with a recorded code after retries', async () => {
    effects.on('A', () => ({}));
    const node = await boot();
    await putFlow(node.store, 'durable', DURABLE_FLOW);
    const realCommit = node.store.commitStep.bind(node.store);
    let refusals = 0;
    node.store.commitStep = async (id, commit) => {
      if (commit.status === 'Running' && refusals < 3) {
        refusals++;
        throw new Error('disk full');
      }
      return realCommit(id, commit);
    };
    await node.service.startExecution({ FlowName: 'durable', ExecutionName: 'sf' });
    for (let t = 100; t <= SECOND; t += 100) await clock.advance(100); // retry delays are on the clock
    await node.runner.settled();
    const e = await executionByName(node.store, 'durable', 'sf');
    expect(refusals).toBe(3);
    expect(e).toMatchObject({ status: 'Failed', error: { Code: RunnerErrorNames.StoreFailure } });
  });

  it('execution time limit ends it TimedOut, timers and tasks included', async () => {
    const c = gate();
    effects.on('A', c.handler);
    const node = await boot();
    await putFlow(node.store, 'durable', DURABLE_FLOW);
    const flow = node.service;
    await flow.startExecution({ FlowName: 'durable', ExecutionName: 'to' });
    // the service starts Standard executions with the one-year limit; check it was stored
    const e = await executionByName(node.store, 'durable', 'to');
    expect(e.state?.deadline).toBe(T0 + 365 * 24 * 3600 * SECOND);
    // a runner-level start with a short limit
    const r = await node.runner.startExecution({
      flow: (await import('../../src/flow/load.js')).loadFlowText(DURABLE_FLOW, 'd.yaml', { mode: 'Standard' }),
      definitionName: 'durable',
      definitionVersion: 1,
      name: 'short',
      input: {},
      timeoutMs: 2 * SECOND,
    });
    await advanceTo(clock, T0 + 2 * SECOND, node.runner);
    const short = await node.store.getExecution(r.execution.id);
    expect(short).toMatchObject({ status: 'TimedOut', error: { Code: 'FnF.Timeout' } });
    expect(c.signals[1]?.aborted).toBe(true);
  });
});
