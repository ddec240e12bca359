/**
 * A real server process is killed with SIGKILL while 100 Standard executions are between their
 * steps (Task, Wait, Task) and 20 wait for an approval (a callback task), then started again on the
 * same data directory: every execution finishes (the approvals once their tokens are reported), and
 * a task whose successor had already started (so its own result was recorded) never runs again.
 * Real processes and real time (a 1-second Wait); it runs for a few seconds.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { call, effectCounter, serveProcess } from './processes.js';
import type { ServeProcess } from './processes.js';

const EXECUTIONS = 100;

const FLOW = (url: string): string => `Type: StateMachine
Name: crashy
SpecVersion: v1
ExecutionMode: Standard
StartAt: One
States:
  - Type: Task
    Name: One
    Action: HTTP:Request
    Parameters:
      method: POST
      url: ${url}
      body:
        step: one
        execution.$: $Context.Execution.Name
    Next: Nap
  - Type: Wait
    Name: Nap
    Seconds: 1
    Next: Two
  - Type: Task
    Name: Two
    Action: HTTP:Request
    Parameters:
      method: POST
      url: ${url}
      body:
        step: two
        execution.$: $Context.Execution.Name
    OutputConstructor:
      done: true
    End: true
`;

/** An approval: the callback task's action hands its token to the counter server, then waits. */
const APPROVAL_FLOW = (url: string): string => `Type: StateMachine
Name: approvy
SpecVersion: v1
ExecutionMode: Standard
StartAt: Ask
States:
  - Type: Task
    Name: Ask
    Action: HTTP:Request
    TaskMode: WaitForCustomCallback
    Parameters:
      method: POST
      url: ${url}
      body:
        step: ask
        execution.$: $Context.Execution.Name
        token.$: $Context.Current.TaskToken
    End: true
`;
const APPROVALS = 20;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function serve(flowsDir: string, dataDir: string): ServeProcess {
  return serveProcess(['--flows', flowsDir, '--data-dir', dataDir, '--instance-id', 'crash-test']);
}

describe('kill -9 of a server with Standard executions in flight', { timeout: 90_000 }, () => {
  it('finishes every execution after a restart, and never reruns a task whose result was recorded', async () => {
    const effects = await effectCounter(30);
    cleanups.push(() => new Promise<void>((r) => effects.server.close(() => r())));
    const dir = await mkdtemp(join(tmpdir(), 'flowrun-crash-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const flowsDir = join(dir, 'flows');
    await mkdir(flowsDir);
    await writeFile(join(flowsDir, 'crashy.yaml'), FLOW(effects.url));
    await writeFile(join(flowsDir, 'approvy.yaml'), APPROVAL_FLOW(effects.url));
    const dataDir = join(dir, 'data');

    const first = serve(flowsDir, dataDir);
    cleanups.push(() => void first.child.kill('SIGKILL'));
    const url1 = await first.url;
    await Promise.all([
      ...Array.from({ length: EXECUTIONS }, (_, i) => call(url1, 'StartExecution', { FlowName: 'crashy', ExecutionName: `e${i}`, Input: '{}' })),
      ...Array.from({ length: APPROVALS }, (_, i) => call(url1, 'StartExecution', { FlowName: 'approvy', ExecutionName: `a${i}`, Input: '{}' })),
    ]);
    await vi.waitFor(() => expect(effects.tokens.size).toBe(APPROVALS), { timeout: 30_000, interval: 5 });
    // kill while executions are spread over One, the Wait and Two
    await vi.waitFor(() => expect([...effects.calls.keys()].filter((k) => k.endsWith('/two')).length).toBeGreaterThan(10), { timeout: 30_000, interval: 5 });
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const twoStartedBeforeKill = new Set([...effects.calls.keys()].filter((k) => k.endsWith('/two')).map((k) => k.split('/')[0]));
    const oneCountsAtKill = new Map([...effects.calls.entries()].filter(([k]) => k.endsWith('/one')));

    const second = serve(flowsDir, dataDir);
    cleanups.push(() => void second.child.kill('SIGKILL'));
    const url2 = await second.url;
    await vi.waitFor(
      async () => {
        const list = await call(url2, 'ListExecutions', { FlowName: 'crashy', Limit: 100 });
        const executions = (list['Executions'] as { Status: string }[] | undefined) ?? [];
        expect(executions).toHaveLength(EXECUTIONS);
        expect(executions.filter((e) => e.Status !== 'Succeeded')).toEqual([]);
      },
      { timeout: 60_000, interval: 200 },
    );

    // the approvals waited across the crash: answering their tokens now finishes them
    for (let i = 0; i < APPROVALS; i++) {
      const reported = await call(url2, 'ReportTaskSucceeded', { TaskToken: effects.tokens.get(`a${i}`), Output: `{"approved":${i}}` });
      expect(reported['Code']).toBeUndefined();
    }
    await vi.waitFor(
      async () => {
        const list = await call(url2, 'ListExecutions', { FlowName: 'approvy', Limit: 100 });
        const executions = (list['Executions'] as { Status: string }[] | undefined) ?? [];
        expect(executions.filter((e) => e.Status === 'Succeeded')).toHaveLength(APPROVALS);
      },
      { timeout: 30_000, interval: 100 },
    );
    const approved = await call(url2, 'DescribeExecution', { FlowName: 'approvy', ExecutionName: 'a7' });
    expect(JSON.parse(String(approved['Output']))).toEqual({ approved: 7 });

    for (let i = 0; i < EXECUTIONS; i++) {
      const one = effects.calls.get(`e${i}/one`) ?? 0;
      const two = effects.calls.get(`e${i}/two`) ?? 0;
      expect(one).toBeGreaterThanOrEqual(1);
      expect(two).toBeGreaterThanOrEqual(1);
      // at-least-once: only a task in flight at the kill may run a second time
      expect(one + two).toBeLessThanOrEqual(3);
      // Two had started, so One's result was recorded before the kill: One never ran again
      if (twoStartedBeforeKill.has(`e${i}`)) expect(one).toBe(oneCountsAtKill.get(`e${i}/one`));
    }
    expect(twoStartedBeforeKill.size).toBeGreaterThan(10);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });
});
