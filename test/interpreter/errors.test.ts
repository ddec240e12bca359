import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runExecution } from '../../src/interpreter/run.js';
import { ManualClock } from '../../src/shared/clock.js';
import { FlowrunError } from '../../src/shared/errors.js';
import type { Json } from '../../src/shared/json.js';
import { actions, flaky, flow, mapOfOneTask } from './helpers.js';

const retryFlow = (
  retry: string,
  catchRules = `    Catch:
      - Errors: [Never.Happens]
        Next: Caught`,
): string => `
Type: StateMachine
Name: r
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: Test:Call
    Retry:
${retry}
${catchRules}
    End: true
  - Type: Pass
    Name: Caught
    End: true
`;

describe('Retry', () => {
  it('retries with back-off on the injected clock, then succeeds', async () => {
    const f = flow(
      retryFlow(`      - Errors: [HTTP.503]
        MaxAttempts: 3
        IntervalSeconds: 2
        BackoffRate: 3`),
    );
    const clock = new ManualClock();
    const tasks = actions({ Call: flaky('HTTP.503', 2, { ok: true }) });
    const run = runExecution(f, {}, { tasks, clock, history: true });
    await clock.advance(1_999);
    expect(tasks.requests).toHaveLength(1);
    await clock.advance(1);
    expect(tasks.requests).toHaveLength(2);
    await clock.advance(5_999);
    expect(tasks.requests).toHaveLength(2);
    await clock.advance(1);
    const r = await run;
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ ok: true });
    expect(tasks.requests.map((q) => q.context.retryCount)).toEqual([0, 1, 2]);
    const retries = r.events.filter((e) => e.type === 'StepRetrying').map((e) => e.detail?.['DelayMs']);
    expect(retries).toEqual([2000, 6000]);
  });

  it('caps delays at MaxBackoffSeconds and exposes $Context.Current.RetryCount', async () => {
    const f = flow(`
Type: StateMachine
Name: r
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: Test:Call
    Parameters: { attempt.$: $Context.Current.RetryCount }
    Retry:
      - Errors: [FnF.ALL]
        MaxAttempts: 3
        IntervalSeconds: 1
        BackoffRate: 10
        MaxBackoffSeconds: 5
    End: true
`);
    const clock = new ManualClock();
    const tasks = actions({ Call: flaky('Any', 3, { done: true }) });
    const run = runExecution(f, {}, { tasks, clock, history: true });
    await clock.runAll();
    const r = await run;
    expect(r.output).toEqual({ done: true });
    expect(r.events.filter((e) => e.type === 'StepRetrying').map((e) => e.detail?.['DelayMs'])).toEqual([1000, 5000, 5000]);
    expect(tasks.requests.map((q) => (q.parameters as { attempt: number }).attempt)).toEqual([0, 1, 2, 3]);
  });

  it('uses the first matching rule; when it is exhausted, Catch decides', async () => {
    const f = flow(
      retryFlow(
        `      - Errors: [E.One]
        MaxAttempts: 1
        IntervalSeconds: 1
      - Errors: [FnF.ALL]
        MaxAttempts: 5
        IntervalSeconds: 1`,
        `    Catch:
      - Errors: [E.Two]
        Next: Caught
      - Errors: [FnF.ALL]
        Next: Caught
        OutputConstructor:
          code.$: $Context.Current.Error.Code
          was.$: $Input.x`,
      ),
    );
    const clock = new ManualClock();
    const tasks = actions({ Call: flaky('E.One', 100, {}) });
    const run = runExecution(f, { x: 1 }, { tasks, clock });
    await clock.runAll();
    const r = await run;
    expect(tasks.requests).toHaveLength(2);
    expect(r.output).toEqual({ code: 'E.One', was: 1 });
  });

  it('does not retry errors no rule names', async () => {
    const f = flow(retryFlow(`      - Errors: [HTTP.503]
        MaxAttempts: 3
        IntervalSeconds: 1`));
    const tasks = actions({ Call: flaky('HTTP.404', 100, {}) });
    const r = await runExecution(f, {}, { tasks, clock: new ManualClock() });
    expect(tasks.requests).toHaveLength(1);
    expect(r.status).toBe('Failed');
    expect(r.error?.Code).toBe('HTTP.404');
  });
});

describe('Catch', () => {
  it('passes {Code, Detail} to Next when the catcher has no OutputConstructor', async () => {
    const f = flow(`
Type: StateMachine
Name: c
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: Test:Call
    Catch:
      - Errors: [FnF.ALL]
        Next: Handle
    End: true
  - Type: Pass
    Name: Handle
    End: true
`);
    const tasks = actions({
      Call: () => {
        throw new FlowrunError('Payment.Declined', 'card declined');
      },
    });
    const r = await runExecution(f, {}, { tasks });
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ Code: 'Payment.Declined', Detail: 'card declined' });
  });

  it('accepts the legacy OnErrors spelling for retry and catch', async () => {
    const f = flow(`
Type: StateMachine
Name: legacy
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: Test:Call
    OnErrors:
      - Errors: [Flaky]
        Retry: { MaxAttempts: 2, FixedBackoff: 1, Multiplier: 2 }
      - Errors: [FnF.ALL]
        Next: Handle
        OutputConstructor: { handled: true }
    End: true
  - Type: Pass
    Name: Handle
    End: true
`);
    const clock = new ManualClock();
    const tasks = actions({ Call: flaky('Flaky', 5, {}) });
    const run = runExecution(f, {}, { tasks, clock });
    await clock.runAll();
    const r = await run;
    expect(tasks.requests).toHaveLength(3);
    expect(r.output).toEqual({ handled: true });
  });
});

describe('Globals', () => {
  it('GlobalConstructor sees the raw $Output; OutputConstructor sees $Global before the update', async () => {
    const f = flow(`
Type: StateMachine
Name: g
SpecVersion: v1
StartAt: A
States:
  - Type: Task
    Name: A
    Action: Test:Call
    OutputConstructor:
      before.$: $Global.count
      shaped: true
    GlobalConstructor:
      count.$: $Output.n
    Next: B
  - Type: Pass
    Name: B
    OutputConstructor:
      after.$: $Global.count
      input.$: $Input
    End: true
`);
    const r = await runExecution(f, {}, { tasks: actions({ Call: () => ({ n: 42 }) }) });
    expect(r.output).toEqual({ after: 42, input: { before: null, shaped: true } });
  });
});

describe('limits', () => {
  it('fails a state whose output passes 64 KiB with FnF.DataLimitExceeded', async () => {
    const f = flow(`
Type: StateMachine
Name: big
SpecVersion: v1
StartAt: A
States:
  - Type: Task
    Name: A
    Action: Test:Big
    End: true
`);
    const r = await runExecution(f, {}, { tasks: actions({ Big: () => ({ s: 'x'.repeat(70_000) }) }) });
    expect(r.status).toBe('Failed');
    expect(r.error?.Code).toBe('FnF.DataLimitExceeded');
  });

  it('measures a Map output exactly: up to 64 KiB it fits, past it fails with FnF.DataLimitExceeded', async () => {
    const f = mapOfOneTask('Echo', { parameters: { 't.$': '$Input.t' } });
    const tasks = actions({ Echo: (p) => p });
    const run = (t: string) => runExecution(f, { items: Array.from({ length: 1000 }, () => ({ t })) }, { tasks });
    // {"Items":[{"t":"<t>"},...]}: 12 + 1,000 × (bytes of t + 8) + 999 commas; 56 bytes → 65,011, 57 → 66,011
    const cases: [string, string][] = [
      ['x'.repeat(40), 'Succeeded'],
      ['x'.repeat(56), 'Succeeded'],
      ['x'.repeat(57), 'Failed'],
      ['é'.repeat(10) + 'x'.repeat(36), 'Succeeded'], // 56 bytes in UTF-8
      ['é'.repeat(11) + 'x'.repeat(35), 'Failed'], // 57 bytes
      ['"'.repeat(28), 'Succeeded'], // escaped: 56 bytes
      ['\n'.repeat(28) + '\\', 'Failed'], // 58 bytes
    ];
    for (const [t, status] of cases) {
      const r = await run(t);
      expect([t, r.status]).toEqual([t, status]);
      if (status === 'Failed') expect(r.error?.Code).toBe('FnF.DataLimitExceeded');
      else expect(Buffer.byteLength(JSON.stringify(r.output))).toBeLessThanOrEqual(64 * 1024);
    }
  });

  it('decides a Map output near 64 KiB exactly, from the sizes of its results as they came in (random results)', async () => {
    const f = mapOfOneTask('Result', { concurrency: 7, parameters: { 'i.$': '$Input.Item' } });
    // the items are indexes (a small input); item i's result is results[i]
    let results: Json[] = [];
    const tasks = actions({ Result: (p) => results[(p as { i: number }).i] as Json });
    // random results (text that escapes or leaves ASCII, numbers, nesting); the case is the
    // longest run of them whose output fits in 64 KiB, then one more (just over)
    // (printable ASCII other than quote and backslash, and integers, are bounded within a few bytes per result: their bound
    // decides close to the limit; other text is bounded loosely and the output is measured)
    const ascii: fc.Arbitrary<Json> = fc
      .tuple(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).filter((c) => c !== 0x22 && c !== 0x5c).map((c) => String.fromCharCode(c)), minLength: 50, maxLength: 200 }), fc.integer())
      .map(([a, n]) => ({ a, n, x: { ok: true } }));
    const result: fc.Arbitrary<Json> = fc.oneof(
      ascii,
      fc.string({ unit: 'binary', minLength: 20, maxLength: 80 }).map((t) => ({ t })),
      fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ minLength: 20, maxLength: 80 })).map(([d, t]) => ({ d, x: { t } })),
    );
    const bytesOf = (v: Json): number => Buffer.byteLength(JSON.stringify(v), 'utf8');
    let cases = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.array(ascii, { minLength: 3000, maxLength: 3000 }), fc.array(result, { minLength: 3000, maxLength: 3000 })), async (pool) => {
        let size = '{"Items":[]}'.length - 1;
        let k = 0;
        while (k < pool.length && size + bytesOf(pool[k] as Json) + 1 <= 64 * 1024) size += bytesOf(pool[k++] as Json) + 1;
        if (k === pool.length) return; // the pool never reaches the limit
        cases++;
        for (const [n, status] of [
          [k, 'Succeeded'],
          [k + 1, 'Failed'],
        ] as const) {
          results = pool.slice(0, n);
          expect(bytesOf({ Items: results }) <= 64 * 1024).toBe(status === 'Succeeded');
          const r = await runExecution(f, { items: results.map((_, i) => i) }, { tasks });
          expect(r.status).toBe(status);
          if (status === 'Failed') expect(r.error?.Code).toBe('FnF.DataLimitExceeded');
          else expect(r.output).toEqual({ Items: results });
        }
      }),
      { numRuns: 25 },
    );
    expect(cases).toBeGreaterThan(20);
  });

  it('ends a Choice loop that never ends at the 5,000-event cap', async () => {
    const f = flow(`
Type: StateMachine
Name: loop
SpecVersion: v1
StartAt: Again
States:
  - Type: Choice
    Name: Again
    Branches:
      - Condition: "true"
        Next: Spin
    Default: Spin
  - Type: Pass
    Name: Spin
    Next: Again
`);
    const r = await runExecution(f, {}, { tasks: actions({}) });
    expect(r.status).toBe('Failed');
    expect(r.error?.Code).toBe('FnF.EventLimitExceeded');
  });

  it('counts state transitions, not bookkeeping events, against the cap', async () => {
    const f = flow(`
Type: StateMachine
Name: wide
SpecVersion: v1
StartAt: M
States:
  - Type: Map
    Name: M
    ItemsPath: $Input.items
    Processor:
      StartAt: P
      States:
        - Type: Pass
          Name: P
          End: true
    End: true
`);
    const ok = await runExecution(f, { items: Array.from({ length: 2_000 }, (_, i) => i) }, { tasks: actions({}) });
    expect(ok.status).toBe('Succeeded');
    expect((ok.output?.['Items'] as unknown[]).length).toBe(2_000);
    const tooMany = await runExecution(f, { items: Array.from({ length: 6_000 }, (_, i) => i) }, { tasks: actions({}) });
    expect(tooMany.status).toBe('Failed');
    expect(tooMany.error?.Code).toBe('FnF.EventLimitExceeded');
  });

  it('times the execution out on the injected clock and aborts the running task', async () => {
    const f = flow(`
Type: StateMachine
Name: slow
SpecVersion: v1
StartAt: A
States:
  - Type: Task
    Name: A
    Action: Test:Hang
    End: true
`);
    const clock = new ManualClock();
    let signal: AbortSignal | undefined;
    const tasks = actions({
      Hang: (_p, req) => {
        signal = req.signal;
        return new Promise(() => {});
      },
    });
    const run = runExecution(f, {}, { tasks, clock });
    await clock.advance(5 * 60 * 1000);
    const r = await run;
    expect(r.status).toBe('TimedOut');
    expect(r.error?.Code).toBe('FnF.Timeout');
    expect(signal?.aborted).toBe(true);
  });

  it('stops when the caller aborts', async () => {
    const f = flow(`
Type: StateMachine
Name: slow
SpecVersion: v1
StartAt: A
States:
  - Type: Task
    Name: A
    Action: Test:Hang
    End: true
`);
    const controller = new AbortController();
    const run = runExecution(f, {}, { tasks: actions({ Hang: () => new Promise(() => {}) }), signal: controller.signal, clock: new ManualClock() });
    controller.abort(new Error('client went away'));
    const r = await run;
    expect(r.status).toBe('Stopped');
    expect(r.error).toEqual({ Code: 'FnF.Cancelled', Detail: 'client went away' });
  });
});

describe('retryDelayMs', () => {
  it('multiplies by BackoffRate, adds a linear step, and caps at the maximum', async () => {
    const { retryDelayMs } = await import('../../src/interpreter/step.js');
    const rule = { errors: [], matchAll: true, maxAttempts: 5, intervalMs: 1000, backoffRate: 2, maxDelayMs: 10_000 };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(rule, n))).toEqual([1000, 2000, 4000, 8000, 10_000]);
    const linear = { ...rule, backoffRate: 1, linearIncrementMs: 500, maxDelayMs: undefined };
    expect([1, 2, 3].map((n) => retryDelayMs(linear, n))).toEqual([1000, 1500, 2000]);
  });
});
