/**
 * The execution lifecycle in-process (app → service → durable runner → SQLite, ManualClock):
 * StartExecution, approvals, high-risk confirmations, debug mode, FailurePause, CancelExecution,
 * child executions, and a restart in the middle of a wait.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AcsFixtures } from '../../src/oos/index.js';
import { fakeCommands, hookServer, inventoryOf, oos, OosWorld } from './helpers.js';
import type { OosNode } from './helpers.js';

const FIXTURES: AcsFixtures = {
  Services: {
    ECS: {
      DescribeRegions: [{ Response: { Regions: { Region: [{ RegionId: 'cn-hangzhou' }, { RegionId: 'cn-beijing' }] } } }],
      DescribeInstances: [{ Response: { Instances: { Instance: [{ InstanceId: 'i-000' }] } } }],
      DeleteInstance: [{ Response: { RequestId: 'deleted' } }],
    },
  },
};

const APPROVE = `
FormatVersion: OOS-2019-06-01
Parameters:
  hook: { Type: String }
  min: { Type: Number, Default: 1 }
Tasks:
  - Name: approve
    Action: ACS::Approve
    Properties:
      NotifyType: WebHook
      WebHook:
        URI: '{{ hook }}/approval'
        Headers: { Content-Type: application/json }
        Content: { text: 'please approve {{ ACS::ExecutionId }}' }
      Approvers: [alice, bob]
      MinRequiredApprovals: '{{ min }}'
  - Name: work
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: DescribeRegions, Parameters: {} }
    Outputs:
      count: { Type: Number, ValueSelector: '.Regions.Region | length' }
Outputs:
  regions: { Type: Number, Value: '{{ work.count }}' }
`;

const RISKY = `
FormatVersion: OOS-2019-06-01
Tasks:
  - Name: describe
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: DescribeInstances, Parameters: {} }
  - Name: deleteIt
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: DeleteInstance, Parameters: { InstanceId: i-000 } }
  - Name: deleteTemp
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: DeleteInstance, Parameters: { InstanceId: i-001 }, Risk: Normal }
`;

const SLEEPY = `
FormatVersion: OOS-2019-06-01
Tasks:
  - Name: nap
    Action: ACS::Sleep
    Properties: { Duration: PT1H }
  - Name: after
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: DescribeRegions, Parameters: {} }
`;

const COMMAND = `
FormatVersion: OOS-2019-06-01
Parameters:
  instance: { Type: String, Default: i-000 }
Tasks:
  - Name: run
    Action: ACS::ECS::RunCommand
    Properties: { instanceId: '{{ instance }}', commandContent: 'uptime' }
    Outputs:
      out: { Type: String, ValueSelector: invocationOutput }
  - Name: then
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: DescribeRegions, Parameters: {} }
Outputs:
  out: { Type: String, Value: '{{ run.out }}' }
`;

let world: OosWorld;
let node: OosNode;
let commands: ReturnType<typeof fakeCommands>;
let hooks: Awaited<ReturnType<typeof hookServer>>;
const failing: string[] = [];

async function startNode(extra: Parameters<OosWorld['node']>[0] = {}): Promise<OosNode> {
  const n = await world.node({ fixtures: FIXTURES, inventory: inventoryOf(10), commandRunner: { enabled: true, run: commands.run }, ...extra });
  for (const [name, content] of Object.entries({ approve: APPROVE, risky: RISKY, sleepy: SLEEPY, command: COMMAND })) {
    const existing = await n.store.getDefinition('template', name);
    if (!existing) expect((await oos(n.app, 'CreateTemplate', { TemplateName: name, Content: content })).status).toBe(200);
  }
  return n;
}

beforeEach(async () => {
  world = new OosWorld();
  failing.length = 0;
  commands = fakeCommands({ fail: failing });
  hooks = await hookServer();
  node = await startNode();
});
afterEach(async () => {
  await world.dispose();
  await hooks.close();
});

const start = async (body: Record<string, unknown>): Promise<string> => {
  const res = await oos(node.app, 'StartExecution', body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.Execution.ExecutionId as string;
};
const execution = async (id: string): Promise<Record<string, unknown>> => {
  const res = await oos(node.app, 'ListExecutions', { ExecutionId: id });
  expect(res.body.Executions).toHaveLength(1);
  return res.body.Executions[0] as Record<string, unknown>;
};
const statusOf = async (id: string): Promise<unknown> => (await execution(id))['Status'];
const notify = (id: string, body: Record<string, unknown>) => oos(node.app, 'NotifyExecution', { ExecutionId: id, ...body });
const tasks = async (id: string): Promise<Record<string, string>[]> => (await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, SortOrder: 'Ascending' })).body.TaskExecutions;

describe('StartExecution', () => {
  it('answers at once with Status Started and the seed-001 shape; the runner moves it on', async () => {
    const res = await oos(node.app, 'StartExecution', { TemplateName: 'sleepy', Description: 'first', Tags: JSON.stringify({ team: 'ops' }) });
    expect(res.status).toBe(200);
    const e = res.body.Execution;
    expect(e).toMatchObject({
      Status: 'Started',
      TemplateName: 'sleepy',
      TemplateVersion: 'v1',
      Mode: 'Automatic',
      SafetyCheck: 'ConfirmEveryHighRiskAction',
      Parameters: '{}',
      Outputs: '{}',
      CurrentTasks: [],
      IsParent: false,
      RamRole: 'OOSServiceRole',
      Description: 'first',
      Tags: { team: 'ops' },
      StartDate: '2026-01-01T00:00:00Z',
    });
    expect(e.ExecutionId).toMatch(/^exec-[0-9a-f]{20}$/);
    expect(e.TemplateId).toMatch(/^t-[0-9a-f]{20}$/);
    await node.settle();
    const now = await execution(e.ExecutionId);
    expect(now['Status']).toBe('Running');
    expect(now['CurrentTasks']).toEqual([{ TaskAction: 'ACS::Sleep', TaskExecutionId: `${e.ExecutionId}.t0001`, TaskName: 'nap' }]);
    expect(now['Parameters']).toEqual({});
    await node.advance(3600_000);
    const done = await execution(e.ExecutionId);
    expect(done['Status']).toBe('Success');
    expect(done['Counters']).toEqual({ Success: 2, Total: 2 });
    expect(done['EndDate']).toBe('2026-01-01T01:00:00Z');
  });

  it('runs TemplateContent without a stored template', async () => {
    const id = await start({ TemplateContent: COMMAND, Parameters: JSON.stringify({ instance: 'i-004' }) });
    await node.settle();
    const e = await execution(id);
    expect(e['Status']).toBe('Success');
    expect(JSON.parse(e['Outputs'] as string)).toEqual({ out: 'ok i-004\n' });
    const tpl = await oos(node.app, 'GetExecutionTemplate', { ExecutionId: id });
    expect(tpl.body.Content).toBe(COMMAND);
  });

  it('a ClientToken starts one execution; the same token answers it again', async () => {
    const a = await start({ TemplateName: 'sleepy', ClientToken: 'tok-1' });
    const b = await start({ TemplateName: 'sleepy', ClientToken: 'tok-1' });
    expect(b).toBe(a);
    const c = await start({ TemplateName: 'sleepy', ClientToken: 'tok-2' });
    expect(c).not.toBe(a);
    expect((await oos(node.app, 'ListExecutions', {})).body.TotalCount).toBe(2);
  });

  it('parameter errors: missing, unknown, constraint, and bad JSON', async () => {
    const missing = await oos(node.app, 'StartExecution', { TemplateName: 'approve' });
    expect(missing.status).toBe(400);
    expect(missing.body.Code).toBe('MissingExecutionParameter');
    expect(missing.body.Message).toContain('hook');
    const unknown = await oos(node.app, 'StartExecution', { TemplateName: 'sleepy', Parameters: '{"x": 1}' });
    expect(unknown.body.Code).toBe('UnknownExecutionParameter');
    expect(unknown.body.Message).toContain('x');
    const bad = await oos(node.app, 'StartExecution', { TemplateName: 'approve', Parameters: JSON.stringify({ hook: 'h', min: 'many' }) });
    expect(bad.status).toBe(400);
    expect(bad.body.Code).toBe('TemplateValidationError');
    const notJson = await oos(node.app, 'StartExecution', { TemplateName: 'sleepy', Parameters: '{nope' });
    expect(notJson.body.Code).toBe('TemplateValidationError');
  });

  it('request errors: unknown template (404), both or neither source, bad Mode/SafetyCheck/LoopMode, unsupported TemplateURL', async () => {
    const unknown = await oos(node.app, 'StartExecution', { TemplateName: 'nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.Code).toBe('EntityNotExists.Template');
    const version = await oos(node.app, 'StartExecution', { TemplateName: 'sleepy', TemplateVersion: 'v9' });
    expect(version.status).toBe(404);
    for (const body of [
      { TemplateName: 'sleepy', TemplateContent: SLEEPY },
      {},
      { TemplateName: 'sleepy', Mode: 'Turbo' },
      { TemplateName: 'sleepy', SafetyCheck: 'Never' },
      { TemplateName: 'sleepy', LoopMode: 'Sometimes' },
      { TemplateURL: 'https://bucket/t.yml' },
      { TemplateName: 'sleepy', TemplateVersion: '2' },
      { TemplateName: 'sleepy', Tags: '{"acs:x": "y"}' },
    ]) {
      const res = await oos(node.app, 'StartExecution', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.Code, JSON.stringify(body)).toBe('InvalidParameter');
    }
  });

  it('QuotaExceed (403) past the configured number of running executions', async () => {
    await node.stop();
    node = await startNode({ maxRunningExecutions: 2 });
    await start({ TemplateName: 'sleepy' });
    await start({ TemplateName: 'sleepy' });
    await node.settle();
    const third = await oos(node.app, 'StartExecution', { TemplateName: 'sleepy' });
    expect(third.status).toBe(403);
    expect(third.body.Code).toBe('QuotaExceed');
    expect(third.body.Message).toBe('The Quota (RunningExecutions) exceeded (2).');
    await node.advance(3600_000);
    expect((await oos(node.app, 'StartExecution', { TemplateName: 'sleepy' })).status).toBe(200);
  });
});

describe('ACS::Approve', () => {
  it('posts the webhook, waits for MinRequiredApprovals distinct approvers, then runs on to Success', async () => {
    const id = await start({ TemplateName: 'approve', Parameters: JSON.stringify({ hook: hooks.url, min: 2 }) });
    await vi.waitFor(() => expect(hooks.received).toHaveLength(1));
    await node.settle();
    expect(hooks.received[0]).toMatchObject({ method: 'POST', path: '/approval' });
    expect(JSON.parse(hooks.received[0]?.body ?? '{}')).toEqual({ text: `please approve ${id}` });
    expect(await statusOf(id)).toBe('Waiting');
    expect((await tasks(id))[0]).toMatchObject({ TaskName: 'approve', Status: 'Waiting' });

    expect((await notify(id, { NotifyType: 'Approve', Approver: 'alice' })).status).toBe(200);
    await node.settle();
    expect(await statusOf(id)).toBe('Waiting');
    // the same approver again does not count twice
    await notify(id, { NotifyType: 'Approve', Approver: 'alice' });
    await node.settle();
    expect(await statusOf(id)).toBe('Waiting');
    expect((await tasks(id))[0]?.['StatusMessage']).toContain('(1/2)');

    await notify(id, { NotifyType: 'Approve', Approver: 'bob', NotifyNote: 'fine' });
    await node.settle();
    const e = await execution(id);
    expect(e['Status']).toBe('Success');
    expect(JSON.parse(e['Outputs'] as string)).toEqual({ regions: 2 });
    const logs = (await oos(node.app, 'ListExecutionLogs', { ExecutionId: id, LogType: 'Notify' })).body.ExecutionLogs as { Message: string }[];
    expect(logs.map((l) => l.Message)).toEqual([
      'NotifyExecution Approve by alice',
      'NotifyExecution Approve by alice',
      'NotifyExecution Approve by bob: fine',
    ]);
    expect(hooks.received).toHaveLength(1);
  });

  it('Reject ends the execution Cancelled; the next task never runs', async () => {
    const id = await start({ TemplateName: 'approve', Parameters: JSON.stringify({ hook: hooks.url }) });
    await vi.waitFor(() => expect(hooks.received).toHaveLength(1));
    await node.settle();
    expect((await notify(id, { NotifyType: 'Reject', Approver: 'bob', NotifyNote: 'not today' })).status).toBe(200);
    await node.settle();
    const e = await execution(id);
    expect(e['Status']).toBe('Cancelled');
    expect(e['StatusMessage']).toContain('OOS.Rejected');
    expect(e['StatusMessage']).toContain('not today');
    expect((await tasks(id)).map((t) => [t['TaskName'], t['Status']])).toEqual([['approve', 'Cancelled']]);
  });

  it('approvals survive a restart: one before, one after', async () => {
    const id = await start({ TemplateName: 'approve', Parameters: JSON.stringify({ hook: hooks.url, min: 2 }) });
    await vi.waitFor(() => expect(hooks.received).toHaveLength(1));
    await node.settle();
    await notify(id, { NotifyType: 'Approve', Approver: 'alice' });
    await node.settle();
    await node.stop();
    node = await startNode();
    expect(await node.runner.recover()).toBe(1);
    await node.settle();
    expect(await statusOf(id)).toBe('Waiting');
    await notify(id, { NotifyType: 'Approve', Approver: 'bob' });
    await node.settle();
    expect(await statusOf(id)).toBe('Success');
    // the notification is not sent again after the restart
    expect(hooks.received).toHaveLength(1);
  });
});

describe('high-risk actions', () => {
  it('ConfirmEveryHighRiskAction: Delete* waits for Approve; Risk: Normal is exempt', async () => {
    const id = await start({ TemplateName: 'risky' });
    await node.settle();
    expect(await statusOf(id)).toBe('Waiting');
    const waiting = await tasks(id);
    expect(waiting.map((t) => [t['TaskName'], t['Status']])).toEqual([
      ['describe', 'Success'],
      ['deleteIt', 'Waiting'],
    ]);
    expect(waiting[1]?.['StatusMessage']).toContain('high-risk API ECS DeleteInstance');
    await notify(id, { NotifyType: 'Approve' });
    await node.settle();
    expect(await statusOf(id)).toBe('Success');
    expect((await tasks(id)).map((t) => t['Status'])).toEqual(['Success', 'Success', 'Success']);
  });

  it('Reject of a high-risk task → Cancelled', async () => {
    const id = await start({ TemplateName: 'risky' });
    await node.settle();
    await notify(id, { NotifyType: 'Reject' });
    await node.settle();
    expect(await statusOf(id)).toBe('Cancelled');
  });

  it('SafetyCheck Skip runs everything at once', async () => {
    const id = await start({ TemplateName: 'risky', SafetyCheck: 'Skip' });
    await node.settle();
    expect(await statusOf(id)).toBe('Success');
  });

  it('the API-name pattern is configurable, and a rejected call is never made', async () => {
    await node.stop();
    node = await startNode({ highRiskPattern: '^(Delete|POST)' });
    const content = `
FormatVersion: OOS-2019-06-01
Tasks:
  - Name: post
    Action: ACS::ExecuteAPI
    Properties: { Service: HTTP, API: POST, Parameters: { url: '${hooks.url}/risky' } }
`;
    const id = await start({ TemplateContent: content });
    await node.settle();
    expect(await statusOf(id)).toBe('Waiting');
    await notify(id, { NotifyType: 'Reject' });
    await node.settle();
    expect(await statusOf(id)).toBe('Cancelled');
    expect(hooks.received).toHaveLength(0);
    const risky = await oos(node.app, 'ListExecutionRiskyTasks', { TemplateName: 'risky' });
    expect(risky.body.RiskyTasks).toEqual([{ Service: 'ECS', API: 'DeleteInstance', Task: ['deleteIt'], Template: ['risky'] }]);
  });

  it('a held high-risk task is still held after a restart', async () => {
    const id = await start({ TemplateName: 'risky' });
    await node.settle();
    await node.stop();
    node = await startNode();
    await node.runner.recover();
    await node.settle();
    expect(await statusOf(id)).toBe('Waiting');
    await notify(id, { NotifyType: 'Approve' });
    await node.settle();
    expect(await statusOf(id)).toBe('Success');
  });
});

describe('debug mode', () => {
  const DEBUG = (url: string): string => `
FormatVersion: OOS-2019-06-01
Parameters:
  name: { Type: String, Default: world }
Tasks:
  - Name: first
    Action: ACS::ExecuteAPI
    Properties: { Service: HTTP, API: POST, Parameters: { url: '${url}/first', body: { name: '{{ name }}' } } }
    Outputs:
      echoed: { Type: String, ValueSelector: .Body.body.name }
  - Name: second
    Action: ACS::ExecuteAPI
    Properties: { Service: HTTP, API: POST, Parameters: { url: '${url}/second', body: { from: '{{ first.echoed }}' } } }
Outputs:
  echoed: { Type: String, Value: '{{ first.echoed }}' }
`;

  it('waits before each task; ExecuteTask runs the named task with Parameters, in order', async () => {
    const id = await start({ TemplateContent: DEBUG(hooks.url), Mode: 'Debug' });
    await node.settle();
    expect(await statusOf(id)).toBe('Waiting');
    expect(hooks.received).toHaveLength(0);
    expect((await tasks(id))[0]).toMatchObject({ TaskName: 'first', Status: 'Waiting' });

    const wrong = await notify(id, { NotifyType: 'ExecuteTask', TaskName: 'second' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.Code).toBe('ExecutionNotifyFailed');
    expect(wrong.body.Message).toContain('the next task is first');

    const ok = await notify(id, { NotifyType: 'ExecuteTask', TaskName: 'first', Parameters: JSON.stringify({ Parameters: { url: `${hooks.url}/first`, body: { name: 'debugger' } } }) });
    expect(ok.status).toBe(200);
    await vi.waitFor(async () => expect((await tasks(id)).map((t) => t['Status'])).toEqual(['Success', 'Waiting']));
    expect(hooks.received.map((r) => r.path)).toEqual(['/first']);
    expect(JSON.parse(hooks.received[0]?.body ?? '{}')).toEqual({ name: 'debugger' });
    expect(await statusOf(id)).toBe('Waiting');

    await notify(id, { NotifyType: 'ExecuteTask', TaskName: 'second' });
    await vi.waitFor(async () => expect(await statusOf(id)).toBe('Success'));
    expect(JSON.parse(hooks.received[1]?.body ?? '{}')).toEqual({ from: 'debugger' });
    expect(JSON.parse((await execution(id))['Outputs'] as string)).toEqual({ echoed: 'debugger' });
  });

  it('CancelTask aborts the running task (it pauses as failed); CompleteExecution ends the execution', async () => {
    commands.hold = true;
    const id = await start({ TemplateName: 'command', Mode: 'Debug' });
    await node.settle();
    await notify(id, { NotifyType: 'ExecuteTask', TaskName: 'run' });
    await node.settle();
    expect(commands.calls).toHaveLength(1);
    expect(await statusOf(id)).toBe('Running');
    expect((await notify(id, { NotifyType: 'CancelTask' })).status).toBe(200);
    await node.settle();
    expect(commands.aborted).toEqual(['i-000']);
    expect(await statusOf(id)).toBe('Waiting');
    expect((await tasks(id))[0]?.['StatusMessage']).toContain('OOS.TaskCancelled');
    expect((await notify(id, { NotifyType: 'CancelTask' })).body.Code).toBe('ExecutionNotifyFailed');
    await notify(id, { NotifyType: 'CompleteExecution', ExecutionStatus: 'Failed', NotifyNote: 'enough' });
    await node.settle();
    const e = await execution(id);
    expect(e['Status']).toBe('Failed');
    expect(e['StatusMessage']).toContain('enough');
  });

  it('CompleteExecution Success ends a waiting debug execution as Success', async () => {
    const id = await start({ TemplateName: 'sleepy', Mode: 'Debug' });
    await node.settle();
    expect(await statusOf(id)).toBe('Running'); // ACS::Sleep is not a debug step
    await node.advance(3600_000);
    expect(await statusOf(id)).toBe('Waiting');
    await notify(id, { NotifyType: 'CompleteExecution', ExecutionStatus: 'Success' });
    await node.settle();
    expect(await statusOf(id)).toBe('Success');
    expect((await tasks(id)).map((t) => t['Status'])).toEqual(['Success', 'Cancelled']);
  });
});

describe('FailurePause', () => {
  it('a failed task pauses the execution; RetryTask runs it again, then it goes on', async () => {
    failing.push('i-003');
    const id = await start({ TemplateName: 'command', Mode: 'FailurePause', Parameters: JSON.stringify({ instance: 'i-003' }) });
    await node.settle();
    expect(await statusOf(id)).toBe('Waiting');
    expect((await tasks(id))[0]?.['StatusMessage']).toContain('OOS.CommandFailed');
    await notify(id, { NotifyType: 'RetryTask', TaskName: 'run' });
    await node.settle();
    expect(commands.calls).toHaveLength(2);
    expect(await statusOf(id)).toBe('Waiting');
    failing.length = 0;
    await notify(id, { NotifyType: 'RetryTask' });
    await node.settle();
    const e = await execution(id);
    expect(e['Status']).toBe('Success');
    expect(JSON.parse(e['Outputs'] as string)).toEqual({ out: 'ok i-003\n' });
    expect(commands.calls).toHaveLength(3);
  });

  it('SkipTask lets the flow go on past the failed task (recorded Skipped)', async () => {
    failing.push('i-003');
    const id = await start({ TemplateName: 'command', Mode: 'FailurePause', Parameters: JSON.stringify({ instance: 'i-003' }) });
    await node.settle();
    await notify(id, { NotifyType: 'SkipTask' });
    await node.settle();
    expect(await statusOf(id)).toBe('Success');
    expect((await tasks(id)).map((t) => [t['TaskName'], t['Status']])).toEqual([
      ['run', 'Skipped'],
      ['then', 'Success'],
    ]);
  });

  it('without FailurePause the same failure fails the execution', async () => {
    failing.push('i-003');
    const id = await start({ TemplateName: 'command', Parameters: JSON.stringify({ instance: 'i-003' }) });
    await node.settle();
    expect(await statusOf(id)).toBe('Failed');
  });
});

describe('NotifyExecution validity (each NotifyType only in its state)', () => {
  it.each([
    ['Approve', {}, 'not waiting for an approval'],
    ['Reject', {}, 'not waiting for an approval'],
    ['ExecuteTask', { TaskName: 'nap' }, 'only valid in Debug mode'],
    ['CancelTask', {}, 'only valid in Debug mode'],
    ['CompleteExecution', { ExecutionStatus: 'Success' }, 'only valid in Debug mode'],
    ['RetryTask', {}, 'only valid in FailurePause or Debug mode'],
    ['SkipTask', {}, 'only valid in FailurePause or Debug mode'],
  ])('%s on a running Automatic execution → 400 ExecutionNotifyFailed', async (type, extra, message) => {
    const id = await start({ TemplateName: 'sleepy' });
    await node.settle();
    const res = await notify(id, { NotifyType: type, ...extra });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('ExecutionNotifyFailed');
    expect(res.body.Message).toContain(message);
    expect(await statusOf(id)).toBe('Running');
  });

  it('RetryTask in FailurePause mode without a failure, and anything on a finished execution → 400', async () => {
    const id = await start({ TemplateName: 'sleepy', Mode: 'FailurePause' });
    await node.settle();
    const retry = await notify(id, { NotifyType: 'RetryTask' });
    expect(retry.body.Code).toBe('ExecutionNotifyFailed');
    expect(retry.body.Message).toContain('no failed task is paused');
    await node.advance(3600_000);
    const late = await notify(id, { NotifyType: 'Approve' });
    expect(late.status).toBe(400);
    expect(late.body.Message).toContain('has finished (Success)');
  });

  it('bad NotifyType → InvalidParameter; unknown execution → 404; unknown TaskExecutionId → 404', async () => {
    const id = await start({ TemplateName: 'risky' });
    await node.settle();
    expect((await notify(id, { NotifyType: 'Sing' })).body.Code).toBe('InvalidParameter');
    const unknown = await notify('exec-00000000000000000000', { NotifyType: 'Approve' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.Code).toBe('EntityNotExist.Execution');
    const te = await notify(id, { NotifyType: 'Approve', TaskExecutionId: `${id}.t0099` });
    expect(te.status).toBe(404);
    expect(te.body.Code).toBe('EntityNotExist.TaskExecution');
    // the right TaskExecutionId works
    const waiting = (await tasks(id)).find((t) => t['Status'] === 'Waiting');
    expect((await notify(id, { NotifyType: 'Approve', TaskExecutionId: waiting?.['TaskExecutionId'] })).status).toBe(200);
    await node.settle();
    expect(await statusOf(id)).toBe('Success');
  });
});

describe('CancelExecution', () => {
  it('cancels during a running Sleep: Cancelled, the timer is gone, EndDate set', async () => {
    const id = await start({ TemplateName: 'sleepy' });
    await node.settle();
    await node.advance(60_000);
    expect(await statusOf(id)).toBe('Running');
    expect((await oos(node.app, 'CancelExecution', { ExecutionId: id })).status).toBe(200);
    await node.settle();
    const e = await execution(id);
    expect(e['Status']).toBe('Cancelled');
    expect(e['EndDate']).toBe('2026-01-01T00:01:00Z');
    expect(await node.store.listTimers(id)).toEqual([]);
    expect((await tasks(id)).map((t) => t['Status'])).toEqual(['Cancelled']);
    await node.advance(3600_000);
    expect(await statusOf(id)).toBe('Cancelled');
  });

  it('aborts a running task through its AbortSignal', async () => {
    commands.hold = true;
    const id = await start({ TemplateName: 'command' });
    await node.settle();
    expect(commands.calls).toHaveLength(1);
    await oos(node.app, 'CancelExecution', { ExecutionId: id });
    await node.settle();
    expect(commands.aborted).toEqual(['i-000']);
    expect(await statusOf(id)).toBe('Cancelled');
  });

  it('a finished execution → 403 ExecutionCancelFailed; an unknown one → 404 EntityNotExist.Execution', async () => {
    const id = await start({ TemplateName: 'command' });
    await node.settle();
    expect(await statusOf(id)).toBe('Success');
    const done = await oos(node.app, 'CancelExecution', { ExecutionId: id });
    expect(done.status).toBe(403);
    expect(done.body.Code).toBe('ExecutionCancelFailed');
    const unknown = await oos(node.app, 'CancelExecution', { ExecutionId: 'exec-ffffffffffffffffffff' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.Code).toBe('EntityNotExist.Execution');
  });
});

describe('child executions (ACS::Template)', () => {
  const PARENT = `
FormatVersion: OOS-2019-06-01
Parameters:
  instance: { Type: String }
Tasks:
  - Name: child
    Action: ACS::Template
    Properties:
      TemplateName: command
      Parameters: { instance: '{{ instance }}' }
    Outputs:
      out: { Type: String, ValueSelector: out }
Outputs:
  childOut: { Type: String, Value: '{{ child.out }}' }
`;

  it('runs the child to its end and selects its Outputs; parent and child are linked', async () => {
    await oos(node.app, 'CreateTemplate', { TemplateName: 'parent', Content: PARENT });
    const id = await start({ TemplateName: 'parent', Parameters: JSON.stringify({ instance: 'i-005' }) });
    await node.settle();
    const parent = await execution(id);
    expect(parent['Status']).toBe('Success');
    expect(JSON.parse(parent['Outputs'] as string)).toEqual({ childOut: 'ok i-005\n' });
    expect(parent['IsParent']).toBe(true);
    const children = (await oos(node.app, 'ListExecutions', { ParentExecutionId: id })).body.Executions;
    expect(children).toHaveLength(1);
    expect(children[0]).toMatchObject({ TemplateName: 'command', Status: 'Success', ParentExecutionId: id, Parameters: { instance: 'i-005' } });
    expect((await tasks(id))[0]?.['ChildExecutionId']).toBe(children[0].ExecutionId);
    // top-level listing leaves children out unless asked
    expect((await oos(node.app, 'ListExecutions', {})).body.Executions.map((e: { ExecutionId: string }) => e.ExecutionId)).toEqual([id]);
    expect((await oos(node.app, 'ListExecutions', { IncludeChildExecution: true })).body.TotalCount).toBe(2);
  });

  it('cancelling the parent cancels its running child', async () => {
    await oos(node.app, 'CreateTemplate', { TemplateName: 'parent-of-sleepy', Content: PARENT.replace('TemplateName: command', 'TemplateName: sleepy').replace("Parameters: { instance: '{{ instance }}' }", 'Parameters: {}') });
    const id = await start({ TemplateName: 'parent-of-sleepy', Parameters: JSON.stringify({ instance: 'x' }) });
    await node.settle();
    const child = (await oos(node.app, 'ListExecutions', { ParentExecutionId: id })).body.Executions[0].ExecutionId as string;
    expect(await statusOf(child)).toBe('Running');
    await oos(node.app, 'CancelExecution', { ExecutionId: id });
    await node.settle();
    expect(await statusOf(id)).toBe('Cancelled');
    expect(await statusOf(child)).toBe('Cancelled');
  });

  it('a template that embeds itself is refused (cycle); nesting stops at 3 levels', async () => {
    const SELF = `
FormatVersion: OOS-2019-06-01
Tasks:
  - Name: again
    Action: ACS::Template
    Properties: { TemplateName: loop-self }
`;
    await oos(node.app, 'CreateTemplate', { TemplateName: 'loop-self', Content: SELF });
    const id = await start({ TemplateName: 'loop-self' });
    await node.settle();
    const e = await execution(id);
    expect(e['Status']).toBe('Failed');
    expect(e['StatusMessage']).toContain('already running on this chain');
    const level = (n: number, next: string): string => `
FormatVersion: OOS-2019-06-01
Tasks:
  - Name: down${n}
    Action: ACS::Template
    Properties: { TemplateName: ${next} }
`;
    await oos(node.app, 'CreateTemplate', { TemplateName: 'l4', Content: SLEEPY.replace('PT1H', 'PT1S') });
    await oos(node.app, 'CreateTemplate', { TemplateName: 'l3', Content: level(3, 'l4') });
    await oos(node.app, 'CreateTemplate', { TemplateName: 'l2', Content: level(2, 'l3') });
    await oos(node.app, 'CreateTemplate', { TemplateName: 'l1', Content: level(1, 'l2') });
    await oos(node.app, 'CreateTemplate', { TemplateName: 'l0', Content: level(0, 'l1') });
    const ok = await start({ TemplateName: 'l1' });
    await node.settle();
    await node.advance(1000);
    expect(await statusOf(ok)).toBe('Success');
    const deep = await start({ TemplateName: 'l0' });
    await node.settle();
    const failed = await execution(deep);
    expect(failed['Status']).toBe('Failed');
    expect(failed['StatusMessage']).toContain('at most 3 levels');
  });

  it('StartExecution with ParentExecutionId attaches a child; unknown parent → 404; a cycle → 400', async () => {
    const parent = await start({ TemplateName: 'sleepy' });
    const child = await start({ TemplateName: 'command', ParentExecutionId: parent });
    await node.settle();
    expect((await execution(child))['ParentExecutionId']).toBe(parent);
    expect((await execution(parent))['IsParent']).toBe(true);
    const unknown = await oos(node.app, 'StartExecution', { TemplateName: 'command', ParentExecutionId: 'exec-00000000000000000001' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.Code).toBe('EntityNotExist.Execution');
    const cycle = await oos(node.app, 'StartExecution', { TemplateName: 'sleepy', ParentExecutionId: parent });
    expect(cycle.status).toBe(400);
    expect(cycle.body.Message).toContain('cycles are refused');
  });
});
