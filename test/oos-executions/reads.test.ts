/** ListExecutions, ListTaskExecutions, ListExecutionLogs, GetExecutionTemplate, DeleteExecutions. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oos, OosWorld } from './helpers.js';
import type { OosNode } from './helpers.js';

const QUICK = `
FormatVersion: OOS-2019-06-01
Parameters:
  skip: { Type: Boolean, Default: false }
Tasks:
  - Name: maybe
    Action: ACS::Sleep
    When:
      Fn::Not: ['{{ skip }}']
    Properties: { Duration: PT1M }
  - Name: last
    Action: ACS::Sleep
    Properties: { Duration: PT1S }
`;
const SLOW = QUICK.replace('PT1M', 'PT1H');

let world: OosWorld;
let node: OosNode;
beforeEach(async () => {
  world = new OosWorld();
  node = await world.node();
  await oos(node.app, 'CreateTemplate', { TemplateName: 'quick', Content: QUICK });
  await oos(node.app, 'CreateTemplate', { TemplateName: 'slow', Content: SLOW });
});
afterEach(async () => world.dispose());

const start = async (body: Record<string, unknown>): Promise<string> => {
  const res = await oos(node.app, 'StartExecution', body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.Execution.ExecutionId as string;
};

describe('ListExecutions', () => {
  it('pages newest first with MaxResults and NextToken; TotalCount counts every match', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(await start({ TemplateName: 'quick', Parameters: '{"skip": true}' }));
      await world.clock.advance(1000);
    }
    await node.settle();
    const first = await oos(node.app, 'ListExecutions', { MaxResults: 10 });
    expect(first.body.TotalCount).toBe(12);
    expect(first.body.Executions.map((e: { ExecutionId: string }) => e.ExecutionId)).toEqual(ids.slice(2).reverse());
    const second = await oos(node.app, 'ListExecutions', { MaxResults: 10, NextToken: first.body.NextToken });
    expect(second.body.Executions.map((e: { ExecutionId: string }) => e.ExecutionId)).toEqual(ids.slice(0, 2).reverse());
    expect(second.body).not.toHaveProperty('NextToken');
    const ascending = await oos(node.app, 'ListExecutions', { MaxResults: 10, SortOrder: 'Ascending' });
    expect(ascending.body.Executions[0].ExecutionId).toBe(ids[0]);
    // a token belongs to its query
    const other = await oos(node.app, 'ListExecutions', { MaxResults: 10, SortOrder: 'Ascending', NextToken: first.body.NextToken });
    expect(other.status).toBe(400);
    expect(other.body.Code).toBe('InvalidParameter');
  });

  it('filters by Status, Mode, TemplateName (substring), Tags, and start dates', async () => {
    const done = await start({ TemplateName: 'quick', Parameters: '{"skip": true}', Tags: '{"env":"prod"}' });
    await world.clock.advance(10_000);
    const running = await start({ TemplateName: 'slow', Mode: 'Debug' });
    await node.advance(1000);
    const list = async (body: Record<string, unknown>): Promise<string[]> => (await oos(node.app, 'ListExecutions', body)).body.Executions.map((e: { ExecutionId: string }) => e.ExecutionId);
    expect(await list({ Status: 'Success' })).toEqual([done]);
    expect(await list({ Status: 'Running' })).toEqual([running]);
    expect(await list({ Mode: 'Debug' })).toEqual([running]);
    expect(await list({ TemplateName: 'qui' })).toEqual([done]);
    expect(await list({ Tags: JSON.stringify({ env: 'prod' }) })).toEqual([done]);
    expect(await list({ StartDateAfter: '2026-01-01T00:00:05Z' })).toEqual([running]);
    expect(await list({ StartDateBefore: '2026-01-01T00:00:05Z' })).toEqual([done]);
    expect(await list({ ExecutionId: 'exec-00000000000000000000' })).toEqual([]);
    for (const bad of [{ MaxResults: 9 }, { MaxResults: 101 }, { Status: 'Sleeping' }, { SortField: 'Name' }, { StartDateAfter: 'yesterday' }]) {
      const res = await oos(node.app, 'ListExecutions', bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.Code).toBe('InvalidParameter');
    }
  });
});

describe('ListTaskExecutions', () => {
  it('records a When-false task as Skipped and filters by status and name; MaxResults is 20–100', async () => {
    const id = await start({ TemplateName: 'quick', Parameters: '{"skip": true}' });
    await node.advance(1000);
    const all = await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, SortOrder: 'Ascending' });
    expect(all.body.TaskExecutions.map((t: { TaskName: string; Status: string }) => `${t.TaskName}:${t.Status}`)).toEqual(['maybe:Skipped', 'last:Success']);
    const skipped = await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, Status: 'Skipped' });
    expect(skipped.body.TaskExecutions).toHaveLength(1);
    expect(skipped.body.TaskExecutions[0].StatusMessage).toContain('When is false');
    const byName = await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, TaskName: 'last' });
    expect(byName.body.TaskExecutions[0]).toMatchObject({ TaskName: 'last', TaskAction: 'ACS::Sleep', Status: 'Success', StartDate: '2026-01-01T00:00:00Z', EndDate: '2026-01-01T00:00:01Z' });
    expect((await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, MaxResults: 19 })).body.Code).toBe('InvalidParameter');
    const unknownTask = await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, TaskExecutionId: `${id}.t0042` });
    expect(unknownTask.status).toBe(404);
    expect(unknownTask.body.Code).toBe('EntityNotExist.TaskExecution');
    const unknown = await oos(node.app, 'ListTaskExecutions', { ExecutionId: 'exec-00000000000000000000' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.Code).toBe('EntityNotExist.Execution');
  });
});

describe('ListExecutionLogs', () => {
  it('logs the run in order, by task, with paging', async () => {
    const id = await start({ TemplateName: 'quick' });
    await node.advance(60_000);
    await node.advance(1000);
    const res = await oos(node.app, 'ListExecutionLogs', { ExecutionId: id, MaxResults: 100 });
    const messages = res.body.ExecutionLogs.map((l: { Message: string }) => l.Message);
    expect(messages[0]).toBe('Execution started');
    expect(messages).toContain('Task maybe sleeps until 2026-01-01T00:01:00.000Z');
    expect(messages.at(-1)).toBe('Execution succeeded');
    expect(res.body.IsTruncated).toBe(false);
    const tasks = (await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, TaskName: 'last' })).body.TaskExecutions;
    const byTask = await oos(node.app, 'ListExecutionLogs', { ExecutionId: id, TaskExecutionId: tasks[0].TaskExecutionId });
    expect(byTask.body.ExecutionLogs.every((l: { Message: string }) => l.Message.includes('last'))).toBe(true);
    expect(messages).toHaveLength(8);
  });

  it('pages with MaxResults and NextToken (IsTruncated until the last page)', async () => {
    const tasks = Array.from({ length: 4 }, (_, i) => `  - Name: nap${i}\n    Action: ACS::Sleep\n    Properties: { Duration: PT1S }\n`).join('');
    const id = await start({ TemplateContent: `FormatVersion: OOS-2019-06-01\nTasks:\n${tasks}` });
    for (let i = 0; i < 4; i++) await node.advance(1000);
    const all = (await oos(node.app, 'ListExecutionLogs', { ExecutionId: id })).body.ExecutionLogs.map((l: { Message: string }) => l.Message);
    expect(all).toHaveLength(14);
    const page = await oos(node.app, 'ListExecutionLogs', { ExecutionId: id, MaxResults: 10 });
    expect(page.body.IsTruncated).toBe(true);
    expect(page.body.ExecutionLogs).toHaveLength(10);
    const rest = await oos(node.app, 'ListExecutionLogs', { ExecutionId: id, MaxResults: 10, NextToken: page.body.NextToken });
    expect(rest.body.IsTruncated).toBe(false);
    expect([...page.body.ExecutionLogs, ...rest.body.ExecutionLogs].map((l: { Message: string }) => l.Message)).toEqual(all);
  });
});

describe('GetExecutionTemplate and DeleteExecutions', () => {
  it('GetExecutionTemplate answers the content and the template of the version run', async () => {
    const id = await start({ TemplateName: 'quick' });
    const res = await oos(node.app, 'GetExecutionTemplate', { ExecutionId: id });
    expect(res.body.Content).toBe(QUICK);
    expect(res.body.Template).toMatchObject({ TemplateName: 'quick', TemplateVersion: 'v1', TemplateFormat: 'YAML' });
    expect((await oos(node.app, 'GetExecutionTemplate', { ExecutionId: 'exec-1' })).body.Code).toBe('EntityNotExist.Execution');
  });

  it('deletes finished executions; running ones only with Force (cancelled first)', async () => {
    const done = await start({ TemplateName: 'quick', Parameters: '{"skip": true}' });
    const running = await start({ TemplateName: 'slow' });
    await node.advance(1000);
    const refused = await oos(node.app, 'DeleteExecutions', { ExecutionIds: JSON.stringify([done, running]) });
    expect(refused.status).toBe(400);
    expect(refused.body.Message).toContain(running);
    expect((await oos(node.app, 'ListExecutions', {})).body.TotalCount).toBe(2);
    expect((await oos(node.app, 'DeleteExecutions', { ExecutionIds: JSON.stringify([done]) })).status).toBe(200);
    expect((await oos(node.app, 'ListExecutions', {})).body.Executions.map((e: { ExecutionId: string }) => e.ExecutionId)).toEqual([running]);
    expect((await oos(node.app, 'DeleteExecutions', { ExecutionIds: [running], Force: true })).status).toBe(200);
    expect((await oos(node.app, 'ListExecutions', {})).body.TotalCount).toBe(0);
    expect(await node.store.getExecution(running)).toBeUndefined();
    const unknown = await oos(node.app, 'DeleteExecutions', { ExecutionIds: JSON.stringify(['exec-nope']) });
    expect(unknown.status).toBe(404);
    const tooMany = await oos(node.app, 'DeleteExecutions', { ExecutionIds: JSON.stringify(Array.from({ length: 101 }, (_, i) => `exec-${i}`)) });
    expect(tooMany.body.Code).toBe('InvalidParameter');
  });
});
