/**
 * Two real server processes on one PostgreSQL: 200 Standard executions started through both are
 * each driven by one instance at a time (no step runs twice while both live); one instance is
 * killed with SIGKILL and the other takes its executions over once their leases expire.
 * Needs FLOWRUN_TEST_DATABASE_URL (.ci/run sets it); without it the test prints why it skips.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { call, effectCounter, serveProcess } from './processes.js';
import type { ServeProcess } from './processes.js';

const DATABASE_URL = process.env['FLOWRUN_TEST_DATABASE_URL'];
const EXECUTIONS = 200;
const LEASE_MS = 1_500;

if (!DATABASE_URL) console.warn('test/api/postgres-instances.test.ts: skipped, FLOWRUN_TEST_DATABASE_URL is not set; .ci/run sets it.');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const flowText = (name: string, url: string): string => `Type: StateMachine
Name: ${name}
SpecVersion: v1
ExecutionMode: Standard
StartAt: One
States:
  - Type: Task
    Name: One
    Action: HTTP:Request
    Parameters: { method: POST, url: "${url}", body: { step: one, execution.$: $Context.Execution.Name } }
    Next: Nap
  - Type: Wait
    Name: Nap
    Seconds: 2
    Next: Two
  - Type: Task
    Name: Two
    Action: HTTP:Request
    Parameters: { method: POST, url: "${url}", body: { step: two, execution.$: $Context.Execution.Name } }
    End: true
`;

function serve(flowsDir: string, instance: string): ServeProcess {
  const p = serveProcess(['--flows', flowsDir, '--database-url', DATABASE_URL ?? '', '--instance-id', instance], { FLOWRUN_LEASE_MS: String(LEASE_MS) });
  cleanups.push(() => void p.child.kill('SIGKILL'));
  return p;
}

describe.skipIf(!DATABASE_URL)('two server processes on one PostgreSQL', { timeout: 120_000 }, () => {
  it('drive each execution from one instance at a time, and the survivor finishes the executions of a killed one', async () => {
    const effects = await effectCounter(20);
    cleanups.push(() => new Promise<void>((r) => effects.server.close(() => r())));
    const dir = await mkdtemp(join(tmpdir(), 'flowrun-pg-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const flowsDir = join(dir, 'flows');
    await mkdir(flowsDir);
    const flowName = `pg_${Date.now().toString(36)}`;
    await writeFile(join(flowsDir, `${flowName}.yaml`), flowText(flowName, effects.url));

    const a = serve(flowsDir, `a-${flowName}`);
    const urlA = await a.url;
    const b = serve(flowsDir, `b-${flowName}`);
    const urlB = await b.url;
    for (let i = 0; i < EXECUTIONS; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, k) => call((i + k) % 2 === 0 ? urlA : urlB, 'StartExecution', { FlowName: flowName, ExecutionName: `e${i + k}`, Input: '{}' })),
      );
    }
    // while both instances live, every execution's first step runs exactly once
    await vi.waitFor(() => expect([...effects.calls.keys()].filter((k) => k.endsWith('/one')).length).toBe(EXECUTIONS), { timeout: 60_000, interval: 50 });
    expect([...effects.calls.entries()].filter(([k, n]) => k.endsWith('/one') && n !== 1)).toEqual([]);

    // kill A once some executions have reached Two (One's result recorded), others still waiting
    await vi.waitFor(() => expect([...effects.calls.keys()].filter((k) => k.endsWith('/two')).length).toBeGreaterThan(20), { timeout: 30_000, interval: 10 });
    a.child.kill('SIGKILL');
    await new Promise((r) => a.child.once('exit', r));
    const twoStartedBeforeKill = new Set([...effects.calls.keys()].filter((k) => k.endsWith('/two')).map((k) => k.split('/')[0]));
    await vi.waitFor(
      async () => {
        const list = await call(urlB, 'ListExecutions', { FlowName: flowName, Limit: 100 });
        const next = list['NextToken'];
        const rest = typeof next === 'string' ? await call(urlB, 'ListExecutions', { FlowName: flowName, Limit: 100, NextToken: next }) : { Executions: [] };
        const all = [...((list['Executions'] as { Status: string }[]) ?? []), ...((rest['Executions'] as { Status: string }[]) ?? [])];
        expect(all).toHaveLength(EXECUTIONS);
        expect(all.filter((e) => e.Status !== 'Succeeded')).toEqual([]);
      },
      { timeout: 90_000, interval: 250 },
    );
    for (let i = 0; i < EXECUTIONS; i++) {
      const one = effects.calls.get(`e${i}/one`) ?? 0;
      const two = effects.calls.get(`e${i}/two`) ?? 0;
      // at-least-once: only a task in flight when A was killed may run a second time
      expect(one).toBeGreaterThanOrEqual(1);
      expect(two).toBeGreaterThanOrEqual(1);
      expect(one + two).toBeLessThanOrEqual(3);
      // Two had started, so One's result was recorded: One never ran again
      if (twoStartedBeforeKill.has(`e${i}`)) expect(one).toBe(1);
    }
    b.child.kill('SIGTERM');
    await new Promise((r) => b.child.once('exit', r));
  });
});
