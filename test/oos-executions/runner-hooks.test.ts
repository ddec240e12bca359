/**
 * The durable runner's per-kind hooks on their own (here on an FDL flow, kind 'flow'): holds,
 * releases and control events; a held task across a restart; stored statuses; failure holds.
 * The OOS service is built on these (see the other tests of this folder).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecutionHooks } from '../../src/executions/durable-runner.js';
import { FlowrunError } from '../../src/shared/errors.js';
import { executionByName, instance, putFlow, SideEffects, T0, TempDb } from '../executions/helpers.js';
import type { Instance } from '../executions/helpers.js';
import { ManualClock } from '../../src/shared/clock.js';

const FLOW = `
Type: StateMachine
Name: held
SpecVersion: v1
StartAt: A
States:
  - Type: Task
    Name: A
    Action: Test:A
    Next: B
  - Type: Task
    Name: B
    Action: Test:B
    End: true
`;

/** Holds task B; a `Go` signal releases it (with other parameters); records an event. */
const hooks = (calls: string[] = []): ExecutionHooks => ({
  holdTask: (_e, t) => (t.stateName === 'B' ? { Reason: 'test' } : undefined),
  holdFailure: (e, t, error) => (e.tags['pause'] === true ? { Reason: 'Failure', Error: { Code: error.Code, Detail: error.Detail }, Task: t.stateName } : undefined),
  status: (_e, status, open) => (status === 'Running' && open.some((t) => t.hold) ? 'Held' : status),
  signal: (e, s) => {
    calls.push(s.type);
    const held = [...e.tasks.values()].filter((t) => t.hold);
    if (s.type === 'Go') return { decisions: [{ type: 'release', tasks: held.map((t) => ({ id: t.id, parameters: { released: true } })) }], event: { type: 'Released', detail: { by: 'test' } } };
    if (s.type === 'Skip') return { decisions: held.map((t) => ({ type: 'step', input: { type: 'TaskSucceeded', path: t.path, id: t.id, output: { skipped: true } } })), event: { type: 'Skipped' } };
    return undefined;
  },
});

let db: TempDb;
let clock: ManualClock;
let effects: SideEffects;
let node: Instance;

beforeEach(async () => {
  db = new TempDb();
  clock = new ManualClock(T0);
  effects = new SideEffects().on('A', () => ({ a: 1 })).on('B', (r) => ({ got: r.parameters }));
  node = await instance(db, clock, effects.run);
  node.runner.setHooks('flow', hooks());
  await putFlow(node.store, 'held', FLOW);
});
afterEach(async () => {
  await node.runner.close();
  await db.dispose();
});

describe('runner hooks', () => {
  it('a held task does not run; its status is the hook’s; a release runs it with new parameters; the event comes first', async () => {
    await node.service.startExecution({ FlowName: 'held', ExecutionName: 'h1' });
    await node.runner.settled();
    const e = await executionByName(node.store, 'held', 'h1');
    expect(effects.count('A')).toBe(1);
    expect(effects.count('B')).toBe(0);
    expect(e.status).toBe('Held');
    const open = await node.store.listTasks(e.id, { openOnly: true });
    expect(open.map((t) => [t.stateName, t.status, t.output])).toEqual([['B', 'Waiting', { Hold: { Reason: 'test' } }]]);
    await node.runner.signal(e.id, 'Go', {});
    await node.runner.settled();
    expect(effects.count('B')).toBe(1);
    const done = await executionByName(node.store, 'held', 'h1');
    expect(done.status).toBe('Succeeded');
    expect(done.output).toEqual({ got: { released: true } });
    const events = await node.store.listEvents(e.id, { limit: 100 });
    const types = events.map((x) => x.type);
    expect(types.indexOf('Released')).toBeGreaterThan(types.lastIndexOf('TaskScheduled'));
    expect(types.indexOf('Released')).toBeLessThan(types.indexOf('TaskSucceeded', types.indexOf('Released')));
    expect(events.map((x) => x.eventId)).toEqual(events.map((_, i) => i + 1));
  });

  it('a step decision answers a held task (the control event recorded before the step’s events)', async () => {
    await node.service.startExecution({ FlowName: 'held', ExecutionName: 'h2' });
    await node.runner.settled();
    const e = await executionByName(node.store, 'held', 'h2');
    await node.runner.signal(e.id, 'Skip', {});
    await node.runner.settled();
    const done = await executionByName(node.store, 'held', 'h2');
    expect(done.output).toEqual({ skipped: true });
    expect(effects.count('B')).toBe(0);
    const types = (await node.store.listEvents(e.id, { limit: 100 })).map((x) => x.type);
    expect(types.slice(types.indexOf('Skipped'), types.indexOf('Skipped') + 2)).toEqual(['Skipped', 'TaskSucceeded']);
  });

  it('a held task stays held across a crash and a takeover', async () => {
    await node.service.startExecution({ FlowName: 'held', ExecutionName: 'h3' });
    await node.runner.settled();
    const e = await executionByName(node.store, 'held', 'h3');
    node.runner.abandon();
    const next = await instance(db, clock, effects.run);
    next.runner.setHooks('flow', hooks());
    await clock.advance(60_000);
    expect(await next.runner.recover()).toBe(1);
    await next.runner.settled();
    expect(effects.count('B')).toBe(0);
    await next.runner.signal(e.id, 'Go', {});
    await next.runner.settled();
    expect(effects.count('B')).toBe(1);
    expect((await executionByName(next.store, 'held', 'h3')).status).toBe('Succeeded');
    await next.runner.close();
  });

  it('holdFailure pauses a failed task instead of failing the execution; a release runs it again', async () => {
    let fail = true;
    effects.on('A', () => {
      if (fail) throw new FlowrunError('Test.Boom', 'boom');
      return { a: 2 };
    });
    await node.runner.startExecution({ flow: node.service['compiler'].compile({ name: 'held', version: 1, definition: FLOW, mode: 'Standard' }), definitionVersion: 1, name: 'h4', input: {}, tags: { pause: true } });
    await node.runner.settled();
    const e = await executionByName(node.store, 'held', 'h4');
    expect(e.status).toBe('Held');
    const open = await node.store.listTasks(e.id, { openOnly: true });
    expect(open[0]?.output).toEqual({ Hold: { Reason: 'Failure', Error: { Code: 'Test.Boom', Detail: 'boom' }, Task: 'A' } });
    fail = false;
    await node.runner.signal(e.id, 'Go', {});
    await node.runner.settled();
    expect(effects.count('A')).toBe(2);
    // B is held in turn (holdTask), then released
    await node.runner.signal(e.id, 'Go', {});
    await node.runner.settled();
    expect((await executionByName(node.store, 'held', 'h4')).status).toBe('Succeeded');
  });

  it('an unknown signal type is acknowledged and ignored', async () => {
    await node.service.startExecution({ FlowName: 'held', ExecutionName: 'h5' });
    await node.runner.settled();
    const e = await executionByName(node.store, 'held', 'h5');
    await node.runner.signal(e.id, 'Whatever', {});
    await node.runner.settled();
    expect(await node.store.pendingSignals({ executionId: e.id })).toEqual([]);
    expect((await executionByName(node.store, 'held', 'h5')).status).toBe('Held');
  });
});
