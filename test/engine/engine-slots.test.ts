/**
 * The task engine's bookkeeping: concurrency slots (taken at once below the limit, in order through
 * p-queue at it), caller signals and handles, and the FC action's JSON copies.
 */
import { getEventListeners } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flushMicrotasks } from '../../src/shared/clock.js';
import { ErrorNames } from '../../src/shared/errors.js';
import type { Json } from '../../src/shared/json.js';
import { copyJson, toJson } from '../../src/engine/actions/fc.js';
import { ActionRegistry, createFunctionLoader, createTaskEngine } from '../../src/engine/index.js';
import type { TaskHandle } from '../../src/engine/types.js';
import { drain, gateAction, rejectionOf, request } from './helpers.js';

describe('concurrency slots', () => {
  it('starts queued tasks in the order they came, never more than the limit', async () => {
    const order: number[] = [];
    const gate = gateAction();
    const run = gate.def.run;
    const def = { ...gate.def, run: (p: Json, ctx: Parameters<typeof run>[1]) => (order.push((p as { i: number }).i), run(p, ctx)) };
    const engine = createTaskEngine({ maxInFlight: 3, registry: new ActionRegistry([def]) });
    const tasks = Array.from({ length: 20 }, (_, i) => engine.runTask(request('Test:Gate', { i })));
    await flushMicrotasks();
    expect(gate.inFlight).toBe(3);
    await drain(gate, tasks, 3);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // below the limit again: a new task starts at once
    const late = engine.runTask(request('Test:Gate', { i: 99 }));
    expect(gate.inFlight).toBe(1);
    gate.releaseAll();
    await expect(late).resolves.toEqual({ i: 99 });
  });

  it('an abort of a shared signal cancels its running and queued tasks; none of the queued ones starts', async () => {
    const gate = gateAction();
    const engine = createTaskEngine({ maxInFlight: 2, registry: new ActionRegistry([gate.def]) });
    const a = new AbortController();
    const b = new AbortController();
    const ofA = Array.from({ length: 5 }, (_, i) => rejectionOf(engine.runTask(request('Test:Gate', { i }, { signal: a.signal }))));
    const ofB = engine.runTask(request('Test:Gate', { i: 100 }, { signal: b.signal }));
    await flushMicrotasks();
    expect(gate.started).toBe(2);
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(1); // one listener for five tasks
    a.abort();
    for (const err of await Promise.all(ofA)) expect(err.code).toBe(ErrorNames.Cancelled);
    await flushMicrotasks();
    expect(gate.started).toBe(3); // only b's task started after the abort
    gate.releaseAll();
    await expect(ofB).resolves.toEqual({ i: 100 });
    expect(getEventListeners(b.signal, 'abort')).toHaveLength(0); // removed with the signal's last task
  });

  it('a task aborted while waiting for a global slot gives its per-execution slot back', async () => {
    const gate = gateAction();
    const engine = createTaskEngine({ maxInFlight: 1, registry: new ActionRegistry([gate.def]) });
    const run = engine.forExecution(1);
    const blocker = engine.runTask(request('Test:Gate', { i: 0 }));
    const handle: TaskHandle = {};
    const waiting = rejectionOf(run(request('Test:Gate', { i: 1 }, { handle })));
    const next = run(request('Test:Gate', { i: 2 }));
    await flushMicrotasks();
    expect(gate.started).toBe(1);
    handle.abort?.(new Error('not needed'));
    expect((await waiting).code).toBe(ErrorNames.Cancelled);
    gate.releaseAll();
    await expect(blocker).resolves.toEqual({ i: 0 });
    await flushMicrotasks();
    expect(gate.started).toBe(2); // i: 2 got both slots
    gate.releaseAll();
    await expect(next).resolves.toEqual({ i: 2 });
  });

  it('a handle aborts its task alone, and is cleared once the task settled', async () => {
    const gate = gateAction();
    const engine = createTaskEngine({ registry: new ActionRegistry([gate.def]) });
    const handle: TaskHandle = {};
    const other: TaskHandle = {};
    const aborted = rejectionOf(engine.runTask(request('Test:Gate', { i: 1 }, { handle })));
    const kept = engine.runTask(request('Test:Gate', { i: 2 }, { handle: other }));
    await flushMicrotasks();
    expect(typeof handle.abort).toBe('function');
    handle.abort?.(new Error('no longer needed'));
    const err = await aborted;
    expect([err.code, err.message]).toEqual([ErrorNames.Cancelled, 'task cancelled: no longer needed']);
    expect(handle.abort).toBeUndefined();
    gate.releaseAll();
    await expect(kept).resolves.toEqual({ i: 2 });
    expect(other.abort).toBeUndefined();
  });
});

describe('FC:InvokeFunction JSON copies', () => {
  // JSON values with the odd ones JSON.stringify rewrites: undefined, NaN, ±Infinity, -0, holes.
  const loose: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(null, true, false, undefined, Number.NaN, Number.POSITIVE_INFINITY, -0, 0, '', '__proto__'),
      fc.double(),
      fc.integer(),
      fc.string(),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'toJSON', '0', '10')), tie('value'), { maxKeys: 4 }),
    ),
  })).value;

  it('a result is what the JSON round trip gives, and a copy', () => {
    fc.assert(
      fc.property(loose, (value) => {
        const out = toJson('f', value);
        // as before: primitives at the top as they are (but undefined and non-finite numbers), the rest through JSON
        const expected: unknown =
          value === undefined || (typeof value === 'number' && !Number.isFinite(value))
            ? null
            : typeof value !== 'object' || value === null
              ? value
              : JSON.parse(JSON.stringify(value) ?? 'null');
        expect(out).toStrictEqual(expected);
        expect(JSON.stringify(out)).toBe(JSON.stringify(expected));
        if (typeof value === 'object' && value !== null) expect(out).not.toBe(value);
      }),
    );
  });

  it('a result that is not plain data follows JSON.stringify, or fails with FC.FunctionError', () => {
    const date = new Date(Date.UTC(2026, 0, 2));
    expect(toJson('f', { at: date, m: new Map([[1, 2]]), f: () => 1, s: Symbol('x'), list: [undefined, () => 1] })).toEqual({
      at: '2026-01-02T00:00:00.000Z',
      m: {},
      list: [null, null],
    });
    expect(toJson('f', { toJSON: () => ({ own: 1 }) })).toEqual({ own: 1 });
    expect(toJson('f', Object.assign([1], { toJSON: () => 'arr' }))).toBe('arr');
    class Point {
      constructor(readonly x: number) {}
    }
    expect(toJson('f', [new Point(1)])).toEqual([{ x: 1 }]);
    const proto = JSON.parse('{"__proto__": {"a": 1}}') as Record<string, unknown>;
    const copy = toJson('f', { nested: proto }) as Record<string, Record<string, unknown>>;
    expect(Object.keys(copy.nested ?? {})).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(copy.nested)).toBe(Object.prototype);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const bad of [{ n: 1n }, cycle]) {
      expect(() => toJson('f', bad)).toThrow(expect.objectContaining({ code: 'FC.FunctionError', message: expect.stringContaining("function 'f' returned a value that is not JSON") }));
    }
    expect(() => toJson('f', { get boom(): never { throw new Error('getter'); } })).toThrow(expect.objectContaining({ code: 'FC.FunctionError' }));
    let deep: unknown = 1;
    for (let i = 0; i < 1000; i++) deep = [deep];
    expect(toJson('f', deep)).toEqual(deep);
  });

  it('an event is a deep copy of the parameters, as JSON carries them', () => {
    fc.assert(
      fc.property(loose, (value) => {
        const json = value as Json;
        const copy = copyJson(json);
        expect(copy).toStrictEqual(typeof json === 'object' && json !== null ? JSON.parse(JSON.stringify(json)) : json);
        if (typeof json === 'object' && json !== null) expect(copy).not.toBe(json);
      }),
    );
    const proto = JSON.parse('{"__proto__": {"a": 1}}') as Json;
    const copy = copyJson(proto) as Record<string, Json>;
    expect(Object.keys(copy)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });
});

describe('FunctionLoader.loaded', () => {
  it('gives a loaded function without a promise, and forgets it with invalidate()', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'flowrun-fn-'));
    const loader = createFunctionLoader(dir);
    try {
      await writeFile(path.join(dir, 'one.mjs'), 'export const handler = () => 1;\n');
      expect(loader.loaded?.('one')).toBeUndefined();
      const fn = await loader.load('one');
      expect(loader.loaded?.('one')).toBe(fn);
      loader.invalidate('one');
      expect(loader.loaded?.('one')).toBeUndefined();
      const pending = loader.load('one');
      loader.invalidate(); // while loading: the stale load is not remembered
      await pending;
      expect(loader.loaded?.('one')).toBeUndefined();
      expect(loader.loaded?.('missing')).toBeUndefined();
      await expect(loader.load('missing')).rejects.toMatchObject({ code: 'FC.FunctionNotFound' });
      expect(loader.loaded?.('missing')).toBeUndefined();
    } finally {
      loader.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
