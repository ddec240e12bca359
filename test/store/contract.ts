/**
 * The contract every {@link ExecutionStore} adapter passes (run by sqlite.test.ts and
 * postgres.test.ts). Each test gets a fresh, empty, migrated store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LEASE_LOST, LeaseLostError } from '../../src/executions/store.js';
import type { ExecutionRecord, ExecutionStore, NewExecution, StepCommit } from '../../src/executions/store.js';
import { loadFlowText } from '../../src/flow/load.js';
import { start } from '../../src/interpreter/step.js';
import type { ExecutionState } from '../../src/interpreter/types.js';

export interface StoreFixture {
  store: ExecutionStore;
  /** Opens a second store on the same database (another instance). */
  openAnother(): Promise<ExecutionStore>;
  /** Closes everything and removes the database. */
  dispose(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
const LEASE = 30_000;

const FAKE_FLOW = loadFlowText(
  `Type: StateMachine
Name: f
SpecVersion: v1
StartAt: T
States:
  - Type: Task
    Name: T
    Action: Test:Do
    End: true
`,
  'f.yaml',
  { mode: 'Standard' },
);

/** A real interpreter state (waiting on its first task), with `extra` over it. */
export function fakeState(name: string, extra: Partial<ExecutionState> = {}): ExecutionState {
  const { state } = start({ flow: FAKE_FLOW, input: { a: 1 }, executionName: name, now: T0, timeoutMs: 1000 });
  return { ...state, ...extra };
}

let counter = 0;
export function newExecution(overrides: Partial<NewExecution> = {}): NewExecution {
  counter++;
  const name = overrides.name ?? `exec-${counter}`;
  return {
    id: `id-${counter}-${Math.random().toString(36).slice(2, 8)}`,
    kind: 'flow',
    definitionName: 'f',
    definitionVersion: 1,
    name,
    status: 'Running',
    input: { a: 1 },
    state: fakeState(name),
    startedAt: T0 + counter,
    ...overrides,
  };
}

export function storeContract(adapter: string, open: () => Promise<StoreFixture>): void {
  describe(`ExecutionStore contract: ${adapter}`, () => {
    let fx: StoreFixture;
    let store: ExecutionStore;
    beforeEach(async () => {
      fx = await open();
      store = fx.store;
    });
    afterEach(async () => {
      await fx.dispose();
    });

    const create = async (overrides: Partial<NewExecution> = {}): Promise<ExecutionRecord> => {
      const r = await store.createExecution(newExecution(overrides));
      expect(r.created).toBe(true);
      return r.execution;
    };

    describe('definitions', () => {
      it('creates version 1 once, adds versions, reads the latest or a given one', async () => {
        const v1 = await store.createDefinition({ kind: 'flow', name: 'a', content: 'text 1', metadata: { Description: 'one' }, now: T0 });
        expect(v1).toEqual({ kind: 'flow', account: '', name: 'a', version: 1, content: 'text 1', metadata: { Description: 'one' }, createdAt: T0 });
        expect(await store.createDefinition({ kind: 'flow', name: 'a', content: 'again', now: T0 })).toBeUndefined();
        const v2 = await store.updateDefinition({ kind: 'flow', name: 'a', content: 'text 2', metadata: { Description: 'two' }, now: T0 + 5 });
        expect(v2?.version).toBe(2);
        expect(await store.updateDefinition({ kind: 'flow', name: 'missing', content: 'x', now: T0 })).toBeUndefined();
        expect((await store.getDefinition('flow', 'a'))?.content).toBe('text 2');
        expect((await store.getDefinition('flow', 'a', 1))?.content).toBe('text 1');
        expect(await store.getDefinition('flow', 'a', 3)).toBeUndefined();
        expect(await store.getDefinition('template', 'a')).toBeUndefined();
        expect((await store.listDefinitionVersions('flow', 'a')).map((d) => d.version)).toEqual([1, 2]);
      });

      it('lists the latest version of each name, in name order, with paging and prefix', async () => {
        for (const name of ['c', 'a', 'b', 'ab']) await store.createDefinition({ kind: 'flow', name, content: name, now: T0 });
        await store.updateDefinition({ kind: 'flow', name: 'b', content: 'b2', now: T0 });
        await store.createDefinition({ kind: 'template', name: 'zz', content: 'other kind', now: T0 });
        const first = await store.listDefinitions('flow', { limit: 2 });
        expect(first.map((d) => d.name)).toEqual(['a', 'ab']);
        const second = await store.listDefinitions('flow', { limit: 10, after: 'ab' });
        expect(second.map((d) => [d.name, d.version, d.content])).toEqual([
          ['b', 2, 'b2'],
          ['c', 1, 'c'],
        ]);
        expect((await store.listDefinitions('flow', { limit: 10, namePrefix: 'a' })).map((d) => d.name)).toEqual(['a', 'ab']);
        expect((await store.listDefinitions('template', { limit: 10 })).map((d) => d.name)).toEqual(['zz']);
      });

      it('deletes every version of a definition', async () => {
        await store.createDefinition({ kind: 'flow', name: 'gone', content: '1', now: T0 });
        await store.updateDefinition({ kind: 'flow', name: 'gone', content: '2', now: T0 });
        expect(await store.deleteDefinition('flow', 'gone')).toBe(true);
        expect(await store.deleteDefinition('flow', 'gone')).toBe(false);
        expect(await store.getDefinition('flow', 'gone')).toBeUndefined();
        expect(await store.createDefinition({ kind: 'flow', name: 'gone', content: 'new', now: T0 })).toBeDefined();
      });

      it('keeps accounts apart', async () => {
        await store.createDefinition({ kind: 'flow', name: 'same', content: 'x', now: T0, account: 'acc-1' });
        expect(await store.createDefinition({ kind: 'flow', name: 'same', content: 'y', now: T0, account: 'acc-2' })).toBeDefined();
        expect((await store.getDefinition('flow', 'same', undefined, 'acc-1'))?.content).toBe('x');
        expect(await store.getDefinition('flow', 'same')).toBeUndefined();
      });
    });

    describe('executions', () => {
      it('creates an execution with its first step and reads it back', async () => {
        const x = newExecution({
          parentId: 'parent-1',
          mode: 'Standard',
          tags: { team: 'a' },
          leaseOwner: 'A',
          leaseExpiresAt: T0 + LEASE,
          events: [
            { eventId: 1, type: 'ExecutionStarted', time: T0, detail: { Input: { a: 1 } } },
            { eventId: 2, type: 'TaskScheduled', time: T0, step: 'T', path: [0, 1] },
          ],
          newTasks: [
            {
              taskId: 1,
              stateName: 'T',
              action: 'Test:Do',
              mode: 'RequestComplete',
              path: [0, 1],
              parameters: { p: [1, 'two'] },
              timeoutMs: 5000,
              retryCount: 0,
              status: 'Scheduled',
              startedAt: T0,
              scheduleEventId: 2,
            },
          ],
          addTimers: [{ timerId: 2, kind: 'timer', dueAt: T0 + 100, path: [] }],
        });
        const r = await store.createExecution(x);
        expect(r.created).toBe(true);
        const got = await store.getExecution(x.id);
        expect(got).toEqual(r.execution);
        expect(got).toMatchObject({
          id: x.id,
          kind: 'flow',
          account: '',
          definitionName: 'f',
          definitionVersion: 1,
          name: x.name,
          status: 'Running',
          input: { a: 1 },
          state: JSON.parse(JSON.stringify(x.state)) as unknown, // stored as JSON text
          startedAt: x.startedAt,
          updatedAt: x.startedAt,
          parentId: 'parent-1',
          mode: 'Standard',
          tags: { team: 'a' },
          leaseOwner: 'A',
          leaseExpiresAt: T0 + LEASE,
        });
        expect(got?.output).toBeUndefined();
        expect(got?.stoppedAt).toBeUndefined();
        expect(await store.findExecution('flow', 'f', x.name)).toEqual(got);
        expect(await store.findExecution('template', 'f', x.name)).toBeUndefined();
        expect(await store.listEvents(x.id, { limit: 10 })).toEqual([
          { executionId: x.id, eventId: 1, type: 'ExecutionStarted', time: T0, detail: { Input: { a: 1 } } },
          { executionId: x.id, eventId: 2, type: 'TaskScheduled', time: T0, step: 'T', path: [0, 1] },
        ]);
        expect(await store.listTasks(x.id)).toEqual([{ executionId: x.id, ...x.newTasks?.[0] }]);
        expect(await store.listTimers(x.id)).toEqual([{ executionId: x.id, timerId: 2, kind: 'timer', dueAt: T0 + 100, path: [] }]);
      });

      it('refuses a second execution with the same name and answers the one holding it', async () => {
        const first = await create({ name: 'dup' });
        const again = await store.createExecution(newExecution({ name: 'dup' }));
        expect(again).toMatchObject({ created: false, conflict: 'name' });
        expect(again.execution.id).toBe(first.id);
        // same name under another flow or kind is fine
        await create({ name: 'dup', definitionName: 'other' });
        await create({ name: 'dup', kind: 'template' });
      });

      it('is idempotent by client token', async () => {
        const first = await create({ clientToken: 'tok-1' });
        const again = await store.createExecution(newExecution({ clientToken: 'tok-1' }));
        expect(again).toMatchObject({ created: false, conflict: 'clientToken' });
        expect(again.execution.id).toBe(first.id);
        expect((await store.findExecutionByClientToken('tok-1'))?.id).toBe(first.id);
        expect(await store.findExecutionByClientToken('nope')).toBeUndefined();
      });

      it('creates an execution that finished in its first step without a lease', async () => {
        const e = await create({ status: 'Succeeded', output: { ok: true }, stoppedAt: T0 + 1, leaseOwner: 'A', leaseExpiresAt: T0 + LEASE });
        expect(e.leaseOwner).toBeUndefined();
        expect(e.output).toEqual({ ok: true });
        expect(await store.claimRunnable('B', T0, LEASE, 10)).toEqual([]);
      });

      it('lists newest first with filters and paging', async () => {
        const made: ExecutionRecord[] = [];
        for (let i = 0; i < 7; i++) {
          made.push(
            await create({
              name: i % 2 === 0 ? `even-${i}` : `odd-${i}`,
              startedAt: T0 + (i < 2 ? 0 : i) * 1000, // two share a start time
              status: i === 3 ? 'Failed' : 'Running',
            }),
          );
        }
        await create({ definitionName: 'other', startedAt: T0 + 99_000 });
        const all: string[] = [];
        let after;
        for (let pages = 0; pages < 10; pages++) {
          const page: Awaited<ReturnType<ExecutionStore['listExecutions']>> = await store.listExecutions({ kind: 'flow', definitionName: 'f' }, { limit: 3, ...(after ? { after } : {}) });
          all.push(...page.items.map((e) => e.id));
          if (!page.next) break;
          after = page.next;
        }
        const expected = [...made].sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1)).map((e) => e.id);
        expect(all).toEqual(expected);
        const failed = await store.listExecutions({ kind: 'flow', definitionName: 'f', status: 'Failed' }, { limit: 10 });
        expect(failed.items.map((e) => e.name)).toEqual(['odd-3']);
        expect(failed.next).toBeUndefined();
        const even = await store.listExecutions({ kind: 'flow', definitionName: 'f', namePrefix: 'even-' }, { limit: 10 });
        expect(even.items.map((e) => e.name)).toEqual(['even-6', 'even-4', 'even-2', 'even-0']);
        const window = await store.listExecutions({ kind: 'flow', definitionName: 'f', startedFrom: T0 + 3000, startedTo: T0 + 5000 }, { limit: 10 });
        expect(window.items.map((e) => e.name)).toEqual(['odd-5', 'even-4', 'odd-3']);
        expect((await store.listExecutions({ kind: 'flow' }, { limit: 100 })).items).toHaveLength(8);
      });

      it('lists by status and by parent across definitions, newest first, with paging', async () => {
        const kids: ExecutionRecord[] = [];
        for (let i = 0; i < 5; i++) kids.push(await create({ parentId: 'p-1', definitionName: i % 2 === 0 ? 'f' : 'g', startedAt: T0 + (i < 2 ? 0 : i), status: i === 4 ? 'Waiting' : 'Running' }));
        await create({ parentId: 'p-2', startedAt: T0 + 50, status: 'Waiting' });
        await create({ kind: 'template', parentId: 'p-1', startedAt: T0 + 60, status: 'Waiting' });
        const newest = [...kids].sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1)).map((e) => e.id);
        const first = await store.listExecutions({ kind: 'flow', parentId: 'p-1' }, { limit: 3 });
        expect(first.next).toBeDefined();
        const rest = await store.listExecutions({ kind: 'flow', parentId: 'p-1' }, { limit: 3, ...(first.next ? { after: first.next } : {}) });
        expect([...first.items, ...rest.items].map((e) => e.id)).toEqual(newest);
        expect(rest.next).toBeUndefined();
        const running = await store.listExecutions({ kind: 'flow', status: 'Running' }, { limit: 10 });
        expect(running.items.map((e) => e.id)).toEqual(newest.filter((id) => id !== kids[4]?.id));
        const waiting = await store.listExecutions({ kind: 'flow', status: 'Waiting' }, { limit: 1 });
        expect(waiting.items.map((e) => e.parentId)).toEqual(['p-2']);
        expect(waiting.next).toBeDefined();
      });
    });

    describe('commitStep', () => {
      it('writes state, events, tasks, timers, resources and acknowledged signals together', async () => {
        const e = await create({ leaseOwner: 'A', leaseExpiresAt: T0 + LEASE, addTimers: [{ timerId: 1, kind: 'timer', dueAt: T0 + 5, path: [] }] });
        const s1 = await store.postSignal(e.id, 'Notify', { n: 1 }, T0);
        const s2 = await store.postSignal(e.id, 'Notify', { n: 2 }, T0);
        const state = fakeState(e.name, { seq: 3, eventCount: 4 });
        await store.commitStep(e.id, {
          leaseOwner: 'A',
          now: T0 + 10,
          state,
          status: 'Running',
          events: [
            { eventId: 2, type: 'StepEntered', time: T0 + 10, step: 'T' },
            { eventId: 3, type: 'TaskScheduled', time: T0 + 10, step: 'T', detail: { Action: 'X' } },
          ],
          newTasks: [
            { taskId: 2, stateName: 'T', action: 'X', mode: 'WaitForCustomCallback', path: [], parameters: {}, retryCount: 0, status: 'Waiting', startedAt: T0 + 10, token: 'tok-abc', scheduleEventId: 3 },
            { taskId: 3, stateName: 'U', action: 'Y', mode: 'RequestComplete', path: [1], parameters: null, retryCount: 1, status: 'Scheduled', startedAt: T0 + 10 },
          ],
          removeTimers: [1],
          addTimers: [{ timerId: 2, kind: 'taskTimeout', dueAt: T0 + 1000, path: [] }],
          resourceStatuses: [{ taskName: 'loop', resourceId: 'i-1', status: 'Success', outputs: { x: 1 }, updatedAt: T0 + 10 }],
          ackSignals: [s1],
        });
        const got = await store.getExecution(e.id);
        expect(got?.state).toEqual(state);
        expect(got?.updatedAt).toBe(T0 + 10);
        expect((await store.listEvents(e.id, { limit: 10 })).map((x) => x.eventId)).toEqual([2, 3]);
        expect((await store.listTasks(e.id, { openOnly: true })).map((t) => t.taskId)).toEqual([2, 3]);
        expect((await store.getTaskByToken('tok-abc'))?.taskId).toBe(2);
        expect(await store.getTaskByToken('tok-nope')).toBeUndefined();
        expect((await store.listTimers(e.id)).map((t) => [t.timerId, t.kind])).toEqual([[2, 'taskTimeout']]);
        expect((await store.pendingSignals({ executionId: e.id })).map((s) => s.id)).toEqual([s2]);
        expect(await store.listResourceStatuses(e.id, { limit: 10 })).toEqual([
          { executionId: e.id, taskName: 'loop', resourceId: 'i-1', status: 'Success', outputs: { x: 1 }, updatedAt: T0 + 10 },
        ]);

        await store.commitStep(e.id, {
          leaseOwner: 'A',
          now: T0 + 20,
          status: 'Running',
          taskUpdates: [
            { taskId: 2, status: 'Succeeded', endedAt: T0 + 20, output: { done: 1 } },
            { taskId: 3, status: 'Failed', endedAt: T0 + 20, error: { Code: 'E', Detail: 'd' } },
          ],
        });
        expect((await store.getExecution(e.id))?.state).toEqual(state); // absent state = unchanged
        const tasks = await store.listTasks(e.id);
        expect(tasks.map((t) => [t.status, t.endedAt, t.output, t.error])).toEqual([
          ['Succeeded', T0 + 20, { done: 1 }, undefined],
          ['Failed', T0 + 20, undefined, { Code: 'E', Detail: 'd' }],
        ]);
        expect(await store.listTasks(e.id, { openOnly: true })).toEqual([]);
      });

      it('is one transaction: a failing part leaves nothing written', async () => {
        const e = await create({ leaseOwner: 'A', leaseExpiresAt: T0 + LEASE, events: [{ eventId: 1, type: 'ExecutionStarted', time: T0 }] });
        const before = await store.getExecution(e.id);
        await expect(
          store.commitStep(e.id, {
            leaseOwner: 'A',
            now: T0 + 1,
            state: fakeState(e.name, { seq: 9 }),
            status: 'Succeeded',
            stoppedAt: T0 + 1,
            events: [
              { eventId: 2, type: 'StepEntered', time: T0 + 1 },
              { eventId: 1, type: 'Duplicate', time: T0 + 1 }, // primary key violation
            ],
          }),
        ).rejects.toThrow();
        expect(await store.getExecution(e.id)).toEqual(before);
        expect((await store.listEvents(e.id, { limit: 10 })).map((x) => x.type)).toEqual(['ExecutionStarted']);
      });

      it('is fenced by the lease', async () => {
        const e = await create({ leaseOwner: 'A', leaseExpiresAt: T0 + LEASE });
        const err = await store.commitStep(e.id, { leaseOwner: 'B', now: T0, status: 'Succeeded', events: [{ eventId: 5, type: 'X', time: T0 }] }).catch((x: unknown) => x);
        expect(err).toBeInstanceOf(LeaseLostError);
        expect((err as LeaseLostError).code).toBe(LEASE_LOST);
        expect((await store.getExecution(e.id))?.status).toBe('Running');
        expect(await store.listEvents(e.id, { limit: 10 })).toEqual([]);
        await expect(store.commitStep('no-such-id', { leaseOwner: 'A', now: T0, status: 'Running' })).rejects.toBeInstanceOf(LeaseLostError);
      });

      it('a finishing step releases the lease and drops timers and signals', async () => {
        const e = await create({ leaseOwner: 'A', leaseExpiresAt: T0 + LEASE, addTimers: [{ timerId: 1, kind: 'timer', dueAt: T0 + 5, path: [] }] });
        await store.postSignal(e.id, 'Stop', {}, T0);
        await store.commitStep(e.id, { leaseOwner: 'A', now: T0 + 9, status: 'Stopped', stoppedAt: T0 + 9, error: { Code: 'FnF.Cancelled', Detail: 'stop' } });
        const got = await store.getExecution(e.id);
        expect(got).toMatchObject({ status: 'Stopped', stoppedAt: T0 + 9, error: { Code: 'FnF.Cancelled', Detail: 'stop' } });
        expect(got?.leaseOwner).toBeUndefined();
        expect(got?.leaseExpiresAt).toBeUndefined();
        expect(await store.listTimers(e.id)).toEqual([]);
        expect(await store.pendingSignals({ executionId: e.id })).toEqual([]);
        expect(await store.claimRunnable('B', T0 + 10 * LEASE, LEASE, 10)).toEqual([]);
        await expect(store.commitStep(e.id, { leaseOwner: 'A', now: T0 + 10, status: 'Running' })).rejects.toBeInstanceOf(LeaseLostError);
      });

      it('a step that changes only the status of an active execution writes it and keeps the lease', async () => {
        const e = await create({ leaseOwner: 'A', leaseExpiresAt: T0 + LEASE });
        const byStatus = async (status: string): Promise<string[]> => (await store.listExecutions({ kind: 'flow', status }, { limit: 10 })).items.map((x) => x.id);
        await store.commitStep(e.id, { leaseOwner: 'A', now: T0 + 5, status: 'Waiting' });
        const got = await store.getExecution(e.id);
        expect(got).toMatchObject({ status: 'Waiting', leaseOwner: 'A', leaseExpiresAt: T0 + LEASE, updatedAt: T0 + 5, state: e.state });
        expect(got?.stoppedAt).toBeUndefined();
        expect(got?.output).toBeUndefined();
        expect(await byStatus('Waiting')).toEqual([e.id]);
        expect(await byStatus('Running')).toEqual([]);
        await store.commitStep(e.id, { leaseOwner: 'A', now: T0 + 6, status: 'Waiting', state: fakeState(e.name, { seq: 7 }) }); // status unchanged
        expect(await store.getExecution(e.id)).toMatchObject({ status: 'Waiting', updatedAt: T0 + 6, state: { seq: 7 }, leaseOwner: 'A' });
        await store.commitStep(e.id, { leaseOwner: 'A', now: T0 + 7, status: 'Running' });
        expect(await byStatus('Running')).toEqual([e.id]);
        expect(await byStatus('Waiting')).toEqual([]);
        expect((await store.renewLeases('A', T0 + 8, LEASE)).includes(e.id)).toBe(true);
      });
    });

    describe('queued executions', () => {
      const queued = (overrides: Partial<NewExecution> = {}): Promise<ExecutionRecord> => {
        const { state: _state, ...rest } = newExecution({ status: 'Queued', queued: true, ...overrides });
        return store.createExecution(rest).then((r) => {
          expect(r.created).toBe(true);
          return r.execution;
        });
      };

      it('wait without a state or a lease, are never claimed, and start once with their first step', async () => {
        const q = await queued();
        expect(q).toMatchObject({ status: 'Queued' });
        expect(q.state).toBeUndefined();
        expect(q.leaseOwner).toBeUndefined();
        expect(await store.claimRunnable('A', T0 + LEASE * 10, LEASE, 10)).toEqual([]);
        expect((await store.listExecutions({ kind: 'flow', status: 'Queued' }, { limit: 10 })).items.map((x) => x.id)).toEqual([q.id]);
        const state = fakeState(q.name);
        const first: StepCommit = {
          leaseOwner: 'A',
          now: T0 + 50,
          status: 'Running',
          state,
          events: [{ eventId: 1, type: 'ExecutionStarted', time: T0 + 50 }],
          newTasks: [{ taskId: 1, stateName: 'T', path: [], action: 'Test:Do', mode: 'RequestComplete', parameters: {}, status: 'Scheduled', startedAt: T0 + 50, retryCount: 0 }],
        };
        expect(await store.startQueued(q.id, first, T0 + 50 + LEASE)).toBe(true);
        const got = await store.getExecution(q.id);
        expect(got).toMatchObject({ status: 'Running', state: JSON.parse(JSON.stringify(state)), leaseOwner: 'A', leaseExpiresAt: T0 + 50 + LEASE, updatedAt: T0 + 50 });
        expect((await store.listTasks(q.id)).map((t) => t.taskId)).toEqual([1]);
        expect((await store.listEvents(q.id, { afterEventId: 0, limit: 10 })).map((e) => e.type)).toEqual(['ExecutionStarted']);
        // started: not again, not by another instance, and it is an ordinary leased execution now
        expect(await store.startQueued(q.id, { ...first, leaseOwner: 'B' }, T0 + LEASE)).toBe(false);
        expect(await store.finishQueued(q.id, { status: 'Cancelled', now: T0 + 60 })).toBe(false);
        expect(await store.claimRunnable('B', T0 + 60, LEASE, 10)).toEqual([]);
        expect(await store.renewLeases('A', T0 + 70, LEASE)).toEqual([q.id]);
      });

      it('a queued execution that never starts can end (e.g. cancelled), once', async () => {
        const q = await queued();
        const error = { Code: 'Cancelled', Detail: 'cancelled while queued' };
        expect(await store.finishQueued(q.id, { status: 'Cancelled', error, now: T0 + 5 })).toBe(true);
        expect(await store.getExecution(q.id)).toMatchObject({ status: 'Cancelled', error, stoppedAt: T0 + 5 });
        expect(await store.finishQueued(q.id, { status: 'Cancelled', now: T0 + 6 })).toBe(false);
        expect(await store.startQueued(q.id, { leaseOwner: 'A', now: T0 + 7, status: 'Running', state: fakeState(q.name) }, T0 + LEASE)).toBe(false);
        // finished: purged like any other
        expect(await store.purgeFinished(T0 + 100, 10)).toBe(1);
      });
    });

    describe('leases', () => {
      it('two owners: one claims, the other waits for the lease to expire, then takes over', async () => {
        const a = await create({ startedAt: T0 + 1 });
        const b = await create({ startedAt: T0 + 2 });
        const claimedByA = await store.claimRunnable('A', T0, LEASE, 10);
        expect(claimedByA.map((e) => e.id)).toEqual([a.id, b.id]);
        expect(claimedByA.every((e) => e.leaseOwner === 'A' && e.leaseExpiresAt === T0 + LEASE)).toBe(true);
        expect(await store.claimRunnable('B', T0 + LEASE - 1, LEASE, 10)).toEqual([]);
        // A renews one of them only
        expect(await store.renewLeases('A', T0 + 10_000, LEASE, [a.id])).toEqual([a.id]);
        const takeover = await store.claimRunnable('B', T0 + LEASE, LEASE, 10);
        expect(takeover.map((e) => e.id)).toEqual([b.id]);
        expect((await store.renewLeases('A', T0 + LEASE, LEASE)).sort()).toEqual([a.id]);
        await expect(store.commitStep(b.id, { leaseOwner: 'A', now: T0 + LEASE, status: 'Running' })).rejects.toBeInstanceOf(LeaseLostError);
        await store.commitStep(b.id, { leaseOwner: 'B', now: T0 + LEASE, status: 'Running' });
        // release makes it claimable at once
        await store.releaseLease(a.id, 'B'); // not B's: no-op
        expect((await store.getExecution(a.id))?.leaseOwner).toBe('A');
        await store.releaseLease(a.id, 'A');
        expect((await store.claimRunnable('B', T0 + LEASE, LEASE, 10)).map((e) => e.id)).toEqual([a.id]);
        expect(await store.renewLeases('A', T0 + LEASE, LEASE)).toEqual([]);
        expect(await store.renewLeases('B', T0 + LEASE, LEASE, [])).toEqual([]);
      });

      it('an owner restarting under the same id reclaims its own live leases at once', async () => {
        const mine = await create({ leaseOwner: 'A', leaseExpiresAt: T0 + LEASE });
        await create({ leaseOwner: 'B', leaseExpiresAt: T0 + LEASE });
        expect(await store.claimRunnable('A', T0 + 1, LEASE, 10)).toEqual([]);
        const again = await store.claimRunnable('A', T0 + 1, LEASE, 10, { includeOwn: true });
        expect(again.map((e) => [e.id, e.leaseExpiresAt])).toEqual([[mine.id, T0 + 1 + LEASE]]);
      });

      it('pages through claimable executions with a cursor', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await create({ startedAt: T0 + i, leaseOwner: 'A', leaseExpiresAt: T0 + LEASE })).id);
        const first = await store.claimRunnable('A', T0, LEASE, 2, { includeOwn: true });
        expect(first.map((e) => e.id)).toEqual(ids.slice(0, 2));
        const last = first[1] as ExecutionRecord;
        const next = await store.claimRunnable('A', T0, LEASE, 2, { includeOwn: true, after: { startedAt: last.startedAt, id: last.id } });
        expect(next.map((e) => e.id)).toEqual(ids.slice(2, 4));
      });

      it('claims at most `limit`, oldest first, and includes waiting and unleased executions', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await create({ startedAt: T0 + 10 - i, status: i === 0 ? 'Waiting' : 'Running' })).id);
        const first = await store.claimRunnable('A', T0, LEASE, 2);
        expect(first.map((e) => e.id)).toEqual([ids[4], ids[3]]);
        const rest = await store.claimRunnable('A', T0, LEASE, 10);
        expect(rest.map((e) => e.id)).toEqual([ids[2], ids[1], ids[0]]);
      });

      it('concurrent claims from two instances never overlap', async () => {
        const other = await fx.openAnother();
        try {
          const ids = new Set<string>();
          for (let i = 0; i < 30; i++) ids.add((await create()).id);
          const rounds = await Promise.all([
            store.claimRunnable('A', T0, LEASE, 7),
            other.claimRunnable('B', T0, LEASE, 7),
            store.claimRunnable('C', T0, LEASE, 7),
            other.claimRunnable('D', T0, LEASE, 7),
            store.claimRunnable('E', T0, LEASE, 7),
          ]);
          const seen = rounds.flat().map((e) => e.id);
          expect(new Set(seen).size).toBe(seen.length);
          expect(seen.length).toBe(30);
          for (const [i, owner] of ['A', 'B', 'C', 'D', 'E'].entries()) {
            for (const e of rounds[i] ?? []) expect((await store.getExecution(e.id))?.leaseOwner).toBe(owner);
          }
        } finally {
          await other.close();
        }
      });
    });

    describe('history, timers, resources', () => {
      it('pages history events in order', async () => {
        const events = Array.from({ length: 25 }, (_, i) => ({ eventId: i + 1, type: 'StepEntered', time: T0 + i, step: `s${i}` }));
        const e = await create({ events });
        const page1 = await store.listEvents(e.id, { limit: 10 });
        const page2 = await store.listEvents(e.id, { limit: 10, afterEventId: 10 });
        const page3 = await store.listEvents(e.id, { limit: 10, afterEventId: 20 });
        expect([...page1, ...page2, ...page3].map((x) => x.eventId)).toEqual(events.map((x) => x.eventId));
        expect(page3).toHaveLength(5);
      });

      it('finds due timers, optionally only those of an owner', async () => {
        const a = await create({ leaseOwner: 'A', leaseExpiresAt: T0 + LEASE, addTimers: [{ timerId: 1, kind: 'timer', dueAt: T0 + 10, path: [0] }, { timerId: 2, kind: 'timer', dueAt: T0 + 50, path: [] }] });
        const b = await create({ leaseOwner: 'B', leaseExpiresAt: T0 + LEASE, addTimers: [{ timerId: 7, kind: 'taskTimeout', dueAt: T0 + 5, path: [] }] });
        expect((await store.dueTimers(T0 + 10, 10)).map((t) => [t.executionId, t.timerId])).toEqual([
          [b.id, 7],
          [a.id, 1],
        ]);
        expect((await store.dueTimers(T0 + 100, 10, 'A')).map((t) => t.timerId)).toEqual([1, 2]);
        expect(await store.dueTimers(T0 + 100, 1, 'A')).toHaveLength(1);
        expect(await store.dueTimers(T0, 10)).toEqual([]);
      });

      it('keeps resource statuses per task and resource, upserted and paged', async () => {
        const e = await create();
        await store.putResourceStatuses(e.id, [
          { taskName: 't', resourceId: 'r2', status: 'Running', outputs: {}, updatedAt: T0 },
          { taskName: 't', resourceId: 'r1', status: 'Running', outputs: {}, updatedAt: T0 },
          { taskName: 'u', resourceId: 'r1', status: 'Queued', outputs: {}, updatedAt: T0 },
        ]);
        await store.putResourceStatuses(e.id, [{ taskName: 't', resourceId: 'r2', status: 'Success', outputs: { o: 2 }, updatedAt: T0 + 1 }]);
        const all = await store.listResourceStatuses(e.id, { limit: 10 });
        expect(all.map((r) => [r.taskName, r.resourceId, r.status])).toEqual([
          ['t', 'r1', 'Running'],
          ['t', 'r2', 'Success'],
          ['u', 'r1', 'Queued'],
        ]);
        const page2 = await store.listResourceStatuses(e.id, { limit: 10, after: { taskName: 't', resourceId: 'r2' } });
        expect(page2.map((r) => r.taskName)).toEqual(['u']);
        expect((await store.listResourceStatuses(e.id, { limit: 10, taskName: 't' })).map((r) => r.outputs)).toEqual([{}, { o: 2 }]);
      });
    });

    describe('signals', () => {
      it('reach the owner of the execution, in order, until acknowledged', async () => {
        const a = await create({ leaseOwner: 'A', leaseExpiresAt: T0 + LEASE });
        const b = await create({ leaseOwner: 'B', leaseExpiresAt: T0 + LEASE });
        const free = await create();
        const s1 = await store.postSignal(a.id, 'Stop', { error: { Code: 'X', Detail: 'y' } }, T0);
        const s2 = await store.postSignal(b.id, 'Notify', {}, T0 + 1);
        const s3 = await store.postSignal(a.id, 'ReportTask', { taskId: 3 }, T0 + 2);
        const s4 = await store.postSignal(free.id, 'Stop', {}, T0 + 3);
        expect(s3).toBeGreaterThan(s1);
        const forA = await store.pendingSignals({ owner: 'A' });
        expect(forA).toEqual([
          { id: s1, executionId: a.id, type: 'Stop', payload: { error: { Code: 'X', Detail: 'y' } }, createdAt: T0 },
          { id: s3, executionId: a.id, type: 'ReportTask', payload: { taskId: 3 }, createdAt: T0 + 2 },
        ]);
        expect((await store.pendingSignals({ owner: 'B' })).map((s) => s.id)).toEqual([s2]);
        expect((await store.pendingSignals({ executionId: free.id })).map((s) => s.id)).toEqual([s4]);
        await store.ackSignals([s1]);
        await store.ackSignals([]);
        expect((await store.pendingSignals({ owner: 'A' })).map((s) => s.id)).toEqual([s3]);
        // whoever claims the free execution receives its signal
        await store.claimRunnable('C', T0, LEASE, 10);
        expect((await store.pendingSignals({ owner: 'C' })).map((s) => s.id)).toEqual([s4]);
      });

      it('a signal posted through another instance reaches the owner', async () => {
        const other = await fx.openAnother();
        try {
          const e = await create({ leaseOwner: 'A', leaseExpiresAt: T0 + LEASE });
          const id = await other.postSignal(e.id, 'Notify', { from: 'other' }, T0);
          expect((await store.pendingSignals({ owner: 'A' })).map((s) => [s.id, s.payload])).toEqual([[id, { from: 'other' }]]);
        } finally {
          await other.close();
        }
      });
    });

    describe('deletion and retention', () => {
      it('deletes an execution with everything it owns', async () => {
        const e = await create({
          clientToken: 'tok-del',
          events: [{ eventId: 1, type: 'ExecutionStarted', time: T0 }],
          newTasks: [{ taskId: 1, stateName: 'T', action: 'A', mode: 'WaitForCustomCallback', path: [], parameters: {}, retryCount: 0, status: 'Waiting', startedAt: T0, token: 'tok-task' }],
          addTimers: [{ timerId: 2, kind: 'timer', dueAt: T0, path: [] }],
        });
        await store.postSignal(e.id, 'Stop', {}, T0);
        await store.putResourceStatuses(e.id, [{ taskName: 't', resourceId: 'r', status: 'Running', outputs: {}, updatedAt: T0 }]);
        expect(await store.deleteExecution(e.id)).toBe(true);
        expect(await store.deleteExecution(e.id)).toBe(false);
        expect(await store.getExecution(e.id)).toBeUndefined();
        expect(await store.getTaskByToken('tok-task')).toBeUndefined();
        expect(await store.findExecutionByClientToken('tok-del')).toBeUndefined();
        expect(await store.listEvents(e.id, { limit: 10 })).toEqual([]);
        expect(await store.listTimers(e.id)).toEqual([]);
        expect(await store.pendingSignals({ executionId: e.id })).toEqual([]);
        expect(await store.listResourceStatuses(e.id, { limit: 10 })).toEqual([]);
        // the name is free again
        await create({ name: e.name });
      });

      it('purges finished executions older than the cut-off, never active ones', async () => {
        const old1 = await create({ status: 'Succeeded', stoppedAt: T0 + 100, events: [{ eventId: 1, type: 'ExecutionStarted', time: T0 }] });
        const old2 = await create({ status: 'Failed', stoppedAt: T0 + 200 });
        const recent = await create({ status: 'Stopped', stoppedAt: T0 + 5000 });
        const running = await create({ startedAt: T0 });
        expect(await store.purgeFinished(T0 + 1000, 1)).toBe(1);
        expect(await store.getExecution(old1.id)).toBeUndefined();
        expect(await store.listEvents(old1.id, { limit: 10 })).toEqual([]);
        expect(await store.purgeFinished(T0 + 1000, 10)).toBe(1);
        expect(await store.getExecution(old2.id)).toBeUndefined();
        expect(await store.purgeFinished(T0 + 1000, 10)).toBe(0);
        expect(await store.getExecution(recent.id)).toBeDefined();
        expect(await store.getExecution(running.id)).toBeDefined();
      });
    });
  });
}
