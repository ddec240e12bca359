/**
 * Two flowrun instances (two runners, each with its own connection pool) on one real PostgreSQL
 * (FLOWRUN_TEST_DATABASE_URL; `.ci/run` sets it): each execution is driven by one instance at a
 * time, signals reach the owner, and the survivor takes over the executions of a crashed one.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { ExecutionStore } from '../../src/executions/store.js';
import { ManualClock } from '../../src/shared/clock.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { gate, instance, putFlow, SideEffects, T0, TempDb } from './helpers.js';
import type { Instance } from './helpers.js';

const URL_VARIABLE = 'FLOWRUN_TEST_DATABASE_URL';
const url = process.env[URL_VARIABLE];

const FLOW = `
Type: StateMachine
Name: shared
SpecVersion: v1
StartAt: One
States:
  - Type: Task
    Name: One
    Action: Test:One
    Next: Nap
  - Type: Wait
    Name: Nap
    Seconds: 2
    Next: Two
  - Type: Task
    Name: Two
    Action: Test:Two
    End: true
`;

if (!url) {
  console.warn(`test/executions/postgres-runners.test.ts: skipped, ${URL_VARIABLE} is not set; .ci/run sets it.`);
  describe.skip(`durable runners on PostgreSQL (skipped: ${URL_VARIABLE} not set)`, () => {
    it('needs a database', () => undefined);
  });
} else {
  const connectionString = url;
  describe('durable runners on PostgreSQL', () => {
    const schema = `flowrun_runners_${process.pid}_${Date.now().toString(36)}`;
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const f of cleanups.splice(0).reverse()) await f();
      const client = new pg.Client({ connectionString });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    });

    it('two instances share the work, never drive one execution at once, and the survivor takes over', async () => {
      const clock = new ManualClock(T0);
      const db = new TempDb(); // unused file store; instances get PostgreSQL stores
      cleanups.push(() => db.dispose());
      const open = async (): Promise<ExecutionStore> => {
        const s = await openPostgresStore({ connectionString, schema, poolSize: 4 });
        cleanups.push(() => s.close());
        return s;
      };
      // who ran what: owner per call, to check that each execution's tasks ran on one owner at a time
      const ran: { owner: string; execution: string; state: string; time: number }[] = [];
      const effectsFor = (owner: string, slow: ReturnType<typeof gate>): SideEffects =>
        new SideEffects()
          .on('One', (r) => {
            ran.push({ owner, execution: r.context.executionName, state: 'One', time: clock.now() });
            return r.context.executionName.startsWith('slow') ? slow.handler(r, 0) : { one: owner };
          })
          .on('Two', (r) => {
            ran.push({ owner, execution: r.context.executionName, state: 'Two', time: clock.now() });
            return { two: owner };
          });
      const slowA = gate();
      const slowB = gate();
      const options = { leaseMs: 2000, claimIntervalMs: 250, signalPollMs: 100 };
      const a: Instance = await instance(db, clock, effectsFor('A', slowA).run, { ...options, owner: 'A' }, await open());
      const b: Instance = await instance(db, clock, effectsFor('B', slowB).run, { ...options, owner: 'B' }, await open());
      cleanups.push(() => b.runner.close());
      await putFlow(a.store, 'shared', FLOW);

      const step = async (ms: number): Promise<void> => {
        for (let t = 0; t < ms; t += 50) {
          await clock.advance(50);
          await a.runner.settled();
          await b.runner.settled();
        }
      };

      // 30 executions started through both instances, 6 of them with a first task that hangs on A
      for (let i = 0; i < 24; i++) await (i % 2 === 0 ? a : b).service.startExecution({ FlowName: 'shared', ExecutionName: `e${i}` });
      for (let i = 0; i < 6; i++) await a.service.startExecution({ FlowName: 'shared', ExecutionName: `slow${i}` });
      a.runner.startBackground();
      b.runner.startBackground();
      await step(3000);
      const first = await a.service.listExecutions({ FlowName: 'shared', Limit: 100 });
      expect(first.Executions.filter((e) => e.Status === 'Succeeded')).toHaveLength(24);
      expect(first.Executions.filter((e) => e.Status === 'Running').map((e) => e.Name).sort()).toEqual(['slow0', 'slow1', 'slow2', 'slow3', 'slow4', 'slow5']);
      for (let i = 0; i < 24; i++) {
        expect(ran.filter((r) => r.execution === `e${i}`).map((r) => r.state)).toEqual(['One', 'Two']);
        // started on A (even) or B (odd), and finished there: no take-over while both live
        expect(new Set(ran.filter((r) => r.execution === `e${i}`).map((r) => r.owner))).toEqual(new Set([i % 2 === 0 ? 'A' : 'B']));
      }

      // a stop posted through B reaches A, the owner of slow0
      const stopped = b.service.stopExecution({ FlowName: 'shared', ExecutionName: 'slow0' });
      await step(1000);
      await expect(stopped).resolves.toMatchObject({ Status: 'Stopped' });
      expect(slowA.signals[0]?.aborted).toBe(true);

      // A dies with five tasks in flight; B takes them over once A's leases expire
      a.runner.abandon();
      const expiry = new Map<string, number>();
      for (let i = 1; i < 6; i++) {
        const e = await b.store.findExecution('flow', 'shared', `slow${i}`);
        expect(e?.leaseOwner).toBe('A');
        expiry.set(`slow${i}`, e?.leaseExpiresAt ?? Number.NaN);
      }
      await step(2500);
      const rerun = ran.filter((r) => r.owner === 'B' && r.execution.startsWith('slow') && r.state === 'One');
      expect(rerun.map((r) => r.execution).sort()).toEqual(['slow1', 'slow2', 'slow3', 'slow4', 'slow5']);
      for (const r of rerun) expect(r.time, `${r.execution} taken over before A's lease expired`).toBeGreaterThanOrEqual(expiry.get(r.execution) ?? Number.NaN);
      for (const p of slowB.pending) p.resolve({ one: 'B' });
      await step(3000);
      const end = await b.service.listExecutions({ FlowName: 'shared', Limit: 100 });
      expect(end.Executions.filter((e) => e.Status === 'Succeeded')).toHaveLength(29);
      for (let i = 1; i < 6; i++) {
        expect(ran.filter((r) => r.execution === `slow${i}`).map((r) => `${r.owner}:${r.state}`)).toEqual(['A:One', 'B:One', 'B:Two']);
      }
    }, 60_000);
  });
}
