import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startServer } from '../../src/api/server.js';
import { API_EVENT_TYPES } from '../../src/fnf/history.js';
import { MAX_EXECUTION_INPUT_BYTES } from '../../src/fnf/service.js';
import { ManualClock } from '../../src/shared/clock.js';
import { BLOCKER, call, FAILING, HELLO, ISO_MS, makeApi, rpc, silent, SLOW, tempDir, UUID } from './helpers.js';
import type { TestApi } from './helpers.js';

const UUID_TEXT = UUID.source.slice(1, -1);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function api(options: Parameters<typeof makeApi>[0] = {}): Promise<TestApi> {
  const a = await makeApi({ flows: [HELLO, FAILING, BLOCKER, SLOW], ...options });
  cleanups.push(() => a.close());
  return a;
}

describe('StartSyncExecution', () => {
  it('runs the flow and answers Succeeded with Name {ExecutionName}:{UUID}, Output as JSON text and ms times', async () => {
    const clock = new ManualClock(Date.UTC(2026, 2, 3, 4, 5, 6, 789));
    const { app } = await api({ clock });
    const res = await call(app, 'StartSyncExecution', { FlowName: 'hello', ExecutionName: 'e1', Input: '{"name":"x"}' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ FlowName: 'hello', Status: 'Succeeded', StartedTime: '2026-03-03T04:05:06.789Z', StoppedTime: '2026-03-03T04:05:06.789Z' });
    expect(res.body.Name).toMatch(new RegExp(`^e1:${UUID_TEXT}$`));
    expect(typeof res.body.Output).toBe('string');
    expect(JSON.parse(res.body.Output)).toEqual({ greeting: 'Hello, x!' });
    expect(res.body).not.toHaveProperty('ErrorCode');
    expect(res.body).not.toHaveProperty('Code');
  });

  it('generates a name when none is given, and a new UUID every time', async () => {
    const { app } = await api();
    const a = await call(app, 'StartSyncExecution', { FlowName: 'hello', ExecutionName: 'same' });
    const b = await call(app, 'StartSyncExecution', { FlowName: 'hello', ExecutionName: 'same' });
    expect(a.body.Name).not.toBe(b.body.Name);
    const generated = await call(app, 'StartSyncExecution', { FlowName: 'hello' });
    expect(generated.body.Name).toMatch(new RegExp(`^${UUID_TEXT}:${UUID_TEXT}$`));
  });

  it('Input defaults to {} and Qualifier is accepted', async () => {
    const { app } = await api();
    const res = await rpc(app, 'StartSyncExecution', { FlowName: 'hello', Qualifier: 'LATEST' }, 'POST');
    expect(res.status).toBe(200);
    expect(res.body.Status).toBe('Succeeded');
  });

  it('a flow that fails → 200 with Status Failed, ErrorCode and ErrorMessage, no Output', async () => {
    const { app } = await api();
    const res = await call(app, 'StartSyncExecution', { FlowName: 'failing', ExecutionName: 'f' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ Status: 'Failed', ErrorCode: 'Order.Invalid', ErrorMessage: 'the order has no items' });
    expect(res.body).not.toHaveProperty('Output');
    expect(res.body).not.toHaveProperty('Code');
    expect(res.body.StoppedTime).toMatch(ISO_MS);
  });

  it('an execution over 5 minutes of clock time → 200 with Status TimedOut', async () => {
    const clock = new ManualClock();
    const { app, service } = await api({ clock });
    const pending = call(app, 'StartSyncExecution', { FlowName: 'slow', ExecutionName: 'late' }).then((r) => r);
    // running: the execution deadline and the Mock's 600 s sleep are both waiting on the clock
    await vi.waitFor(() => expect(clock.pendingCount).toBe(2));
    expect(service.stats().running).toBe(1);
    await clock.advance(5 * 60 * 1000);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body.Status).toBe('TimedOut');
    expect(res.body.ErrorCode).toBe('FnF.Timeout');
    expect(Date.parse(res.body.StoppedTime) - Date.parse(res.body.StartedTime)).toBe(5 * 60 * 1000);
  });

  it('the execution time limit is configurable', async () => {
    const clock = new ManualClock();
    const { app } = await api({ clock, service: { executionTimeoutMs: 2000 } });
    const pending = call(app, 'StartSyncExecution', { FlowName: 'slow' }).then((r) => r);
    await vi.waitFor(() => expect(clock.pendingCount).toBe(2));
    await clock.advance(2000);
    expect((await pending).body.Status).toBe('TimedOut');
  });

  describe('Input', () => {
    it.each([
      ['not JSON', '{name: x}', 'Input is not valid JSON'],
      ['a JSON array', '[1,2]', 'Input must be a JSON object, not a JSON array'],
      ['a JSON string', '"x"', 'Input must be a JSON object, not a JSON string'],
      ['null', 'null', 'Input must be a JSON object, not null'],
    ])('%s → 400 InvalidArgument', async (_what, input, message) => {
      const { app } = await api();
      const res = await call(app, 'StartSyncExecution', { FlowName: 'hello', Input: input });
      expect(res.status).toBe(400);
      expect(res.body.Code).toBe('InvalidArgument');
      expect(res.body.Message).toContain(message);
    });

    it(`over ${MAX_EXECUTION_INPUT_BYTES} bytes (64 KiB) → 400 EntityTooLarge`, async () => {
      const { app } = await api();
      const input = JSON.stringify({ pad: 'é'.repeat(MAX_EXECUTION_INPUT_BYTES / 2) }); // 2 bytes per é
      const res = await call(app, 'StartSyncExecution', { FlowName: 'hello', Input: input });
      expect(res.status).toBe(400);
      expect(res.body.Code).toBe('EntityTooLarge');
      expect(res.body.Message).toContain(`(${MAX_EXECUTION_INPUT_BYTES} bytes)`);
      const justUnder = JSON.stringify({ name: 'a'.repeat(1000) });
      expect((await call(app, 'StartSyncExecution', { FlowName: 'hello', Input: justUnder })).body.Status).toBe('Succeeded');
    });
  });

  it('names are checked: bad ExecutionName or FlowName → InvalidArgument', async () => {
    const { app } = await api();
    const badExec = await call(app, 'StartSyncExecution', { FlowName: 'hello', ExecutionName: 'has space' });
    expect(badExec.status).toBe(400);
    expect(badExec.body.Message).toContain("ExecutionName 'has space' is invalid");
    const tooLong = await call(app, 'StartSyncExecution', { FlowName: 'hello', ExecutionName: 'a'.repeat(129) });
    expect(tooLong.body.Code).toBe('InvalidArgument');
    const badFlow = await call(app, 'StartSyncExecution', { FlowName: 'bad:name' });
    expect(badFlow.body.Code).toBe('InvalidArgument');
  });

  it('an unknown flow → 404 FlowNotExists', async () => {
    const { app } = await api();
    const res = await call(app, 'StartSyncExecution', { FlowName: 'ghost' });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ Code: 'FlowNotExists', Message: 'Flow ghost does not exist.' });
  });

  it('a Standard flow is refused: 400 ActionNotSupported "Standard execution is not supported"', async () => {
    const { app } = await api();
    await call(app, 'CreateFlow', { Name: 'std', Definition: HELLO.replace('Name: hello', 'Name: std'), Description: 'd', Type: 'FDL', ExecutionMode: 'Standard' });
    const res = await call(app, 'StartSyncExecution', { FlowName: 'std' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ Code: 'ActionNotSupported', Message: 'Standard execution is not supported' });
  });
});

describe('admission control', () => {
  it('with 1 running and 1 waiting, the third request gets 429 ResourceThrottled at once', async () => {
    const { app, service, block } = await api({ service: { maxConcurrentExecutions: 1, maxQueuedExecutions: 1 } });
    const first = call(app, 'StartSyncExecution', { FlowName: 'blocker', ExecutionName: 'first' }).then((r) => r);
    await block.started(1);
    const second = call(app, 'StartSyncExecution', { FlowName: 'blocker', ExecutionName: 'second' }).then((r) => r);
    await vi.waitFor(() => expect(service.stats()).toEqual({ running: 1, queued: 1 }));

    const third = await call(app, 'StartSyncExecution', { FlowName: 'blocker', ExecutionName: 'third' });
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ Code: 'ResourceThrottled' });
    expect(third.body.Message).toMatch(/^The request is throttled\. Please try again later\./);
    expect(block.calls).toHaveLength(1); // the third never ran, the second still waits

    block.open();
    const [a, b] = await Promise.all([first, second]);
    expect(a.body.Status).toBe('Succeeded');
    expect(b.body.Status).toBe('Succeeded');
    expect(block.calls).toHaveLength(2);
    // room again
    const fourth = await call(app, 'StartSyncExecution', { FlowName: 'hello' });
    expect(fourth.status).toBe(200);
  });

  it('shutdown without grace: the running execution ends Stopped (200), the waiting one is refused (429)', async () => {
    const { app, service, block } = await api({ service: { maxConcurrentExecutions: 1, maxQueuedExecutions: 1 } });
    const running = call(app, 'StartSyncExecution', { FlowName: 'blocker' }).then((r) => r);
    await block.started(1);
    const waiting = call(app, 'StartSyncExecution', { FlowName: 'blocker' }).then((r) => r);
    await vi.waitFor(() => expect(service.stats().queued).toBe(1));
    await service.close(0);
    const [a, b] = await Promise.all([running, waiting]);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ Status: 'Stopped', ErrorCode: 'FnF.Cancelled' });
    expect(b.status).toBe(429);
    expect(b.body.Message).toContain('shutting down');
    expect(block.calls).toHaveLength(1);
  });

  it('a service that is shutting down refuses new executions with ResourceThrottled', async () => {
    const { app, service } = await api();
    await service.close();
    const res = await call(app, 'StartSyncExecution', { FlowName: 'hello' });
    expect(res.status).toBe(429);
    expect(res.body.Message).toContain('shutting down');
  });
});

describe('client disconnect', () => {
  it('aborts the execution: its task sees its AbortSignal abort and the execution ends Stopped', async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    const a = await api();
    const server = await startServer({ port: 0, flowsDir: dir, runtime: a.runtime, logger: silent, store: a.service.store });
    cleanups.push(() => server.close());
    // the server's service shares the store (and the flows) but has its own window
    const req = httpRequest(`${server.url}/StartSyncExecution`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ FlowName: 'blocker', ExecutionName: 'gone' }));
    const task = await a.block.started(1);
    expect(task.signal.aborted).toBe(false);
    const aborted = new Promise<void>((resolve) => task.signal.addEventListener('abort', () => resolve(), { once: true }));
    req.destroy();
    await aborted;
    expect(task.signal.aborted).toBe(true);
    await server.service.idle();
    const list = await call(server.app, 'ListExecutions', { FlowName: 'blocker' });
    expect(list.body.Executions).toHaveLength(1);
    expect(list.body.Executions[0]).toMatchObject({ Status: 'Stopped', ErrorCode: 'FnF.Cancelled' });
    expect(list.body.Executions[0].Name).toMatch(/^gone:/);
  });
});

describe('recent executions', () => {
  async function runSome(app: TestApi['app'], n: number, flow = 'hello'): Promise<string[]> {
    const names: string[] = [];
    for (let i = 0; i < n; i++) names.push((await call(app, 'StartSyncExecution', { FlowName: flow, ExecutionName: `run${i}`, Input: `{"name":"n${i}"}` })).body.Name);
    return names;
  }

  it('DescribeExecution shows a finished execution with its definition, input and output', async () => {
    const { app } = await api();
    const [name] = await runSome(app, 1);
    const res = await rpc(app, 'DescribeExecution', { FlowName: 'hello', ExecutionName: name as string });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ Name: name, FlowName: 'hello', Status: 'Succeeded', Input: '{"name":"n0"}' });
    expect(JSON.parse(res.body.Output)).toEqual({ greeting: 'Hello, n0!' });
    expect(res.body.FlowDefinition).toBe(HELLO);
    expect(res.body.StartedTime).toMatch(ISO_MS);
    expect(res.body.StoppedTime).toMatch(ISO_MS);
  });

  it('DescribeExecution: unknown execution → 404 ExecutionNotExists; unknown flow → FlowNotExists', async () => {
    const { app } = await api();
    const res = await call(app, 'DescribeExecution', { FlowName: 'hello', ExecutionName: 'nope:1' });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ Code: 'ExecutionNotExists', Message: 'Execution nope:1 does not exist.' });
    const flow = await call(app, 'DescribeExecution', { FlowName: 'ghost', ExecutionName: 'x' });
    expect(flow.body.Code).toBe('FlowNotExists');
  });

  it('DescribeExecution shows a running execution; WaitTimeSeconds waits for its end', async () => {
    const clock = new ManualClock();
    const { app, block } = await api({ clock });
    const run = call(app, 'StartSyncExecution', { FlowName: 'blocker', ExecutionName: 'b' }).then((r) => r);
    await block.started(1);
    const list = await call(app, 'ListExecutions', { FlowName: 'blocker' });
    const name = list.body.Executions[0].Name as string;
    const now = await call(app, 'DescribeExecution', { FlowName: 'blocker', ExecutionName: name });
    expect(now.body.Status).toBe('Running');
    expect(now.body).not.toHaveProperty('StoppedTime');

    const waiting = call(app, 'DescribeExecution', { FlowName: 'blocker', ExecutionName: name, WaitTimeSeconds: 10 }).then((r) => r);
    await vi.waitFor(() => expect(clock.pendingCount).toBe(2)); // execution deadline + long-poll wait
    block.open();
    expect((await waiting).body.Status).toBe('Succeeded');
    expect((await run).body.Status).toBe('Succeeded');
  });

  it('a long poll that runs out answers the execution as it is (Running)', async () => {
    const clock = new ManualClock();
    const { app, block } = await api({ clock });
    const run = call(app, 'StartSyncExecution', { FlowName: 'blocker' }).then((r) => r);
    await block.started(1);
    const name = (await call(app, 'ListExecutions', { FlowName: 'blocker' })).body.Executions[0].Name as string;
    const waiting = call(app, 'DescribeExecution', { FlowName: 'blocker', ExecutionName: name, WaitTimeSeconds: 3 }).then((r) => r);
    await vi.waitFor(() => expect(clock.pendingCount).toBe(2));
    await clock.advance(3000);
    expect((await waiting).body.Status).toBe('Running');
    const bad = await call(app, 'DescribeExecution', { FlowName: 'blocker', ExecutionName: name, WaitTimeSeconds: 61 });
    expect(bad.body.Code).toBe('InvalidArgument');
    block.open();
    await run;
  });

  it('ListExecutions lists newest first with paging, filters by Status and prefix, MetadataOnly', async () => {
    const { app } = await api();
    const names = await runSome(app, 5);
    await call(app, 'StartSyncExecution', { FlowName: 'failing', ExecutionName: 'other-flow' });
    const p1 = await rpc(app, 'ListExecutions', { FlowName: 'hello', Limit: 2 });
    expect(p1.status).toBe(200);
    expect(p1.body.Executions.map((e: { Name: string }) => e.Name)).toEqual([names[4], names[3]]);
    const p2 = await rpc(app, 'ListExecutions', { FlowName: 'hello', Limit: 2, NextToken: p1.body.NextToken });
    expect(p2.body.Executions.map((e: { Name: string }) => e.Name)).toEqual([names[2], names[1]]);
    const p3 = await rpc(app, 'ListExecutions', { FlowName: 'hello', Limit: 2, NextToken: p2.body.NextToken });
    expect(p3.body.Executions.map((e: { Name: string }) => e.Name)).toEqual([names[0]]);
    expect(p3.body).not.toHaveProperty('NextToken');

    const prefixed = await call(app, 'ListExecutions', { FlowName: 'hello', ExecutionNamePrefix: 'run3' });
    expect(prefixed.body.Executions.map((e: { Name: string }) => e.Name)).toEqual([names[3]]);
    const failed = await call(app, 'ListExecutions', { FlowName: 'hello', Status: 'Failed' });
    expect(failed.body.Executions).toEqual([]);
    const meta = await call(app, 'ListExecutions', { FlowName: 'hello', Limit: 1, MetadataOnly: true });
    expect(meta.body.Executions[0]).not.toHaveProperty('Input');
    expect(meta.body.Executions[0]).not.toHaveProperty('FlowDefinition');
    expect(meta.body.Executions[0].Status).toBe('Succeeded');
  });

  it('ListExecutions: a token of another flow, a bad Status or time → InvalidArgument; an unknown flow → FlowNotExists', async () => {
    const { app } = await api();
    await runSome(app, 2);
    const token = (await call(app, 'ListExecutions', { FlowName: 'hello', Limit: 1 })).body.NextToken as string;
    const other = await call(app, 'ListExecutions', { FlowName: 'failing', NextToken: token });
    expect(other.status).toBe(400);
    expect(other.body.Message).toContain('NextToken');
    expect((await call(app, 'ListExecutions', { FlowName: 'hello', NextToken: '%%%' })).body.Code).toBe('InvalidArgument');
    expect((await call(app, 'ListExecutions', { FlowName: 'hello', Status: 'Sleeping' })).body.Code).toBe('InvalidArgument');
    expect((await call(app, 'ListExecutions', { FlowName: 'hello', StartedTimeBegin: 'yesterday' })).body.Code).toBe('InvalidArgument');
    expect((await call(app, 'ListExecutions', { FlowName: 'hello', Limit: 101 })).body.Code).toBe('InvalidArgument');
    expect((await call(app, 'ListExecutions', { FlowName: 'ghost' })).status).toBe(404);
  });

  it('GetExecutionHistory returns the events with the API type names, EventDetail as JSON text, paged', async () => {
    const { app } = await api();
    await call(app, 'CreateFlow', {
      Name: 'task-flow',
      Description: 'd',
      Type: 'FDL',
      ExecutionMode: 'Express',
      Definition: `Type: StateMachine
Name: task-flow
SpecVersion: v1
StartAt: Lookup
States:
  - Type: Task
    Name: Lookup
    Action: Mock
    Parameters:
      result:
        plan: pro
    Next: Done
  - Type: Succeed
    Name: Done
`,
    });
    const name = (await call(app, 'StartSyncExecution', { FlowName: 'task-flow', ExecutionName: 'h' })).body.Name as string;
    const res = await rpc(app, 'GetExecutionHistory', { FlowName: 'task-flow', ExecutionName: name });
    expect(res.status).toBe(200);
    const events = res.body.Events as { EventId: number; ScheduleEventId: number; StepName: string; Type: string; Time: string; EventDetail: string }[];
    expect(events.length).toBeGreaterThanOrEqual(6);
    for (const e of events) {
      expect(API_EVENT_TYPES).toContain(e.Type);
      expect(e.Time).toMatch(ISO_MS);
      expect(typeof JSON.parse(e.EventDetail)).toBe('object');
    }
    expect(events.map((e) => e.EventId)).toEqual(events.map((_e, i) => i + 1));
    expect(events[0]?.Type).toBe('ExecutionStarted');
    expect(JSON.parse(events[0]?.EventDetail ?? '{}')).toEqual({ Input: {} });
    expect(events[events.length - 1]?.Type).toBe('ExecutionSucceeded');
    const scheduled = events.find((e) => e.Type === 'TaskScheduled');
    const succeeded = events.find((e) => e.Type === 'TaskSucceeded');
    expect(scheduled?.StepName).toBe('Lookup');
    expect(succeeded?.ScheduleEventId).toBe(scheduled?.EventId);
    expect(JSON.parse(succeeded?.EventDetail ?? '{}')).toEqual({ Output: { plan: 'pro' } });

    const p1 = await call(app, 'GetExecutionHistory', { FlowName: 'task-flow', ExecutionName: name, Limit: 2 });
    expect(p1.body.Events.map((e: { EventId: number }) => e.EventId)).toEqual([1, 2]);
    const p2 = await call(app, 'GetExecutionHistory', { FlowName: 'task-flow', ExecutionName: name, Limit: 2, NextToken: p1.body.NextToken });
    expect(p2.body.Events.map((e: { EventId: number }) => e.EventId)).toEqual([3, 4]);
    const bad = await call(app, 'GetExecutionHistory', { FlowName: 'task-flow', ExecutionName: name, NextToken: 'xyz' });
    expect(bad.body.Code).toBe('InvalidArgument');
    const missing = await call(app, 'GetExecutionHistory', { FlowName: 'task-flow', ExecutionName: 'h:nope' });
    expect(missing.status).toBe(404);
    expect(missing.body.Code).toBe('ExecutionNotExists');
  });

  it('flowrun events without an API name keep theirs in EventDetail.Event (Wait → StepStarted)', async () => {
    const clock = new ManualClock();
    const { app } = await api({ clock });
    await call(app, 'CreateFlow', {
      Name: 'waiter',
      Description: 'd',
      Type: 'FDL',
      ExecutionMode: 'Express',
      Definition: 'Type: StateMachine\nName: waiter\nSpecVersion: v1\nStartAt: W\nStates:\n  - Type: Wait\n    Name: W\n    Seconds: 2\n    End: true\n',
    });
    const pending = call(app, 'StartSyncExecution', { FlowName: 'waiter' }).then((r) => r);
    await vi.waitFor(() => expect(clock.pendingCount).toBe(2));
    await clock.advance(2000);
    const name = (await pending).body.Name as string;
    const events = (await call(app, 'GetExecutionHistory', { FlowName: 'waiter', ExecutionName: name })).body.Events as { Type: string; EventDetail: string }[];
    const wait = events.find((e) => JSON.parse(e.EventDetail).Event === 'WaitStarted');
    expect(wait?.Type).toBe('StepStarted');
  });

  it('the window is bounded: the oldest execution is forgotten', async () => {
    const { app } = await api({ service: { executionWindow: 2 } });
    const names = await runSome(app, 3);
    expect((await call(app, 'DescribeExecution', { FlowName: 'hello', ExecutionName: names[0] })).body.Code).toBe('ExecutionNotExists');
    expect((await call(app, 'DescribeExecution', { FlowName: 'hello', ExecutionName: names[2] })).body.Status).toBe('Succeeded');
    expect((await call(app, 'ListExecutions', { FlowName: 'hello' })).body.Executions).toHaveLength(2);
  });

  it('with the window off nothing is kept; with history off events are not kept', async () => {
    const off = await api({ service: { executionWindow: 0 } });
    const [name] = await runSome(off.app, 1);
    expect((await call(off.app, 'DescribeExecution', { FlowName: 'hello', ExecutionName: name })).status).toBe(404);
    const noHistory = await api({ service: { keepHistory: false } });
    const [n2] = await runSome(noHistory.app, 1);
    const h = await call(noHistory.app, 'GetExecutionHistory', { FlowName: 'hello', ExecutionName: n2 });
    expect(h.status).toBe(200);
    expect(h.body.Events).toEqual([]);
    expect((await call(noHistory.app, 'DescribeExecution', { FlowName: 'hello', ExecutionName: n2 })).body.Status).toBe('Succeeded');
  });

  it('DeleteFlow forgets the executions of the flow', async () => {
    const { app } = await api();
    const [name] = await runSome(app, 1);
    await call(app, 'DeleteFlow', { Name: 'hello' });
    await call(app, 'CreateFlow', { Name: 'hello', Definition: HELLO, Description: 'd', Type: 'FDL', ExecutionMode: 'Express' });
    expect((await call(app, 'DescribeExecution', { FlowName: 'hello', ExecutionName: name })).body.Code).toBe('ExecutionNotExists');
  });
});
