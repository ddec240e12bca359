/** The Standard-flow service (FnF StartExecution & co.) over the durable runner and SQLite. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_EVENT_TYPES, MAX_EXECUTION_INPUT_BYTES } from '../../src/executions/standard-flows.js';
import { ManualClock } from '../../src/shared/clock.js';
import { advanceTo, executionByName, gate, instance, putFlow, SideEffects, T0, TempDb } from './helpers.js';
import type { Instance } from './helpers.js';

const SECOND = 1000;

const FLOW = `
Type: StateMachine
Name: orders
SpecVersion: v1
StartAt: Work
States:
  - Type: Task
    Name: Work
    Action: Test:Work
    Parameters:
      id.$: $Input.id
    Next: Pause
  - Type: Wait
    Name: Pause
    Seconds: 5
    Next: Fan
  - Type: Map
    Name: Fan
    ItemsPath: $Input.items
    Processor:
      StartAt: Each
      States:
        - Type: Pass
          Name: Each
          End: true
    End: true
`;

const PASS_FLOW = `
Type: StateMachine
Name: quick
SpecVersion: v1
StartAt: P
States:
  - Type: Pass
    Name: P
    End: true
`;

describe('Standard-flow service', () => {
  let db: TempDb;
  let clock: ManualClock;
  let effects: SideEffects;
  let node: Instance;

  beforeEach(async () => {
    db = new TempDb();
    clock = new ManualClock(T0);
    effects = new SideEffects().on('Work', (r) => ({ id: (r.parameters as { id?: number }).id ?? null, items: [1, 2] }));
    node = await instance(db, clock, effects.run, { leaseMs: 3000, signalPollMs: 100, claimIntervalMs: 500, retentionMs: 60 * SECOND, purgeIntervalMs: 10 * SECOND });
    await putFlow(node.store, 'orders', FLOW);
    await putFlow(node.store, 'quick', PASS_FLOW);
  });

  afterEach(async () => {
    await node.runner.close();
    await db.dispose();
  });

  const run = async (name: string, input = '{"id": 1}'): Promise<void> => {
    await node.service.startExecution({ FlowName: 'orders', ExecutionName: name, Input: input });
  };

  it('starts an execution and answers in the API shape', async () => {
    const view = await node.service.startExecution({ FlowName: 'orders', ExecutionName: 'o1', Input: '{"id": 7}' });
    expect(view).toEqual({
      Name: 'o1',
      FlowName: 'orders',
      FlowDefinition: FLOW,
      Input: '{"id":7}',
      Status: 'Running',
      StartedTime: new Date(T0).toISOString(),
    });
    await node.runner.settled();
    await advanceTo(clock, T0 + 5 * SECOND, node.runner);
    const done = await node.service.describeExecution({ FlowName: 'orders', ExecutionName: 'o1' });
    expect(done).toMatchObject({ Status: 'Succeeded', Output: JSON.stringify({ Items: [{ Item: 1 }, { Item: 2 }] }), StoppedTime: new Date(T0 + 5 * SECOND).toISOString() });
  });

  it('generates a name when none is given', async () => {
    const view = await node.service.startExecution({ FlowName: 'quick' });
    expect(view.Name).toMatch(/^[0-9a-f-]{36}$/);
    expect(view.Status).toBe('Succeeded');
    expect(view.Output).toBe('{}');
  });

  it('a name still running answers that execution; a finished one is ExecutionAlreadyExists', async () => {
    const g = gate();
    effects.on('Work', g.handler);
    await run('same');
    await run('same');
    await node.runner.settled();
    expect(effects.count('Work')).toBe(1);
    const list = await node.service.listExecutions({ FlowName: 'orders' });
    expect(list.Executions).toHaveLength(1);
    await node.service.startExecution({ FlowName: 'quick', ExecutionName: 'q' });
    await expect(node.service.startExecution({ FlowName: 'quick', ExecutionName: 'q' })).rejects.toMatchObject({
      code: 'ExecutionAlreadyExists',
      details: { args: ['q', 'quick'] },
    });
  });

  it('validates its parameters', async () => {
    await expect(node.service.startExecution({ FlowName: 'nope' })).rejects.toMatchObject({ code: 'FlowNotExists', details: { args: ['nope'] } });
    await expect(node.service.startExecution({ FlowName: 'orders', ExecutionName: '9bad' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(node.service.startExecution({ FlowName: 'orders', Input: '[1]' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(node.service.startExecution({ FlowName: 'orders', Input: '{oops' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    const big = JSON.stringify({ s: 'x'.repeat(MAX_EXECUTION_INPUT_BYTES) });
    await expect(node.service.startExecution({ FlowName: 'orders', Input: big })).rejects.toMatchObject({ code: 'EntityTooLarge' });
    await node.store.createDefinition({ kind: 'flow', name: 'fast', content: PASS_FLOW.replace('Name: quick', 'Name: fast'), metadata: { ExecutionMode: 'Express' }, now: T0 });
    await expect(node.service.startExecution({ FlowName: 'fast' })).rejects.toMatchObject({ code: 'ActionNotSupported' });
    await expect(node.service.describeExecution({ FlowName: 'orders', ExecutionName: 'ghost' })).rejects.toMatchObject({ code: 'ExecutionNotExists' });
    await expect(node.service.describeExecution({ FlowName: 'orders', ExecutionName: 'x', WaitTimeSeconds: 61 })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(node.service.stopExecution({ FlowName: 'orders', ExecutionName: 'x', Error: 'e'.repeat(129) })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(node.service.listExecutions({ FlowName: 'orders', Limit: 101 })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(node.service.listExecutions({ FlowName: 'orders', Status: 'Sleeping' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(node.service.listExecutions({ FlowName: 'orders', StartedTimeBegin: 'yesterday' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(node.service.listExecutions({ FlowName: 'orders', NextToken: 'garbage!' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(node.service.reportTaskFailed({ TaskToken: 't', Error: '' })).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(node.service.reportTaskSucceeded({ TaskToken: '', Output: '{}' })).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  it('DescribeExecution long-polls on the clock: answers when the execution ends, or after WaitTimeSeconds', async () => {
    const g = gate();
    effects.on('Work', g.handler);
    await run('lp');
    await node.runner.settled();
    let answered: unknown;
    const waiting = node.service.describeExecution({ FlowName: 'orders', ExecutionName: 'lp', WaitTimeSeconds: 10 }).then((v) => (answered = v));
    await advanceTo(clock, T0 + 10 * SECOND - 1, node.runner);
    expect(answered).toBeUndefined();
    await advanceTo(clock, T0 + 10 * SECOND, node.runner);
    await waiting;
    expect(answered).toMatchObject({ Status: 'Running' });

    answered = undefined;
    const again = node.service.describeExecution({ FlowName: 'orders', ExecutionName: 'lp', WaitTimeSeconds: 60 }).then((v) => (answered = v));
    await advanceTo(clock, T0 + 12 * SECOND, node.runner);
    g.pending[0]?.resolve({ items: [] });
    await node.runner.settled();
    await advanceTo(clock, T0 + 17 * SECOND, node.runner); // the Wait state
    await again;
    expect(answered).toMatchObject({ Status: 'Succeeded', StoppedTime: new Date(T0 + 17 * SECOND).toISOString() });
  });

  it('lists newest first with paging and filters', async () => {
    for (let i = 0; i < 5; i++) {
      await run(`p-${i}`);
      await advanceTo(clock, clock.now() + SECOND, node.runner);
    }
    await node.service.startExecution({ FlowName: 'quick', ExecutionName: 'other-flow' });
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page: Awaited<ReturnType<typeof node.service.listExecutions>> = await node.service.listExecutions({ FlowName: 'orders', Limit: 2, ...(token ? { NextToken: token } : {}) });
      names.push(...page.Executions.map((e) => e.Name));
      token = page.NextToken;
    } while (token);
    expect(names).toEqual(['p-4', 'p-3', 'p-2', 'p-1', 'p-0']);
    await advanceTo(clock, clock.now() + 10 * SECOND, node.runner);
    await run('q-late');
    const running = await node.service.listExecutions({ FlowName: 'orders', Status: 'Running' });
    expect(running.Executions.map((e) => e.Name)).toEqual(['q-late']);
    const prefixed = await node.service.listExecutions({ FlowName: 'orders', ExecutionNamePrefix: 'q-' });
    expect(prefixed.Executions.map((e) => e.Name)).toEqual(['q-late']);
    const window = await node.service.listExecutions({
      FlowName: 'orders',
      StartedTimeBegin: new Date(T0 + SECOND).toISOString(),
      StartedTimeEnd: new Date(T0 + 2 * SECOND).toISOString(),
    });
    expect(window.Executions.map((e) => e.Name)).toEqual(['p-2', 'p-1']);
    const meta = await node.service.listExecutions({ FlowName: 'orders', Limit: 1, MetadataOnly: true });
    expect(Object.keys(meta.Executions[0] ?? {}).sort()).toEqual(['FlowName', 'Name', 'StartedTime', 'Status']);
    // a token of another flow is refused
    const orders = await node.service.listExecutions({ FlowName: 'orders', Limit: 1 });
    await expect(node.service.listExecutions({ FlowName: 'quick', NextToken: orders.NextToken ?? '' })).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  it('GetExecutionHistory pages the events with the API event types', async () => {
    await run('h');
    await node.runner.settled();
    await advanceTo(clock, T0 + 5 * SECOND, node.runner);
    const all: Awaited<ReturnType<typeof node.service.getExecutionHistory>>['Events'] = [];
    let token: string | undefined;
    do {
      const page: Awaited<ReturnType<typeof node.service.getExecutionHistory>> = await node.service.getExecutionHistory({
        FlowName: 'orders',
        ExecutionName: 'h',
        Limit: 3,
        ...(token ? { NextToken: token } : {}),
      });
      all.push(...page.Events);
      token = page.NextToken;
    } while (token);
    expect(all.map((e) => e.EventId)).toEqual(all.map((_e, i) => i + 1));
    for (const e of all) expect(API_EVENT_TYPES).toContain(e.Type);
    expect(all[0]).toMatchObject({ Type: 'ExecutionStarted', StepName: '', Time: new Date(T0).toISOString() });
    expect(JSON.parse(all[0]?.EventDetail ?? '{}')).toEqual({ Input: { id: 1 } });
    expect(all[all.length - 1]?.Type).toBe('ExecutionSucceeded');
    const wait = all.find((e) => e.StepName === 'Pause' && e.Type === 'StepStarted');
    expect(JSON.parse(wait?.EventDetail ?? '{}')).toMatchObject({ Event: 'WaitStarted' });
    const scheduled = all.find((e) => e.Type === 'TaskScheduled');
    const done = all.find((e) => e.Type === 'TaskSucceeded');
    expect(done?.ScheduleEventId).toBe(scheduled?.EventId);
    const iteration = all.find((e) => e.Type === 'IterationEntered');
    expect(JSON.parse(iteration?.EventDetail ?? '{}')).toEqual({ Path: [0] });
    await expect(node.service.getExecutionHistory({ FlowName: 'orders', ExecutionName: 'h', Limit: 1000 })).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  it('an execution keeps running the flow version it started with', async () => {
    const g = gate();
    effects.on('Work', g.handler).on('Other', () => ({ v: 2 }));
    await run('v1-exec');
    await node.runner.settled();
    await putFlow(node.store, 'orders', FLOW.replace('Action: Test:Work', 'Action: Test:Other'));
    await run('v2-exec');
    await node.runner.settled();
    expect(effects.count('Other')).toBe(1);
    g.pending[0]?.resolve({ items: [] });
    await advanceTo(clock, T0 + 5 * SECOND, node.runner);
    const v1 = await node.service.describeExecution({ FlowName: 'orders', ExecutionName: 'v1-exec' });
    expect(v1.Status).toBe('Succeeded');
    expect(v1.FlowDefinition).toContain('Test:Work');
    const v2 = await node.service.describeExecution({ FlowName: 'orders', ExecutionName: 'v2-exec' });
    expect(v2.FlowDefinition).toContain('Test:Other');
    expect(effects.count('Work')).toBe(1);
  });

  it('DeleteExecutions removes finished executions only', async () => {
    const g = gate();
    await node.service.startExecution({ FlowName: 'quick', ExecutionName: 'done-1' });
    effects.on('Work', g.handler);
    await run('busy');
    const r = await node.service.deleteExecutions({ FlowName: 'quick', ExecutionNames: ['done-1', 'ghost'] });
    expect(r).toEqual({ Deleted: ['done-1'], NotDeleted: [{ Name: 'ghost', Reason: 'ExecutionNotExists' }] });
    const busy = await node.service.deleteExecutions({ FlowName: 'orders', ExecutionNames: ['busy'] });
    expect(busy.Deleted).toEqual([]);
    expect(busy.NotDeleted[0]?.Name).toBe('busy');
    await expect(node.service.describeExecution({ FlowName: 'quick', ExecutionName: 'done-1' })).rejects.toMatchObject({ code: 'ExecutionNotExists' });
    // the name is free again
    await expect(node.service.startExecution({ FlowName: 'quick', ExecutionName: 'done-1' })).resolves.toMatchObject({ Status: 'Succeeded' });
  });

  it('purges finished executions after the retention period (background loop on the clock)', async () => {
    await node.service.startExecution({ FlowName: 'quick', ExecutionName: 'old' });
    effects.on('Work', gate().handler);
    await run('still-running');
    node.runner.startBackground();
    await advanceTo(clock, T0 + 50 * SECOND, node.runner);
    await expect(node.service.describeExecution({ FlowName: 'quick', ExecutionName: 'old' })).resolves.toMatchObject({ Status: 'Succeeded' });
    await advanceTo(clock, T0 + 70 * SECOND, node.runner); // retention 60 s, purge every 10 s
    await expect(node.service.describeExecution({ FlowName: 'quick', ExecutionName: 'old' })).rejects.toMatchObject({ code: 'ExecutionNotExists' });
    await expect(node.service.describeExecution({ FlowName: 'orders', ExecutionName: 'still-running' })).resolves.toBeDefined();
    expect(await node.service.purgeFinishedExecutions(0)).toBe(0);
    const e = await executionByName(node.store, 'orders', 'still-running');
    expect(e.status).not.toBe('Succeeded');
  });
});
