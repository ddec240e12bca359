/**
 * Standard flows over HTTP: CreateFlow persists in the durable store, StartExecution returns at
 * once and the durable runner finishes the execution, callback tasks are resumed by
 * ReportTaskSucceeded, and everything survives a server restart on the same data directory.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startServer } from '../../src/api/server.js';
import type { RunningServer } from '../../src/api/server.js';
import { silent, tempDir, VERSION } from './helpers.js';

const STANDARD_FLOW = `Type: StateMachine
Name: orders
SpecVersion: v1
StartAt: Price
States:
  - Type: Pass
    Name: Price
    OutputConstructor:
      total.$: $Input.qty * 3
    Next: Confirm
  - Type: Task
    Name: Confirm
    Action: Mock
    TaskMode: WaitForCustomCallback
    Parameters:
      result:
        token.$: $Context.Current.TaskToken
    End: true
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(dataDir: string): Promise<RunningServer> {
  const server = await startServer({ port: 0, dataDir, flowsDir: 'test/api/no-such-folder', logger: silent });
  cleanups.push(() => server.close());
  return server;
}

async function post(server: RunningServer, action: string, body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Version: VERSION, ...body }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('Standard flows over HTTP', () => {
  it('runs StartExecution in the background, resumes a callback task by token, and keeps flows and executions across a restart', async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    let server = await serve(dir);
    const created = await post(server, 'CreateFlow', { Name: 'orders', Definition: STANDARD_FLOW, Description: 'orders', Type: 'FDL', ExecutionMode: 'Standard' });
    expect(created.status).toBe(200);

    const sync = await post(server, 'StartSyncExecution', { FlowName: 'orders' });
    expect(sync.body['Code']).toBe('ActionNotSupported');

    const started = await post(server, 'StartExecution', { FlowName: 'orders', ExecutionName: 'o1', Input: '{"qty": 2}' });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ Name: 'o1', FlowName: 'orders' });

    // the callback task waits; its token reached the action through $Context.Current.TaskToken
    let token = '';
    await vi.waitFor(async () => {
      const history = await post(server, 'GetExecutionHistory', { FlowName: 'orders', ExecutionName: 'o1' });
      const scheduled = (history.body['Events'] as { Type: string; EventDetail: string }[]).find((e) => e.Type === 'TaskScheduled');
      expect(scheduled).toBeDefined();
      const detail = JSON.parse(scheduled?.EventDetail ?? '{}') as { Parameters?: { result?: { token?: string } } };
      token = detail.Parameters?.result?.token ?? '';
      expect(token).not.toBe('');
    });
    const running = await post(server, 'DescribeExecution', { FlowName: 'orders', ExecutionName: 'o1' });
    expect(running.body['Status']).toBe('Running');

    // restart on the same data directory: the flow and the waiting execution are still there
    await server.close();
    server = await serve(dir);
    const described = await post(server, 'DescribeFlow', { Name: 'orders' });
    expect(described.body).toMatchObject({ Name: 'orders', ExecutionMode: 'Standard' });

    const reported = await post(server, 'ReportTaskSucceeded', { TaskToken: token, Output: '{"confirmed": true}' });
    expect(reported.status).toBe(200);
    await vi.waitFor(async () => {
      const done = await post(server, 'DescribeExecution', { FlowName: 'orders', ExecutionName: 'o1' });
      expect(done.body['Status']).toBe('Succeeded');
      expect(JSON.parse(String(done.body['Output']))).toEqual({ confirmed: true });
    });

    const again = await post(server, 'StartExecution', { FlowName: 'orders', ExecutionName: 'o1', Input: '{"qty": 2}' });
    expect(again.status).toBe(400);
    expect(again.body['Code']).toBe('ExecutionAlreadyExists');

    const listed = await post(server, 'ListExecutions', { FlowName: 'orders' });
    expect((listed.body['Executions'] as { Name: string }[]).map((e) => e.Name)).toEqual(['o1']);
  });

  it('StopExecution stops a waiting execution', async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    const server = await serve(dir);
    await post(server, 'CreateFlow', { Name: 'orders', Definition: STANDARD_FLOW, Description: 'orders', Type: 'FDL', ExecutionMode: 'Standard' });
    await post(server, 'StartExecution', { FlowName: 'orders', ExecutionName: 'o2', Input: '{"qty": 1}' });
    const stopped = await post(server, 'StopExecution', { FlowName: 'orders', ExecutionName: 'o2', Error: 'Ops.Cancelled', Cause: 'no longer needed' });
    expect(stopped.status).toBe(200);
    await vi.waitFor(async () => {
      const d = await post(server, 'DescribeExecution', { FlowName: 'orders', ExecutionName: 'o2' });
      expect(d.body).toMatchObject({ Status: 'Stopped', ErrorCode: 'Ops.Cancelled' });
    });
  });
});
