/**
 * End to end over a port with the real Alibaba Cloud client (`@alicloud/pop-core` RPCClient,
 * `apiVersion: 2019-06-01`): approvals, rejection, a loop over 25 resources with paging of its
 * resource statuses, a debug-mode run, a nested template, and cancelling a running Sleep. The
 * server runs in this process on a ManualClock; nothing sleeps for real.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import RPCClient from '@alicloud/pop-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeCommands, hookServer, inventoryOf, OosWorld } from '../oos-executions/helpers.js';
import type { OosNode } from '../oos-executions/helpers.js';

const APPROVE = `
FormatVersion: OOS-2019-06-01
Parameters:
  hook: { Type: String }
Tasks:
  - Name: approve
    Action: ACS::Approve
    Properties:
      NotifyType: WebHook
      WebHook: { URI: '{{ hook }}', Content: { text: 'approve {{ ACS::ExecutionId }}' } }
      MinRequiredApprovals: 2
  - Name: done
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: DescribeRegions, Parameters: {} }
    Outputs:
      first: { Type: String, ValueSelector: '.Regions.Region[0].RegionId' }
Outputs:
  region: { Type: String, Value: '{{ done.first }}' }
`;

const LOOP = `
FormatVersion: OOS-2019-06-01
Parameters:
  rateControl: { Type: Json }
Tasks:
  - Name: getInstance
    Action: ACS::SelectTargets
    Properties:
      ResourceType: ALIYUN::ECS::Instance
      Filters:
        - Type: Tags
          Tags:
            - { Key: fleet, Value: web }
    Outputs:
      ids: { Type: List, ValueSelector: 'Instances.Instance[].InstanceId' }
  - Name: run
    Action: ACS::ECS::RunCommand
    Properties: { instanceId: '{{ ACS::TaskLoopItem }}', commandContent: hostname }
    Loop:
      Items: '{{ getInstance.ids }}'
      RateControl: '{{ rateControl }}'
    Outputs:
      out: { Type: String, ValueSelector: invocationOutput }
`;

const DEBUG = `
FormatVersion: OOS-2019-06-01
Tasks:
  - Name: one
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: DescribeRegions, Parameters: {} }
  - Name: two
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: DescribeRegions, Parameters: {} }
`;

const CHILD = `
FormatVersion: OOS-2019-06-01
Parameters:
  who: { Type: String }
Tasks:
  - Name: greet
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: DescribeRegions, Parameters: {} }
Outputs:
  greeting: { Type: String, Value: 'hello {{ who }}' }
`;

const PARENT = `
FormatVersion: OOS-2019-06-01
Tasks:
  - Name: call
    Action: ACS::Template
    Properties: { TemplateName: greeter, Parameters: { who: parent } }
    Outputs:
      greeting: { Type: String, ValueSelector: greeting }
Outputs:
  greeting: { Type: String, Value: '{{ call.greeting }}' }
`;

const SLEEP = `
FormatVersion: OOS-2019-06-01
Tasks:
  - Name: nap
    Action: ACS::Sleep
    Properties: { Duration: PT2H }
`;

interface Execution {
  ExecutionId: string;
  Status: string;
  Outputs: string;
  StatusMessage: string;
  ParentExecutionId: string;
}

let world: OosWorld;
let node: OosNode;
let server: Server;
let hooks: Awaited<ReturnType<typeof hookServer>>;
let alice: RPCClient;
let bob: RPCClient;
const commands = fakeCommands({ fail: ['i-013'] });

beforeAll(async () => {
  world = new OosWorld();
  hooks = await hookServer();
  node = await world.node({
    inventory: inventoryOf(25),
    commandRunner: { enabled: true, run: commands.run },
    fixtures: { Services: { ECS: { DescribeRegions: [{ Response: { Regions: { Region: [{ RegionId: 'cn-hangzhou' }] } } }] } } },
  });
  server = createServer(node.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  alice = new RPCClient({ endpoint, apiVersion: '2019-06-01', accessKeyId: 'alice-key', accessKeySecret: 'secret' });
  bob = new RPCClient({ endpoint, apiVersion: '2019-06-01', accessKeyId: 'bob-key', accessKeySecret: 'secret' });
  for (const [name, content] of Object.entries({ approver: APPROVE, looper: LOOP, debugger: DEBUG, greeter: CHILD, 'greeter-parent': PARENT, sleeper: SLEEP })) {
    await alice.request('CreateTemplate', { TemplateName: name, Content: content }, { method: 'POST' });
  }
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await world.dispose();
  await hooks.close();
});

const start = async (params: Record<string, string>): Promise<string> => {
  const body = await alice.request<{ Execution: Execution }>('StartExecution', params, { method: 'POST' });
  expect(body.Execution.Status).toBe('Started');
  return body.Execution.ExecutionId;
};
const get = async (id: string): Promise<Execution> => {
  const body = await alice.request<{ Executions: Execution[] }>('ListExecutions', { ExecutionId: id, IncludeChildExecution: true }, { method: 'POST' });
  expect(body.Executions).toHaveLength(1);
  return body.Executions[0] as Execution;
};

describe('pop-core RPCClient against OOS (2019-06-01) over a port', () => {
  it('an Approve task waits; two distinct callers approve → Success', async () => {
    const id = await start({ TemplateName: 'approver', Parameters: JSON.stringify({ hook: `${hooks.url}/approve` }) });
    await vi.waitFor(() => expect(hooks.received.some((r) => r.body.includes(id))).toBe(true));
    await node.settle();
    expect((await get(id)).Status).toBe('Waiting');
    await alice.request('NotifyExecution', { ExecutionId: id, NotifyType: 'Approve' }, { method: 'POST' });
    await node.settle();
    // the same caller twice is one approval
    await alice.request('NotifyExecution', { ExecutionId: id, NotifyType: 'Approve' }, { method: 'POST' });
    await node.settle();
    expect((await get(id)).Status).toBe('Waiting');
    await bob.request('NotifyExecution', { ExecutionId: id, NotifyType: 'Approve' }, { method: 'POST' });
    await node.settle();
    const done = await get(id);
    expect(done.Status).toBe('Success');
    expect(JSON.parse(done.Outputs)).toEqual({ region: 'cn-hangzhou' });
  });

  it('Reject → Cancelled', async () => {
    const id = await start({ TemplateName: 'approver', Parameters: JSON.stringify({ hook: `${hooks.url}/approve` }) });
    await vi.waitFor(() => expect(hooks.received.some((r) => r.body.includes(id))).toBe(true));
    await node.settle();
    await bob.request('NotifyExecution', { ExecutionId: id, NotifyType: 'Reject', NotifyNote: 'no' }, { method: 'POST' });
    await node.settle();
    const done = await get(id);
    expect(done.Status).toBe('Cancelled');
    expect(done.StatusMessage).toContain('OOS.Rejected');
  });

  it('a loop over 25 resources, Concurrency 5, one failure, MaxErrors 1 → ListResourceExecutionStatus pages 10 + 10 + 5', async () => {
    commands.hold = true;
    const id = await start({ TemplateName: 'looper', Parameters: JSON.stringify({ rateControl: { Mode: 'Concurrency', Concurrency: 5, MaxErrors: 1 } }) });
    await node.settle();
    expect(commands.calls).toHaveLength(5);
    commands.hold = false;
    commands.release();
    await node.settle();
    expect((await get(id)).Status).toBe('Success');
    const pages: { ResourceId: string; Status: string; Outputs: string }[][] = [];
    let token: string | undefined;
    do {
      const body = await alice.request<{ ResourceExecutionStatus: { ResourceId: string; Status: string; Outputs: string }[]; NextToken?: string }>(
        'ListResourceExecutionStatus',
        { ExecutionId: id, MaxResults: 10, ...(token ? { NextToken: token } : {}) },
        { method: 'POST' },
      );
      pages.push(body.ResourceExecutionStatus);
      token = body.NextToken;
    } while (token);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    const rows = pages.flat();
    expect(new Set(rows.map((r) => r.ResourceId)).size).toBe(25);
    expect(rows.filter((r) => r.Status === 'Failed').map((r) => r.ResourceId)).toEqual(['i-013']);
    expect(JSON.parse(rows.find((r) => r.ResourceId === 'i-000')?.Outputs ?? '{}')).toEqual({ out: 'ok i-000\n' });
    const err = (await alice.request('ListResourceExecutionStatus', { ExecutionId: id, MaxResults: 500 }, { method: 'POST' }).catch((e: unknown) => e)) as { code?: string };
    expect(err.code).toBe('InvalidParameter');
  });

  it('a debug-mode run driven task by task', async () => {
    const id = await start({ TemplateName: 'debugger', Mode: 'Debug' });
    await node.settle();
    expect((await get(id)).Status).toBe('Waiting');
    const wrong = (await alice.request('NotifyExecution', { ExecutionId: id, NotifyType: 'ExecuteTask', TaskName: 'two' }, { method: 'POST' }).catch((e: unknown) => e)) as { code?: string };
    expect(wrong.code).toBe('ExecutionNotifyFailed');
    await alice.request('NotifyExecution', { ExecutionId: id, NotifyType: 'ExecuteTask', TaskName: 'one' }, { method: 'POST' });
    await node.settle();
    const tasks = await alice.request<{ TaskExecutions: { TaskName: string; Status: string }[] }>('ListTaskExecutions', { ExecutionId: id, SortOrder: 'Ascending' }, { method: 'POST' });
    expect(tasks.TaskExecutions.map((t) => `${t.TaskName}:${t.Status}`)).toEqual(['one:Success', 'two:Waiting']);
    expect((await get(id)).Status).toBe('Waiting');
    await alice.request('NotifyExecution', { ExecutionId: id, NotifyType: 'ExecuteTask', TaskName: 'two' }, { method: 'POST' });
    await node.settle();
    expect((await get(id)).Status).toBe('Success');
  });

  it('a nested template runs a child execution', async () => {
    const id = await start({ TemplateName: 'greeter-parent' });
    await node.settle();
    const parent = await get(id);
    expect(parent.Status).toBe('Success');
    expect(JSON.parse(parent.Outputs)).toEqual({ greeting: 'hello parent' });
    const children = await alice.request<{ Executions: Execution[] }>('ListExecutions', { ParentExecutionId: id }, { method: 'POST' });
    expect(children.Executions).toHaveLength(1);
    expect(children.Executions[0]).toMatchObject({ Status: 'Success', ParentExecutionId: id });
  });

  it('cancel during a running Sleep', async () => {
    const id = await start({ TemplateName: 'sleeper' });
    await node.settle();
    await node.advance(30 * 60_000);
    expect((await get(id)).Status).toBe('Running');
    await alice.request('CancelExecution', { ExecutionId: id }, { method: 'POST' });
    await node.settle();
    expect((await get(id)).Status).toBe('Cancelled');
    const again = (await alice.request('CancelExecution', { ExecutionId: id }, { method: 'POST' }).catch((e: unknown) => e)) as { code?: string; statusCode?: number };
    expect(again.code).toBe('ExecutionCancelFailed');
  });
});
