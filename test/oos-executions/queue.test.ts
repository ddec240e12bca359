/**
 * The `Queued` status: past the number of top-level executions allowed to run at once
 * (`maxConcurrentExecutions`), a StartExecution waits Queued and starts, oldest first, when one
 * ends; it survives a restart, can be cancelled, counts against QuotaExceed, and child executions
 * are never queued.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OosExecutionConfig } from '../../src/executions/oos/index.js';
import type { AcsFixtures } from '../../src/oos/index.js';
import { oos, OosWorld } from './helpers.js';
import type { OosNode } from './helpers.js';

const FIXTURES: AcsFixtures = { Services: { ECS: { DescribeRegions: [{ Response: { Regions: { Region: [{ RegionId: 'cn-hangzhou' }] } } }] } } };

const TEMPLATES: Record<string, string> = {
  sleepy: `
FormatVersion: OOS-2019-06-01
Tasks:
  - Name: nap
    Action: ACS::Sleep
    Properties: { Duration: PT1H }
`,
  greeter: `
FormatVersion: OOS-2019-06-01
Tasks:
  - Name: greet
    Action: ACS::ExecuteAPI
    Properties: { Service: ECS, API: DescribeRegions, Parameters: {} }
`,
  parent: `
FormatVersion: OOS-2019-06-01
Tasks:
  - Name: call
    Action: ACS::Template
    Properties: { TemplateName: greeter }
`,
};

let world: OosWorld;
let node: OosNode;

async function startNode(config: OosExecutionConfig = {}): Promise<OosNode> {
  const n = await world.node({ fixtures: FIXTURES, maxConcurrentExecutions: 1, ...config });
  for (const [name, content] of Object.entries(TEMPLATES)) {
    if (!(await n.store.getDefinition('template', name))) expect((await oos(n.app, 'CreateTemplate', { TemplateName: name, Content: content })).status).toBe(200);
  }
  return n;
}

beforeEach(async () => {
  world = new OosWorld();
  node = await startNode();
});
afterEach(async () => world.dispose());

const start = async (body: Record<string, unknown>): Promise<string> => {
  const res = await oos(node.app, 'StartExecution', body);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.Execution.Status).toBe('Started');
  await node.settle();
  return res.body.Execution.ExecutionId as string;
};
const statusOf = async (id: string): Promise<string> => (await oos(node.app, 'ListExecutions', { ExecutionId: id, IncludeChildExecution: true })).body.Executions[0].Status as string;

describe('Queued', () => {
  it('past the limit a StartExecution waits Queued; the queue starts oldest first as executions end', async () => {
    const a = await start({ TemplateName: 'sleepy' });
    const b = await start({ TemplateName: 'sleepy' });
    await node.advance(1); // b is older than c
    const c = await start({ TemplateName: 'greeter' });
    expect([await statusOf(a), await statusOf(b), await statusOf(c)]).toEqual(['Running', 'Queued', 'Queued']);
    const queued = (await oos(node.app, 'ListExecutions', { Status: 'Queued' })).body.Executions as { ExecutionId: string; Counters: object; Outputs: string }[];
    expect(queued.map((e) => e.ExecutionId).sort()).toEqual([b, c].sort());
    expect(queued[0]).toMatchObject({ Counters: { Total: 0 }, Outputs: '{}' });
    // nothing to notify while queued
    const approve = await oos(node.app, 'NotifyExecution', { ExecutionId: b, NotifyType: 'Approve' });
    expect(approve.body.Code).toBe('ExecutionNotifyFailed');

    await node.advance(3600_000);
    expect(await statusOf(a)).toBe('Success');
    expect([await statusOf(b), await statusOf(c)]).toEqual(['Running', 'Queued']);
    await node.advance(3600_000);
    // c runs to its end in its first steps; the deadline counts from when it started
    expect([await statusOf(b), await statusOf(c)]).toEqual(['Success', 'Success']);
    const tasks = (await oos(node.app, 'ListTaskExecutions', { ExecutionId: c })).body.TaskExecutions as { TaskName: string; Status: string }[];
    expect(tasks.map((t) => [t.TaskName, t.Status])).toEqual([['greet', 'Success']]);
  });

  it('a queued execution can be cancelled; it never runs', async () => {
    const a = await start({ TemplateName: 'sleepy' });
    const b = await start({ TemplateName: 'greeter' });
    expect(await statusOf(b)).toBe('Queued');
    expect((await oos(node.app, 'CancelExecution', { ExecutionId: b })).status).toBe(200);
    await node.settle();
    const view = (await oos(node.app, 'ListExecutions', { ExecutionId: b })).body.Executions[0];
    expect(view.Status).toBe('Cancelled');
    expect(view.StatusMessage).toContain('CancelExecution');
    await node.advance(3600_000);
    expect(await statusOf(a)).toBe('Success');
    expect(await statusOf(b)).toBe('Cancelled');
    expect((await oos(node.app, 'ListTaskExecutions', { ExecutionId: b })).body.TaskExecutions).toEqual([]);
  });

  it('the queue survives a restart and moves on after it', async () => {
    const a = await start({ TemplateName: 'sleepy' });
    const b = await start({ TemplateName: 'greeter' });
    await node.stop();
    node = await startNode();
    await node.runner.recover();
    await node.oos.startAllQueued();
    await node.settle();
    expect([await statusOf(a), await statusOf(b)]).toEqual(['Running', 'Queued']);
    await node.advance(3600_000);
    expect([await statusOf(a), await statusOf(b)]).toEqual(['Success', 'Success']);
  });

  it('a slot freed while nothing ran here (a restart with a larger limit) starts the queue at start-up', async () => {
    await start({ TemplateName: 'sleepy' });
    const b = await start({ TemplateName: 'greeter' });
    await node.stop();
    node = await startNode({ maxConcurrentExecutions: 2 });
    await node.runner.recover();
    await node.oos.startAllQueued();
    await node.settle();
    expect(await statusOf(b)).toBe('Success');
  });

  it('child executions are never queued; queued executions count against QuotaExceed', async () => {
    await node.stop();
    node = await startNode({ maxConcurrentExecutions: 1, maxRunningExecutions: 2 });
    const parent = await start({ TemplateName: 'parent' });
    expect(await statusOf(parent)).toBe('Success');
    const a = await start({ TemplateName: 'sleepy' });
    const b = await start({ TemplateName: 'sleepy' });
    expect([await statusOf(a), await statusOf(b)]).toEqual(['Running', 'Queued']);
    const third = await oos(node.app, 'StartExecution', { TemplateName: 'greeter' });
    expect(third.status).toBe(403);
    expect(third.body.Code).toBe('QuotaExceed');
  });

  it('a queued execution whose template was deleted fails when its turn comes, and the queue moves on', async () => {
    expect((await oos(node.app, 'CreateTemplate', { TemplateName: 'doomed', Content: TEMPLATES['greeter'] })).status).toBe(200);
    const a = await start({ TemplateName: 'sleepy' });
    const b = await start({ TemplateName: 'doomed' });
    await node.advance(1);
    const c = await start({ TemplateName: 'greeter' });
    expect([await statusOf(b), await statusOf(c)]).toEqual(['Queued', 'Queued']);
    expect((await oos(node.app, 'DeleteTemplate', { TemplateName: 'doomed' })).status).toBe(200);
    await node.advance(3600_000);
    expect(await statusOf(a)).toBe('Success');
    const failed = (await oos(node.app, 'ListExecutions', { ExecutionId: b })).body.Executions[0];
    expect(failed.Status).toBe('Failed');
    expect(failed.StatusMessage).toContain('cannot start');
    expect(await statusOf(c)).toBe('Success');
  });

  it('without a limit nothing is ever queued', async () => {
    await node.stop();
    node = await startNode({ maxConcurrentExecutions: undefined });
    const ids = [await start({ TemplateName: 'sleepy' }), await start({ TemplateName: 'sleepy' }), await start({ TemplateName: 'sleepy' })];
    for (const id of ids) expect(await statusOf(id)).toBe('Running');
  });
});
