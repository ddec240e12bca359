/**
 * Loops over resources: rate control, MaxErrors, ListResourceExecutionStatus (one row per
 * resource, opaque NextToken paging through every row exactly once) and loop child task
 * executions.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeCommands, inventoryOf, oos, OosWorld } from './helpers.js';
import type { OosNode } from './helpers.js';

const BULKY = readFileSync('flows/templates/ECS-BulkyRunCommand.yml', 'utf8');
const TARGETS = JSON.stringify({ Type: 'Tags', Tags: [{ Key: 'fleet', Value: 'web' }], RegionId: 'cn-hangzhou' });

let world: OosWorld;
let node: OosNode;
let commands: ReturnType<typeof fakeCommands>;

beforeEach(async () => {
  world = new OosWorld();
  commands = fakeCommands({ fail: ['i-007'] });
  node = await world.node({ inventory: inventoryOf(25), commandRunner: { enabled: true, run: commands.run }, templatesDir: 'flows/templates' });
});
afterEach(async () => world.dispose());

const start = async (rateControl: object): Promise<string> => {
  const res = await oos(node.app, 'StartExecution', {
    TemplateName: 'ECS-BulkyRunCommand',
    Parameters: JSON.stringify({ targets: JSON.parse(TARGETS), commandContent: 'hostname', rateControl }),
  });
  expect(res.status).toBe(200);
  return res.body.Execution.ExecutionId as string;
};

const status = async (id: string): Promise<string> => (await oos(node.app, 'ListExecutions', { ExecutionId: id })).body.Executions[0].Status as string;

describe('a loop over 25 resources with Concurrency 5 and MaxErrors 1', () => {
  it('never runs more than 5 at once, tolerates the one failure and succeeds', async () => {
    commands.hold = true;
    const id = await start({ Mode: 'Concurrency', Concurrency: 5, MaxErrors: 1 });
    await node.settle();
    expect(commands.calls).toHaveLength(5);
    expect(await status(id)).toBe('Running');
    let rounds = 0;
    while (commands.calls.length < 25 && rounds++ < 10) {
      const before = commands.calls.length;
      commands.release();
      await node.settle();
      // a whole wave finished, the next wave (at most 5) started
      expect(commands.calls.length - before).toBeLessThanOrEqual(5);
    }
    commands.hold = false;
    commands.release();
    await node.settle();
    expect(commands.calls).toHaveLength(25);
    expect(await status(id)).toBe('Success');
    const outputs = JSON.parse((await oos(node.app, 'ListExecutions', { ExecutionId: id })).body.Executions[0].Outputs as string);
    expect(outputs.instanceCount).toBe(25);
    expect(outputs.commandOutputs).toHaveLength(24);
    expect(outputs.commandOutputs).not.toContain('boom on i-007\n');
  });

  it('ListResourceExecutionStatus pages 10 + 10 + 5, every resource exactly once, the failing one marked', async () => {
    const id = await start({ Mode: 'Concurrency', Concurrency: 5, MaxErrors: 1 });
    await node.settle();
    expect(await status(id)).toBe('Success');
    const pages: { ResourceId: string; Status: string; Outputs: string; ExecutionId: string; ExecutionTime: string }[][] = [];
    let token: string | undefined;
    do {
      const res = await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: id, MaxResults: 10, ...(token ? { NextToken: token } : {}) });
      expect(res.status).toBe(200);
      expect(res.body.MaxResults).toBe(10);
      pages.push(res.body.ResourceExecutionStatus);
      token = res.body.NextToken as string | undefined;
    } while (token);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
    const rows = pages.flat();
    const ids = rows.map((r) => r.ResourceId);
    expect(new Set(ids).size).toBe(25);
    expect(ids.sort()).toEqual(inventoryOf(25).Resources.map((r) => r.ResourceId));
    const failed = rows.filter((r) => r.Status === 'Failed');
    expect(failed.map((r) => r.ResourceId)).toEqual(['i-007']);
    expect(JSON.parse(failed[0]?.Outputs ?? '{}').Error.Code).toBe('OOS.CommandFailed');
    const ok = rows.find((r) => r.ResourceId === 'i-003');
    expect(ok?.Status).toBe('Success');
    expect(JSON.parse(ok?.Outputs ?? '{}')).toEqual({ commandOutput: 'ok i-003\n' });
    expect(ok?.ExecutionId).toBe(id);
    expect(ok?.ExecutionTime).toBe('2026-01-01T00:00:00Z');
    // the default page is 50: everything at once
    const all = await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: id });
    expect(all.body.ResourceExecutionStatus).toHaveLength(25);
    expect(all.body.MaxResults).toBe(50);
    expect(all.body).not.toHaveProperty('NextToken');
  });

  it('a second failure passes MaxErrors: the loop task and the execution fail', async () => {
    const strict = fakeCommands({ fail: ['i-007', 'i-011'] });
    await node.stop();
    node = await world.node({ inventory: inventoryOf(25), commandRunner: { enabled: true, run: strict.run } });
    await oos(node.app, 'CreateTemplate', { TemplateName: 'bulky', Content: BULKY });
    const res = await oos(node.app, 'StartExecution', {
      TemplateName: 'bulky',
      Parameters: JSON.stringify({ targets: JSON.parse(TARGETS), commandContent: 'hostname', rateControl: { Mode: 'Concurrency', Concurrency: 5, MaxErrors: 1 } }),
    });
    const id = res.body.Execution.ExecutionId as string;
    await node.settle();
    const execution = (await oos(node.app, 'ListExecutions', { ExecutionId: id })).body.Executions[0];
    expect(execution.Status).toBe('Failed');
    expect(execution.StatusMessage).toContain('OOS.LoopMaxErrorsExceeded');
    const rows = (await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: id })).body.ResourceExecutionStatus as { ResourceId: string; Status: string }[];
    expect(rows.filter((r) => r.Status === 'Failed').map((r) => r.ResourceId).sort()).toEqual(['i-007', 'i-011']);
  });

  it('rows appear while the loop runs (Running), before it ends', async () => {
    commands.hold = true;
    const id = await start({ Mode: 'Concurrency', Concurrency: 5, MaxErrors: 1 });
    await node.settle();
    const rows = (await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: id })).body.ResourceExecutionStatus as { Status: string }[];
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => r.Status === 'Running')).toBe(true);
    commands.hold = false;
    commands.release();
    await node.settle();
  });
});

describe('FailurePause in a loop', () => {
  it('a failed item pauses; RetryTask with its LoopItem runs it again and the loop ends Success', async () => {
    const failing = ['i-004'];
    const flaky = fakeCommands({ fail: failing });
    await node.stop();
    node = await world.node({ inventory: inventoryOf(6), commandRunner: { enabled: true, run: flaky.run }, templatesDir: 'flows/templates' });
    const res = await oos(node.app, 'StartExecution', {
      TemplateName: 'ECS-BulkyRunCommand',
      Mode: 'FailurePause',
      Parameters: JSON.stringify({ targets: JSON.parse(TARGETS), commandContent: 'hostname', rateControl: { Mode: 'Concurrency', Concurrency: 2, MaxErrors: 0 } }),
    });
    const id = res.body.Execution.ExecutionId as string;
    await node.settle();
    expect(flaky.calls).toHaveLength(6);
    expect(await status(id)).toBe('Waiting');
    const paused = (await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, IncludeChildTaskExecution: true, Status: 'Waiting' })).body.TaskExecutions;
    expect(paused.map((t: { LoopItem: string }) => t.LoopItem)).toEqual(['i-004']);
    const wrongItem = await oos(node.app, 'NotifyExecution', { ExecutionId: id, NotifyType: 'RetryTask', LoopItem: 'i-001' });
    expect(wrongItem.status).toBe(400);
    expect(wrongItem.body.Code).toBe('ExecutionNotifyFailed');
    failing.length = 0;
    expect((await oos(node.app, 'NotifyExecution', { ExecutionId: id, NotifyType: 'RetryTask', LoopItem: 'i-004' })).status).toBe(200);
    await node.settle();
    expect(flaky.calls).toHaveLength(7);
    expect(await status(id)).toBe('Success');
    const rows = (await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: id })).body.ResourceExecutionStatus as { ResourceId: string; Status: string }[];
    expect(rows.every((r) => r.Status === 'Success')).toBe(true);
    expect(rows).toHaveLength(6);
  });
});

describe('ListResourceExecutionStatus errors', () => {
  it.each([9, 101, 0])('MaxResults %i → 400 InvalidParameter', async (n) => {
    const id = await start({ Mode: 'Concurrency', Concurrency: 5, MaxErrors: 1 });
    await node.settle();
    const res = await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: id, MaxResults: n });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('InvalidParameter');
    expect(res.body.Message).toContain('MaxResults must be an integer from 10 to 100');
  });

  it('a token of another execution or a forged one → 400 InvalidParameter', async () => {
    const a = await start({ Mode: 'Concurrency', Concurrency: 5, MaxErrors: 1 });
    const b = await start({ Mode: 'Concurrency', Concurrency: 5, MaxErrors: 1 });
    await node.settle();
    const first = await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: a, MaxResults: 10 });
    const token = first.body.NextToken as string;
    expect(typeof token).toBe('string');
    const other = await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: b, MaxResults: 10, NextToken: token });
    expect(other.status).toBe(400);
    expect(other.body.Code).toBe('InvalidParameter');
    const forged = await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: a, NextToken: 'not!a!token' });
    expect(forged.body.Code).toBe('InvalidParameter');
  });

  it('an unknown execution → 404 EntityNotExists.Execution (the spelling of this API)', async () => {
    const res = await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: 'exec-00000000000000000000' });
    expect(res.status).toBe(404);
    expect(res.body.Code).toBe('EntityNotExists.Execution');
  });
});

describe('ListTaskExecutions of a loop', () => {
  it('hides loop children unless asked; children carry their item, status and outputs', async () => {
    const id = await start({ Mode: 'Concurrency', Concurrency: 5, MaxErrors: 1 });
    await node.settle();
    const top = await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, SortOrder: 'Ascending' });
    expect(top.status).toBe(200);
    expect(top.body.TaskExecutions.map((t: { TaskName: string }) => t.TaskName)).toEqual(['getInstance', 'runCommand']);
    const loop = top.body.TaskExecutions[1];
    expect(loop.Status).toBe('Success');
    expect(loop.Loop).toEqual({ Total: 25, Success: 24, Failed: 1 });
    expect(JSON.parse(loop.Outputs).commandOutputs).toHaveLength(24);
    const children = await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, ParentTaskExecutionId: loop.TaskExecutionId, MaxResults: 100 });
    expect(children.body.TaskExecutions).toHaveLength(25);
    const failing = children.body.TaskExecutions.find((t: { LoopItem: string }) => t.LoopItem === 'i-007');
    expect(failing.Status).toBe('Failed');
    expect(failing.StatusMessage).toContain('OOS.CommandFailed');
    const fine = children.body.TaskExecutions.find((t: { LoopItem: string }) => t.LoopItem === 'i-020');
    expect(fine).toMatchObject({ Status: 'Success', ParentTaskExecutionId: loop.TaskExecutionId });
    expect(JSON.parse(fine.Outputs)).toEqual({ commandOutput: 'ok i-020\n' });
    expect(JSON.parse(fine.Properties)).toMatchObject({ instanceId: 'i-020', commandContent: 'hostname' });
    const all = await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, IncludeChildTaskExecution: true, MaxResults: 100 });
    expect(all.body.TaskExecutions).toHaveLength(27);
    const paged = await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, IncludeChildTaskExecution: true, MaxResults: 20 });
    expect(paged.body.TaskExecutions).toHaveLength(20);
    const rest = await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, IncludeChildTaskExecution: true, MaxResults: 20, NextToken: paged.body.NextToken });
    expect(rest.body.TaskExecutions).toHaveLength(7);
    expect(rest.body).not.toHaveProperty('NextToken');
  });
});
