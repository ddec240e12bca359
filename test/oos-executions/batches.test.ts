/**
 * Loop rate control beyond concurrency: Batch mode (batches in order, each with its own
 * concurrency), the pauses between batches (BatchPauseOption, StartExecution LoopMode), MaxErrors
 * stopping a loop early, and released loops staying released across a restart.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AcsFixtures } from '../../src/oos/index.js';
import { fakeCommands, inventoryOf, oos, OosWorld } from './helpers.js';
import type { OosNode } from './helpers.js';

const TARGETS = { Type: 'Tags', Tags: [{ Key: 'fleet', Value: 'web' }], RegionId: 'cn-hangzhou' };

let world: OosWorld;
let node: OosNode;
let commands: ReturnType<typeof fakeCommands>;
const failing: string[] = [];

const startNode = (): Promise<OosNode> => world.node({ inventory: inventoryOf(6), commandRunner: { enabled: true, run: commands.run }, templatesDir: 'flows/templates' });

beforeEach(async () => {
  world = new OosWorld();
  failing.length = 0;
  commands = fakeCommands({ fail: failing });
  node = await startNode();
});
afterEach(async () => world.dispose());

const start = async (rateControl: object, extra: Record<string, unknown> = {}): Promise<string> => {
  const res = await oos(node.app, 'StartExecution', {
    TemplateName: 'ECS-BulkyRunCommand',
    Parameters: JSON.stringify({ targets: TARGETS, commandContent: 'hostname', rateControl }),
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.Execution.ExecutionId as string;
};
/** Stops this process and starts another on the same database, which resumes what was left (`between` runs in between). */
async function restart(between?: () => void): Promise<void> {
  await node.stop();
  between?.();
  node = await startNode();
  await node.runner.recover();
  await node.settle();
}
/** A restart, the commands the stopped process held answering in between. */
const restartReleasingCommands = (): Promise<void> =>
  restart(() => {
    commands.hold = false;
    commands.release();
  });
const execution = async (id: string): Promise<Record<string, unknown>> => (await oos(node.app, 'ListExecutions', { ExecutionId: id })).body.Executions[0];
const notify = (id: string, body: Record<string, unknown>) => oos(node.app, 'NotifyExecution', { ExecutionId: id, ...body });
const called = (): string[] => commands.calls.map((c) => c.instance.ResourceId);
const waitingItems = async (id: string): Promise<{ TaskName: string; LoopItem: string; StatusMessage: string }[]> =>
  (await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, IncludeChildTaskExecution: true, Status: 'Waiting', SortOrder: 'Ascending' })).body.TaskExecutions;

describe('Batch mode', () => {
  it('runs the batches in order with their own concurrency; the last size repeats; FirstBatchPause waits for Approve once', async () => {
    commands.hold = true;
    // 6 items in batches of 1, 2, 2, 1 (the last size repeats), concurrency 1 then 2
    const id = await start({ Mode: 'Batch', Batch: [1, 2], ConcurrencyInBatches: [1, 2], BatchPauseOption: 'FirstBatchPause', MaxErrors: 0 });
    await node.settle();
    expect(called()).toEqual(['i-000']);
    commands.release();
    await node.settle();
    // the first batch has ended: the execution waits before the second
    expect(called()).toEqual(['i-000']);
    expect((await execution(id))['Status']).toBe('Waiting');
    // the loop task waits (no item of the second batch has started)
    expect(await waitingItems(id)).toEqual([
      expect.objectContaining({ TaskName: 'runCommand', LoopItem: '', StatusMessage: 'batch 2 of 4 waits: NotifyExecution Approve to run it, Reject to cancel' }),
    ]);
    // the items not started yet are Pending, without a StartDate
    const pending = (await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, IncludeChildTaskExecution: true, Status: 'Pending', SortOrder: 'Ascending' })).body
      .TaskExecutions as { LoopItem: string; StartDate: string; ParentTaskExecutionId: string }[];
    expect(pending.map((t) => t.LoopItem)).toEqual(['i-001', 'i-002', 'i-003', 'i-004', 'i-005']);
    expect(pending.every((t) => t.StartDate === '' && t.ParentTaskExecutionId !== '')).toBe(true);
    // ExecuteTask is not how a batch goes on (Automatic mode); Approve is
    expect((await notify(id, { NotifyType: 'ExecuteTask', TaskName: 'runCommand' })).body.Code).toBe('ExecutionNotifyFailed');
    expect((await notify(id, { NotifyType: 'Approve' })).status).toBe(200);
    await node.settle();
    expect(called()).toEqual(['i-000', 'i-001', 'i-002']);
    expect((await execution(id))['Status']).toBe('Running');
    commands.release();
    await node.settle();
    // no pause before the third batch
    expect(called()).toEqual(['i-000', 'i-001', 'i-002', 'i-003', 'i-004']);
    commands.release();
    await node.settle();
    expect(called()).toHaveLength(6);
    commands.hold = false;
    commands.release();
    await node.settle();
    const done = await execution(id);
    expect(done['Status']).toBe('Success');
    expect(JSON.parse(done['Outputs'] as string).commandOutputs).toHaveLength(6);
  });

  it('LoopMode EveryBatchPause (StartExecution) pauses before every batch; Reject cancels the execution', async () => {
    const id = await start({ Mode: 'Batch', Batch: ['34%'], MaxErrors: 0 }, { LoopMode: 'EveryBatchPause' });
    await node.settle();
    // 34% of 6 → batches of 3 (rounded up)
    expect(called()).toEqual(['i-000', 'i-001', 'i-002']);
    expect((await execution(id))['Status']).toBe('Waiting');
    expect((await execution(id))['LoopMode']).toBe('EveryBatchPause');
    await notify(id, { NotifyType: 'Approve' });
    await node.settle();
    expect(called()).toHaveLength(6);
    expect((await execution(id))['Status']).toBe('Success');

    commands.calls.length = 0;
    const second = await start({ Mode: 'Batch', Batch: [2], MaxErrors: 0 }, { LoopMode: 'EveryBatchPause' });
    await node.settle();
    expect(called()).toEqual(['i-000', 'i-001']);
    await notify(second, { NotifyType: 'Approve' });
    await node.settle();
    expect(called()).toHaveLength(4);
    expect((await execution(second))['Status']).toBe('Waiting');
    expect((await notify(second, { NotifyType: 'Reject' })).status).toBe(200);
    await node.settle();
    const rejected = await execution(second);
    expect(rejected['Status']).toBe('Cancelled');
    expect(rejected['StatusMessage']).toContain('OOS.Rejected');
    expect(called()).toHaveLength(4);
  });

  it('a batch pause and the released batch survive a restart', async () => {
    const id = await start({ Mode: 'Batch', Batch: [1, 5], ConcurrencyInBatches: [1, 1], BatchPauseOption: 'FirstBatchPause' });
    await node.settle();
    expect(called()).toEqual(['i-000']);
    await restart();
    expect((await execution(id))['Status']).toBe('Waiting');
    commands.hold = true;
    await notify(id, { NotifyType: 'Approve' });
    await node.settle();
    expect(called()).toEqual(['i-000', 'i-001']);
    // restart while the released batch runs (concurrency 1): its later items are not held again
    await restartReleasingCommands();
    expect((await execution(id))['Status']).toBe('Success');
    expect(new Set(called())).toEqual(new Set(['i-000', 'i-001', 'i-002', 'i-003', 'i-004', 'i-005']));
  });

  it('bad batch settings fail the loop task with OOS.InvalidRateControl; a bad LoopMode is a 400', async () => {
    const id = await start({ Mode: 'Batch', Batch: [0, 'x'] });
    await node.settle();
    const failed = await execution(id);
    expect(failed['Status']).toBe('Failed');
    expect(failed['StatusMessage']).toContain('OOS.InvalidRateControl');
    const res = await oos(node.app, 'StartExecution', { TemplateName: 'ECS-BulkyRunCommand', LoopMode: 'Sometimes', Parameters: JSON.stringify({ targets: TARGETS, commandContent: 'x' }) });
    expect(res.status).toBe(400);
    expect(res.body.Code).toBe('InvalidParameter');
  });

  it('ValidateTemplateContent reports bad literal batch settings', async () => {
    const content = JSON.stringify({
      FormatVersion: 'OOS-2019-06-01',
      Tasks: [
        {
          Name: 'each',
          Action: 'ACS::ExecuteAPI',
          Properties: { Service: 'ECS', API: 'DescribeInstances', Parameters: { InstanceId: '{{ ACS::TaskLoopItem }}' } },
          Loop: { Items: ['a', 'b'], RateControl: { Mode: 'Batch', Batch: [1, -1], ConcurrencyInBatches: [], BatchPauseOption: 'Never' } },
        },
      ],
    });
    const res = await oos(node.app, 'ValidateTemplateContent', { Content: content });
    expect(res.status).toBe(400);
    const message = String(res.body.Message);
    expect(message).toContain('/Tasks/0/Loop/RateControl/Batch');
    expect(message).toContain('/Tasks/0/Loop/RateControl/ConcurrencyInBatches');
    expect(message).toContain('/Tasks/0/Loop/RateControl/BatchPauseOption');
  });
});

describe('batch pauses are kept in the loop, not in its items', () => {
  const FIXTURES: AcsFixtures = {
    Services: { ECS: { DescribeInstances: [{ Response: { Instances: { Instance: [] } } }], DeleteInstance: [{ Response: { RequestId: 'deleted' } }] } },
  };
  const template = (loop: object, properties: object): string =>
    JSON.stringify({
      FormatVersion: 'OOS-2019-06-01',
      Tasks: [{ Name: 'each', Action: 'ACS::ExecuteAPI', Properties: { Service: 'ECS', ...properties }, Loop: loop }],
    });
  const run = async (content: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const res = await oos(node.app, 'StartExecution', { TemplateContent: content, ...extra });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await node.settle();
    return res.body.Execution.ExecutionId as string;
  };
  const apiCalls = async (id: string): Promise<string[]> =>
    ((await oos(node.app, 'ListTaskExecutions', { ExecutionId: id, IncludeChildTaskExecution: true, SortOrder: 'Ascending' })).body.TaskExecutions as { LoopItem: string; Status: string }[])
      .filter((t) => t.LoopItem !== '')
      .map((t) => `${t.LoopItem}:${t.Status}`);

  beforeEach(async () => {
    await node.stop();
    node = await world.node({ fixtures: FIXTURES, inventory: inventoryOf(6), commandRunner: { enabled: true, run: commands.run } });
  });

  it('an item that fails before its task exists does not let the next batch start without Approve', async () => {
    const id = await run(
      template(
        { Items: [0, 1, 9, 2], RateControl: { Mode: 'Batch', Batch: [2], ConcurrencyInBatches: [2], BatchPauseOption: 'EveryBatchPause', MaxErrors: 5 } },
        { API: 'DescribeInstances', Parameters: { InstanceId: { 'Fn::Select': ['{{ ACS::TaskLoopItem }}', ['i-000', 'i-001', 'i-002']] } } },
      ),
    );
    expect((await execution(id))['Status']).toBe('Waiting');
    expect(await apiCalls(id)).toEqual(['0:Success', '1:Success', '9:Pending', '2:Pending']);
    await notify(id, { NotifyType: 'Approve', TaskName: 'each' });
    await node.settle();
    // item 9 fails while its Properties are resolved; item 2 still runs (MaxErrors 5)
    expect((await execution(id))['Status']).toBe('Success');
    expect(await apiCalls(id)).toEqual(['0:Success', '1:Success', '9:Failed', '2:Success']);
  });

  it('an item that needed no confirmation does not confirm the high-risk items after it', async () => {
    const id = await run(template({ Items: ['DescribeInstances', 'DeleteInstance'], RateControl: { Mode: 'Concurrency', Concurrency: 1 } }, { API: '{{ ACS::TaskLoopItem }}', Parameters: {} }));
    expect((await execution(id))['Status']).toBe('Waiting');
    expect(await apiCalls(id)).toEqual(['DescribeInstances:Success', 'DeleteInstance:Waiting']);
    await notify(id, { NotifyType: 'Approve' });
    await node.settle();
    expect((await execution(id))['Status']).toBe('Success');
  });

  it('a loop over no items in Batch mode succeeds', async () => {
    const id = await run(template({ Items: [], RateControl: { Mode: 'Batch', MaxErrors: 0 } }, { API: 'DescribeInstances', Parameters: {} }));
    expect((await execution(id))['Status']).toBe('Success');
  });

  it('past MaxErrors the loop fails at once instead of waiting before the next batch', async () => {
    const id = await run(
      template({ Items: [9, 0, 1], RateControl: { Mode: 'Batch', Batch: [1, 2], BatchPauseOption: 'FirstBatchPause', MaxErrors: 0 } }, { API: 'DescribeInstances', Parameters: { InstanceId: { 'Fn::Select': ['{{ ACS::TaskLoopItem }}', ['i-000', 'i-001']] } } }),
    );
    const failed = await execution(id);
    expect(failed['Status']).toBe('Failed');
    expect(failed['StatusMessage']).toContain('2 not started');
  });

  it('Approve with the TaskName of a loop that does not wait is refused; Reject of a waiting batch cancels', async () => {
    const id = await run(template({ Items: [1, 2, 3], RateControl: { Mode: 'Batch', Batch: [1] } }, { API: 'DescribeInstances', Parameters: {} }), { LoopMode: 'FirstBatchPause' });
    expect((await execution(id))['Status']).toBe('Waiting');
    const wrong = await notify(id, { NotifyType: 'Approve', TaskName: 'other' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.Code).toBe('ExecutionNotifyFailed');
    expect((await notify(id, { NotifyType: 'Reject', TaskName: 'each' })).status).toBe(200);
    await node.settle();
    expect((await execution(id))['Status']).toBe('Cancelled');
    expect(await apiCalls(id)).toEqual(['1:Success']);
  });
});

describe('MaxErrors', () => {
  it('past the tolerance no further item starts; the items in flight finish; the loop fails saying how many never started', async () => {
    failing.push('i-001');
    const id = await start({ Mode: 'Concurrency', Concurrency: 1, MaxErrors: 0 });
    await node.settle();
    expect(called()).toEqual(['i-000', 'i-001']);
    const failed = await execution(id);
    expect(failed['Status']).toBe('Failed');
    expect(failed['StatusMessage']).toContain('OOS.LoopMaxErrorsExceeded');
    expect(failed['StatusMessage']).toContain('1 of 6 iterations');
    expect(failed['StatusMessage']).toContain('4 not started');
    const rows = (await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: id })).body.ResourceExecutionStatus as { ResourceId: string; Status: string }[];
    expect(rows.map((r) => [r.ResourceId, r.Status])).toEqual([
      ['i-000', 'Success'],
      ['i-001', 'Failed'],
    ]);
  });

  it('items already running when the tolerance is passed still finish', async () => {
    failing.push('i-000');
    commands.hold = true;
    const id = await start({ Mode: 'Concurrency', Concurrency: 3, MaxErrors: 0 });
    await node.settle();
    expect(called()).toEqual(['i-000', 'i-001', 'i-002']);
    commands.hold = false;
    commands.release();
    await node.settle();
    expect(called()).toHaveLength(3);
    const rows = (await oos(node.app, 'ListResourceExecutionStatus', { ExecutionId: id })).body.ResourceExecutionStatus as { ResourceId: string; Status: string }[];
    expect(rows.map((r) => r.Status)).toEqual(['Failed', 'Success', 'Success']);
    expect((await execution(id))['StatusMessage']).toContain('3 not started');
  });
});

describe('a released loop across a restart', () => {
  it('debug mode: after ExecuteTask of a loop and a restart mid-loop, the later items are not held again', async () => {
    commands.hold = true;
    const id = await start({ Mode: 'Concurrency', Concurrency: 1, MaxErrors: 0 }, { Mode: 'Debug' });
    await node.settle();
    expect((await notify(id, { NotifyType: 'ExecuteTask', TaskName: 'getInstance' })).status).toBe(200);
    await node.settle();
    expect((await notify(id, { NotifyType: 'ExecuteTask', TaskName: 'runCommand' })).status).toBe(200);
    await node.settle();
    expect(called()).toEqual(['i-000']);
    await restartReleasingCommands();
    expect(await waitingItems(id)).toEqual([]);
    expect(new Set(called())).toEqual(new Set(['i-000', 'i-001', 'i-002', 'i-003', 'i-004', 'i-005']));
    expect((await execution(id))['Status']).toBe('Success');
  });
});
