import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, flushMicrotasks } from '../../src/shared/clock.js';
import { ErrorNames, FlowrunError } from '../../src/shared/errors.js';
import type { JsonObject } from '../../src/shared/json.js';
import { createFunctionLoader, createTaskEngine, functionNameFromArn } from '../../src/engine/index.js';
import type { FunctionLoader } from '../../src/engine/index.js';
import { rejectionOf, request } from './helpers.js';

const functionsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../flows/functions');

describe('FC:InvokeFunction with the example functions', () => {
  const engine = createTaskEngine({ functionsDir });

  it('invokes greet.js by functionName with body as the event', async () => {
    await expect(engine.runTask(request('FC:InvokeFunction', { functionName: 'greet', body: { name: 'Ada' } }))).resolves.toEqual({
      StatusCode: 200,
      Body: { greeting: 'Hello, Ada!', functionName: 'greet' },
    });
  });

  it('finds the function in an FC 3.0 or FC 2.0 ARN, and takes payload as the event', async () => {
    await expect(
      engine.runTask(request('FC:InvokeFunction', { resourceArn: 'acs:fc:cn-shanghai:123456:functions/greet/LATEST', payload: { name: 'Bo' } })),
    ).resolves.toMatchObject({ Body: { greeting: 'Hello, Bo!' } });
    await expect(
      engine.runTask(request('FC:InvokeFunction', { resourceArn: 'acs:fc:cn-hangzhou:1:services/demo.LATEST/functions/greet' })),
    ).resolves.toMatchObject({ Body: { greeting: 'Hello, world!' } });
  });

  it('loads a TypeScript function with a default export', async () => {
    await expect(engine.runTask(request('FC:InvokeFunction', { functionName: 'shout', body: { text: 'hi' } }))).resolves.toEqual({
      StatusCode: 200,
      Body: { text: 'HI' },
    });
  });

  it('a thrown error with errorType becomes that error name', async () => {
    const err = await rejectionOf(engine.runTask(request('FC:InvokeFunction', { functionName: 'fail', body: { x: 1 } })));
    expect(err).toBeInstanceOf(FlowrunError);
    expect([err.code, err.message, err.retryable]).toEqual(['ValidationError', 'invalid input: {"x":1}', false]);
  });

  it('an unknown function → FC.FunctionNotFound; a bad name or ARN → FC.InvalidArgument', async () => {
    const missing = await rejectionOf(engine.runTask(request('FC:InvokeFunction', { functionName: 'nope' })));
    expect([missing.code, missing.retryable]).toEqual(['FC.FunctionNotFound', false]);
    expect(missing.message).toContain('nope.js, nope.mjs, nope.ts');
    const bad: JsonObject[] = [{ functionName: '../engine/types' }, { functionName: '' }, { resourceArn: 'acs:fc:x:y:layers/z' }, { functionName: 'greet', invocationType: 'Async' }, {}];
    for (const parameters of bad) {
      const err = await rejectionOf(engine.runTask(request('FC:InvokeFunction', parameters)));
      expect([err.code, err.retryable]).toEqual(['FC.InvalidArgument', false]);
    }
  });

  it('sleepy.js resolves after its own timer', async () => {
    await expect(engine.runTask(request('FC:InvokeFunction', { functionName: 'sleepy', body: { ms: 0 } }))).resolves.toEqual({
      StatusCode: 200,
      Body: { slept: 0 },
    });
  });

  it('a Task timeout aborts the function signal (slow.js sees it) and rejects with FnF.Timeout', async () => {
    const clock = new ManualClock();
    const timed = createTaskEngine({ clock, functionsDir });
    const slow = await timed.functions?.load('slow');
    const observed = slow?.module.observed as { started: number; aborted: number };
    const before = { ...observed };
    const task = rejectionOf(timed.runTask(request('FC:InvokeFunction', { functionName: 'slow' }, { timeoutMs: 3_000 })));
    await flushMicrotasks();
    expect(observed.started).toBe(before.started + 1);
    expect(observed.aborted).toBe(before.aborted);
    await clock.advance(3_000);
    const err = await task;
    expect([err.code, err.retryable]).toEqual([ErrorNames.Timeout, true]);
    expect(observed.aborted).toBe(before.aborted + 1);
  });

  it('passes deadline and requestId in the function context', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'flowrun-fc-'));
    try {
      await writeFile(path.join(dir, 'ctx.mjs'), 'export default (event, context) => ({ event, deadline: context.deadline ?? null, id: typeof context.requestId, aborted: context.signal.aborted });\n');
      const clock = new ManualClock(1_000_000);
      const e = createTaskEngine({ clock, functionsDir: dir });
      await expect(e.runTask(request('FC:InvokeFunction', { functionName: 'ctx', body: [1] }, { timeoutMs: 500 }))).resolves.toEqual({
        StatusCode: 200,
        Body: { event: [1], deadline: 1_000_500, id: 'string', aborted: false },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('functionNameFromArn', () => {
  it('parses FC 3.0 and FC 2.0 ARNs', () => {
    expect(functionNameFromArn('acs:fc:cn-shanghai:123:functions/my-fn')).toBe('my-fn');
    expect(functionNameFromArn('acs:fc:cn-shanghai:123:functions/my-fn/prod')).toBe('my-fn');
    expect(functionNameFromArn('acs:fc:cn-shanghai:123:services/svc.LATEST/functions/f_1')).toBe('f_1');
    expect(functionNameFromArn('acs:fc:cn-shanghai:123:services/svc/functions/f_1')).toBe('f_1');
    expect(functionNameFromArn('acs:oss:cn-shanghai:123:functions/f')).toBeUndefined();
    expect(functionNameFromArn('acs:fc:cn-shanghai:123:functions/a/b/c')).toBeUndefined();
  });
});

describe('FunctionLoader', () => {
  let dir: string;
  let loader: FunctionLoader | undefined;
  afterEach(async () => {
    loader?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function writeFn(name: string, text: string, mtimeSeconds: number): Promise<void> {
    const file = path.join(dir, name);
    await writeFile(file, text);
    await utimes(file, mtimeSeconds, mtimeSeconds);
  }

  it('caches modules and reloads a changed file after invalidate()', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flowrun-fn-'));
    loader = createFunctionLoader(dir);
    await writeFn('counter.mjs', 'export const handler = () => 1;\n', 1_000);
    const first = await loader.load('counter');
    expect(first.handler(null, {} as never)).toBe(1);
    expect(await loader.load('counter')).toBe(first);
    await writeFn('counter.mjs', 'export const handler = () => 2;\n', 2_000);
    expect(await loader.load('counter')).toBe(first); // still cached
    loader.invalidate('counter');
    const second = await loader.load('counter');
    expect(second).not.toBe(first);
    expect(second.handler(null, {} as never)).toBe(2);
  });

  it('reports a module without a handler and one that fails to import', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flowrun-fn-'));
    loader = createFunctionLoader(dir);
    await writeFn('nohandler.js', 'export const x = 1;\n', 1_000);
    await writeFn('broken.mjs', 'export const handler = (;\n', 1_000);
    await expect(loader.load('nohandler')).rejects.toMatchObject({ code: 'FC.FunctionLoadFailed', message: expect.stringContaining('exports no handler') });
    await expect(loader.load('broken')).rejects.toMatchObject({ code: 'FC.FunctionLoadFailed' });
    await expect(loader.load('../x')).rejects.toMatchObject({ code: 'FC.InvalidArgument' });
  });

  it('watch() invalidates a function when its file changes', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flowrun-fn-'));
    loader = createFunctionLoader(dir);
    await writeFn('w.mjs', 'export const handler = () => "old";\n', 1_000);
    expect((await loader.load('w')).handler(null, {} as never)).toBe('old');
    const changes: (string | undefined)[] = [];
    let notify: () => void = () => undefined;
    const changed = new Promise<void>((resolve) => (notify = resolve));
    const handle = loader.watch({
      onChange: (name) => {
        changes.push(name);
        if (name === 'w') notify();
      },
    });
    await writeFn('w.mjs', 'export const handler = () => "new";\n', 2_000);
    await changed;
    expect(changes).toContain('w');
    expect((await loader.load('w')).handler(null, {} as never)).toBe('new');
    handle.close();
  });
});

describe('FC:InvokeFunction isolation', () => {
  it('gives the function its own copy of the event, so mutating it cannot change the execution state', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'flowrun-fc-'));
    try {
      await writeFile(path.join(dir, 'mutate.js'), 'export function handler(event) { event.items.push("added"); event.name = "changed"; return event; }\n');
      const engine = createTaskEngine({ functionsDir: dir });
      const body: JsonObject = { name: 'kept', items: ['a'] };
      const out = await engine.runTask(request('FC:InvokeFunction', { functionName: 'mutate', body }));
      expect(out).toEqual({ StatusCode: 200, Body: { name: 'changed', items: ['a', 'added'] } });
      expect(body).toEqual({ name: 'kept', items: ['a'] });
      await engine.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('FC:InvokeFunction handler shapes', () => {
  it('takes a plain return value, a promise, a foreign thenable, a sync throw and a rejection alike', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'flowrun-fc-'));
    const fns: Record<string, string> = {
      plain: 'export function handler(event) { return { got: event.n }; }',
      later: 'export function handler(event) { return new Promise((r) => setTimeout(() => r({ got: event.n }), 0)); }',
      thenable: 'export function handler(event) { return { then(ok) { ok({ got: event.n }); } }; }',
      nothing: 'export function handler() {}',
      throws: 'export function handler() { const e = new Error("bad input"); e.errorType = "ValidationError"; throw e; }',
      rejects: 'export async function handler() { throw new TypeError("nope"); }',
      bigint: 'export function handler() { return { n: 1n }; }',
      asyncBigint: 'export async function handler() { return { n: 1n }; }',
    };
    try {
      for (const [name, source] of Object.entries(fns)) await writeFile(path.join(dir, `${name}.mjs`), `${source}\n`);
      const engine = createTaskEngine({ functionsDir: dir });
      const run = (functionName: string): Promise<unknown> => engine.runTask(request('FC:InvokeFunction', { functionName, body: { n: 7 } }));
      for (const name of ['plain', 'later', 'thenable']) await expect(run(name)).resolves.toEqual({ StatusCode: 200, Body: { got: 7 } });
      // twice: the first call loads the module, the second finds it cached (another code path)
      for (let i = 0; i < 2; i++) {
        await expect(run('nothing')).resolves.toEqual({ StatusCode: 200, Body: null });
        expect(await rejectionOf(run('throws'))).toMatchObject({ code: 'ValidationError', message: 'bad input', retryable: false });
        expect(await rejectionOf(run('rejects'))).toMatchObject({ code: 'TypeError', message: 'nope' });
        expect(await rejectionOf(run('bigint'))).toMatchObject({ code: 'FC.FunctionError', message: expect.stringContaining('not JSON') });
        expect(await rejectionOf(run('asyncBigint'))).toMatchObject({ code: 'FC.FunctionError', message: expect.stringContaining('not JSON') });
      }
      await engine.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
