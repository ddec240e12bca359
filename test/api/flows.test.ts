import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { call, HELLO, ISO_MS, makeApi, rpc, UUID } from './helpers.js';
import type { TestApi } from './helpers.js';

let api: TestApi;
let clock: ManualClock;
beforeEach(async () => {
  clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0, 7));
  api = await makeApi({ clock });
});
afterEach(async () => {
  await api.close();
});

const create = (name: string, extra: Record<string, string> = {}) =>
  call(api.app, 'CreateFlow', { Name: name, Definition: HELLO.replace('Name: hello', `Name: ${name}`), Description: 'greets', Type: 'FDL', ExecutionMode: 'Express', ...extra });

describe('CreateFlow', () => {
  it('creates a flow and answers with its fields (Id uuid, times ISO-8601 with millis)', async () => {
    const res = await create('greeter', { RoleArn: 'acs:ram::1:role/fnf' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      Name: 'greeter',
      Description: 'greets',
      Type: 'FDL',
      RoleArn: 'acs:ram::1:role/fnf',
      ExecutionMode: 'Express',
      CreatedTime: '2026-01-01T12:00:00.007Z',
      LastModifiedTime: '2026-01-01T12:00:00.007Z',
    });
    expect(res.body.Id).toMatch(UUID);
    expect(res.body.Definition).toContain('Name: greeter');
    expect(res.body).not.toHaveProperty('Code');
  });

  it('accepts a definition without Name, taking the flow name', async () => {
    const res = await call(api.app, 'CreateFlow', { Name: 'anon', Definition: HELLO.replace('Name: hello\n', ''), Description: '', Type: 'FDL', ExecutionMode: 'Express' });
    // Description '' counts as missing
    expect(res.body.Code).toBe('MissingRequiredParams');
    const ok = await call(api.app, 'CreateFlow', { Name: 'anon', Definition: HELLO.replace('Name: hello\n', ''), Description: 'd', Type: 'FDL', ExecutionMode: 'Express' });
    expect(ok.status).toBe(200);
    const run = await call(api.app, 'StartSyncExecution', { FlowName: 'anon', Input: '{"name":"n"}' });
    expect(run.body.Status).toBe('Succeeded');
  });

  it('without ExecutionMode the flow is Standard (the cloud default), unless the definition says Express', async () => {
    const plain = await call(api.app, 'CreateFlow', { Name: 'hello', Definition: HELLO, Description: 'd', Type: 'FDL' });
    expect(plain.body.ExecutionMode).toBe('Standard');
    const declared = await call(api.app, 'CreateFlow', {
      Name: 'declared',
      Definition: HELLO.replace('Name: hello', 'Name: declared\nExecutionMode: Express'),
      Description: 'd',
      Type: 'FDL',
    });
    expect(declared.body.ExecutionMode).toBe('Express');
  });

  it('a taken name → 409 FlowAlreadyExists', async () => {
    await create('twice');
    const res = await create('twice');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ Code: 'FlowAlreadyExists', Message: 'Flow twice already exists.' });
  });

  it('an invalid definition → InvalidArgument listing every problem with its pointer and line', async () => {
    const definition = `Type: StateMachine
Name: broken
SpecVersion: v1
StartAt: Missing
States:
  - Type: Pass
    Name: A
    Next: Nowhere
  - Type: Wait
    Name: W
    Seconds: 100
    End: true
`;
    const res = await call(api.app, 'CreateFlow', { Name: 'broken', Definition: definition, Description: 'd', Type: 'FDL', ExecutionMode: 'Express' });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('InvalidArgument');
    expect(res.body.Message).toMatch(/^Parameter error\. The flow definition has [3-9] problems: /);
    expect(res.body.Message).toContain('/StartAt');
    expect(res.body.Message).toContain('/States/0/Next');
    expect(res.body.Message).toContain('/States/1/Seconds');
    expect(res.body.Message).toMatch(/line \d+/);
    const describe = await call(api.app, 'DescribeFlow', { Name: 'broken' });
    expect(describe.body.Code).toBe('FlowNotExists');
  });

  it('YAML syntax errors are InvalidArgument too', async () => {
    const res = await call(api.app, 'CreateFlow', { Name: 'syntax', Definition: 'Type: [unclosed', Description: 'd', Type: 'FDL' });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('InvalidArgument');
    expect(res.body.Message).toContain('line 1');
  });

  it("a definition Name that differs from the flow's name → InvalidArgument", async () => {
    const res = await call(api.app, 'CreateFlow', { Name: 'other', Definition: HELLO, Description: 'd', Type: 'FDL', ExecutionMode: 'Express' });
    expect(res.status).toBe(400);
    expect(res.body.Message).toContain("must equal the flow name 'other'");
  });

  it('bad Name, Type or ExecutionMode → InvalidArgument', async () => {
    const badName = await create('1starts-with-digit');
    expect(badName.body.Code).toBe('InvalidArgument');
    expect(badName.body.Message).toContain('Name');
    const badType = await create('t', { Type: 'JSON' });
    expect(badType.body.Message).toContain('Type must be FDL');
    const badMode = await create('m', { ExecutionMode: 'Turbo' });
    expect(badMode.body.Message).toContain('ExecutionMode must be Express or Standard');
  });

  it('a Task with an unknown action is refused at creation', async () => {
    const definition = `Type: StateMachine
Name: unknown-action
SpecVersion: v1
StartAt: T
States:
  - Type: Task
    Name: T
    Action: Nope:Nothing
    End: true
`;
    const res = await call(api.app, 'CreateFlow', { Name: 'unknown-action', Definition: definition, Description: 'd', Type: 'FDL', ExecutionMode: 'Express' });
    expect(res.body.Code).toBe('InvalidArgument');
    expect(res.body.Message).toContain("unknown action 'Nope:Nothing'");
  });
});

describe('DescribeFlow, UpdateFlow, DeleteFlow', () => {
  it('describes a flow (RPC GET) and FlowNotExists (404) for an unknown one', async () => {
    const created = await create('d1');
    const res = await rpc(api.app, 'DescribeFlow', { Name: 'd1' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ Name: 'd1', Id: created.body.Id, ExecutionMode: 'Express' });
    const missing = await rpc(api.app, 'DescribeFlow', { Name: 'ghost' });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ Code: 'FlowNotExists', Message: 'Flow ghost does not exist.' });
  });

  it('updates the definition and description, keeps Id and CreatedTime, moves LastModifiedTime', async () => {
    const created = await create('u1');
    await clock.advance(1500);
    const definition = HELLO.replace('Name: hello', 'Name: u1').replace('Hello, {}!', 'Hi, {}!');
    const res = await rpc(api.app, 'UpdateFlow', { Name: 'u1', Definition: definition, Description: 'new' }, 'POST');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ Name: 'u1', Id: created.body.Id, Description: 'new', CreatedTime: created.body.CreatedTime });
    expect(res.body.LastModifiedTime).toBe('2026-01-01T12:00:01.507Z');
    const run = await call(api.app, 'StartSyncExecution', { FlowName: 'u1', Input: '{"name":"Bo"}' });
    expect(JSON.parse(run.body.Output)).toEqual({ greeting: 'Hi, Bo!' });
  });

  it('an invalid new definition leaves the flow as it was', async () => {
    await create('u2');
    const res = await call(api.app, 'UpdateFlow', { Name: 'u2', Definition: 'Type: StateMachine\nName: u2\n' });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('InvalidArgument');
    const run = await call(api.app, 'StartSyncExecution', { FlowName: 'u2', Input: '{"name":"Cy"}' });
    expect(JSON.parse(run.body.Output)).toEqual({ greeting: 'Hello, Cy!' });
  });

  it('UpdateFlow on an unknown flow → FlowNotExists', async () => {
    const res = await call(api.app, 'UpdateFlow', { Name: 'ghost', Description: 'x' });
    expect(res.status).toBe(404);
    expect(res.body.Code).toBe('FlowNotExists');
  });

  it('deletes a flow (answer holds only RequestId); then it is gone', async () => {
    await create('del');
    const res = await rpc(api.app, 'DeleteFlow', { Name: 'del' }, 'POST');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['RequestId']);
    expect((await call(api.app, 'DescribeFlow', { Name: 'del' })).status).toBe(404);
    expect((await call(api.app, 'StartSyncExecution', { FlowName: 'del' })).body.Code).toBe('FlowNotExists');
    const again = await call(api.app, 'DeleteFlow', { Name: 'del' });
    expect(again.status).toBe(404);
    expect(again.body.Code).toBe('FlowNotExists');
  });
});

describe('ListFlows', () => {
  it('lists by name with Limit/NextToken paging; the last page has no NextToken', async () => {
    for (const n of ['c', 'a', 'e', 'b', 'd']) await create(n);
    const p1 = await rpc(api.app, 'ListFlows', { Limit: 2 });
    expect(p1.status).toBe(200);
    expect(p1.body.Flows.map((f: { Name: string }) => f.Name)).toEqual(['a', 'b']);
    expect(p1.body.Flows[0]).toMatchObject({ Type: 'FDL', ExecutionMode: 'Express' });
    expect(p1.body.Flows[0].CreatedTime).toMatch(ISO_MS);
    expect(typeof p1.body.NextToken).toBe('string');
    const p2 = await rpc(api.app, 'ListFlows', { Limit: 2, NextToken: p1.body.NextToken });
    expect(p2.body.Flows.map((f: { Name: string }) => f.Name)).toEqual(['c', 'd']);
    const p3 = await call(api.app, 'ListFlows', { Limit: 2, NextToken: p2.body.NextToken });
    expect(p3.body.Flows.map((f: { Name: string }) => f.Name)).toEqual(['e']);
    expect(p3.body).not.toHaveProperty('NextToken');
  });

  it('defaults to 60 per page', async () => {
    for (let i = 0; i < 61; i++) await create(`f${String(i).padStart(2, '0')}`);
    const res = await call(api.app, 'ListFlows');
    expect(res.body.Flows).toHaveLength(60);
    expect(res.body.NextToken).toBeDefined();
  });

  it('a bad NextToken → InvalidArgument (not a crash), including a token of another operation', async () => {
    for (const token of ['garbage!', 'bm90LWpzb24', Buffer.from('{"k":"executions","f":"x","s":1}').toString('base64url'), Buffer.from('{"k":"flows","a":5}').toString('base64url')]) {
      const res = await rpc(api.app, 'ListFlows', { NextToken: token });
      expect(res.status, token).toBe(400);
      expect(res.body.Code).toBe('InvalidArgument');
      expect(res.body.Message).toContain('NextToken');
    }
  });

  it('a Limit out of range → InvalidArgument', async () => {
    for (const limit of [0, 1000]) {
      const res = await rpc(api.app, 'ListFlows', { Limit: limit });
      expect(res.status).toBe(400);
      expect(res.body.Message).toContain('Limit must be an integer from 1 to 999');
    }
  });
});
