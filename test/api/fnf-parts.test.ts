/** The parts of the FnF flow service, without HTTP: store, paging tokens, history mapping, window, flow files. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { API_EVENT_TYPES, toEventViews } from '../../src/fnf/history.js';
import { decodeToken, encodeToken, MAX_TOKEN_LENGTH } from '../../src/fnf/paging.js';
import { FlowService } from '../../src/fnf/service.js';
import { InMemoryFlowStore } from '../../src/fnf/store.js';
import type { FlowRecord } from '../../src/fnf/types.js';
import { ExecutionWindow } from '../../src/fnf/window.js';
import type { HistoryEvent } from '../../src/interpreter/types.js';
import { createRuntime } from '../../src/runtime.js';
import { FlowrunError } from '../../src/shared/errors.js';
import { HELLO, silent, tempDir } from './helpers.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const record = (name: string): FlowRecord => ({
  Name: name,
  Id: `id-${name}`,
  Definition: 'x',
  Description: '',
  Type: 'FDL',
  RoleArn: '',
  ExecutionMode: 'Express',
  CreatedTime: 0,
  LastModifiedTime: 0,
});

describe('InMemoryFlowStore', () => {
  it('creates once, lists by name after a cursor, replaces, deletes', async () => {
    const store = new InMemoryFlowStore();
    for (const n of ['m', 'b', 'x', 'a']) expect(await store.create(record(n))).toBe(true);
    expect(await store.create(record('b'))).toBe(false);
    expect((await store.list({ limit: 10 })).map((r) => r.Name)).toEqual(['a', 'b', 'm', 'x']);
    expect((await store.list({ limit: 2, after: 'b' })).map((r) => r.Name)).toEqual(['m', 'x']);
    expect((await store.list({ limit: 10, after: 'c' })).map((r) => r.Name)).toEqual(['m', 'x']);
    expect(await store.list({ limit: 10, after: 'x' })).toEqual([]);
    await store.put({ ...record('b'), Description: 'new' });
    await store.put(record('c'));
    expect((await store.list({ limit: 10 })).map((r) => `${r.Name}${r.Description}`)).toEqual(['a', 'bnew', 'c', 'm', 'x']);
    expect(await store.delete('m')).toBe(true);
    expect(await store.delete('m')).toBe(false);
    expect(await store.count()).toBe(4);
    expect(Object.isFrozen(await store.get('a'))).toBe(true);
  });
});

describe('paging tokens', () => {
  const accept = (t: Record<string, unknown>) => (typeof t['a'] === 'string' ? t['a'] : undefined);

  it('round-trips and refuses tokens of another kind, garbage and oversized ones with InvalidArgument', () => {
    const token = encodeToken('flows', { a: 'after-me' });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeToken('flows', token, accept)).toBe('after-me');
    for (const bad of [encodeToken('history', { a: 'x' }), 'not base64!', Buffer.from('[1]').toString('base64url'), 'a'.repeat(MAX_TOKEN_LENGTH + 1), encodeToken('flows', { a: 3 })]) {
      let error: unknown;
      try {
        decodeToken('flows', bad, accept);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(FlowrunError);
      expect((error as FlowrunError).code).toBe('InvalidArgument');
    }
  });
});

describe('history events → API events', () => {
  const ev = (id: number, type: HistoryEvent['type'], step?: string, path?: number[], detail?: Record<string, string>): HistoryEvent => ({
    id,
    type,
    time: Date.UTC(2026, 0, 1) + id,
    ...(step ? { step } : {}),
    ...(path ? { path } : {}),
    ...(detail ? { detail } : {}),
  });

  it('maps every type to an API name, keeps flowrun-only names in EventDetail.Event and links task results per frame', () => {
    const events: HistoryEvent[] = [
      ev(1, 'ExecutionStarted'),
      ev(2, 'TaskScheduled', 'Call', [0]),
      ev(3, 'TaskScheduled', 'Call', [1]),
      ev(4, 'TaskFailed', 'Call', [1], { Code: 'X' }),
      ev(5, 'StepRetrying', 'Call', [1]),
      ev(6, 'TaskSucceeded', 'Call', [0]),
      ev(7, 'StepCaught', 'Other'),
      ev(8, 'ExecutionSucceeded'),
    ];
    const views = toEventViews(events);
    for (const v of views) expect(API_EVENT_TYPES).toContain(v.Type);
    expect(views.map((v) => v.Type)).toEqual(['ExecutionStarted', 'TaskScheduled', 'TaskScheduled', 'TaskFailed', 'StepStarted', 'TaskSucceeded', 'StepExited', 'ExecutionSucceeded']);
    expect(views[3]?.ScheduleEventId).toBe(3);
    expect(views[5]?.ScheduleEventId).toBe(2);
    expect(views[1]?.ScheduleEventId).toBe(0);
    expect(JSON.parse(views[4]?.EventDetail ?? '')).toEqual({ Event: 'StepRetrying', Path: [1] });
    expect(JSON.parse(views[6]?.EventDetail ?? '')).toEqual({ Event: 'StepCaught' });
    expect(views[0]).toMatchObject({ StepName: '', Time: '2026-01-01T00:00:00.001Z', EventDetail: '{}' });
    // a slice still links to events before it
    expect(toEventViews(events, 5, 6).map((v) => [v.EventId, v.ScheduleEventId])).toEqual([[6, 2]]);
  });
});

describe('ExecutionWindow', () => {
  it('evicts the oldest beyond its capacity and lists one flow newest first', () => {
    const w = new ExecutionWindow(3);
    for (let i = 1; i <= 4; i++) w.add({ name: `e${i}`, flowName: i % 2 ? 'odd' : 'even', definition: '', input: '{}', status: 'Succeeded', startedAt: i });
    expect(w.size).toBe(3);
    expect(w.get('odd', 'e1')).toBeUndefined();
    expect(w.get('even', 'e3')).toBeUndefined(); // wrong flow
    expect(w.list({ flowName: 'even', limit: 10 }).items.map((r) => r.name)).toEqual(['e4', 'e2']);
    expect(w.list({ flowName: 'even', limit: 1 })).toMatchObject({ more: true });
    expect(w.list({ flowName: 'even', limit: 10, startedFrom: 3 }).items.map((r) => r.name)).toEqual(['e4']);
    w.forgetFlow('even');
    expect(w.size).toBe(1);
  });
});

describe('flow files', () => {
  it('names a flow after its file when the document has no Name; a changed Name replaces the old flow', async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    const runtime = createRuntime();
    cleanups.push(() => runtime.close());
    const service = new FlowService({ runtime, logger: silent });
    const file = join(dir, 'my-flow.yml');
    await writeFile(file, HELLO.replace('Name: hello\n', ''));
    const first = await service.loadFile(file);
    expect(first).toMatchObject({ ok: true, replaced: false, flow: { Name: 'my-flow', ExecutionMode: 'Express' } });
    expect(runtime.flows.get('my-flow')).toBeDefined(); // child flows can call it
    await writeFile(file, HELLO.replace('Name: hello', 'Name: renamed'));
    expect(await service.loadFile(file)).toMatchObject({ ok: true, flow: { Name: 'renamed' } });
    await expect(service.describeFlow('my-flow')).rejects.toMatchObject({ code: 'FlowNotExists' });
    expect(runtime.flows.get('my-flow')).toBeUndefined();
    expect(await service.removeFileFlow(file)).toBe('renamed');
    expect(await service.loadFile(join(dir, 'missing.yaml'))).toMatchObject({ ok: false });
  });

  it('a flows folder that does not exist loads nothing', async () => {
    const runtime = createRuntime();
    cleanups.push(() => runtime.close());
    const service = new FlowService({ runtime });
    expect(await service.loadDirectory(join(process.cwd(), 'no-such-folder'))).toEqual([]);
  });

  it('refuses bad limits in its options', () => {
    const runtime = createRuntime();
    cleanups.push(() => runtime.close());
    expect(() => new FlowService({ runtime, maxConcurrentExecutions: 0 })).toThrow(RangeError);
    expect(() => new FlowService({ runtime, maxQueuedExecutions: -1 })).toThrow(RangeError);
  });
});
