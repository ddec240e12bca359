import { describe, expect, it } from 'vitest';
import { runExecution } from '../../src/interpreter/run.js';
import { FlowrunError } from '../../src/shared/errors.js';
import type { Json } from '../../src/shared/json.js';
import { flushMicrotasks } from '../../src/shared/clock.js';
import { actions, deferred, flow } from './helpers.js';
import type { Deferred } from './helpers.js';

const none = actions({});

describe('Parallel', () => {
  it('runs every branch on the same input and outputs {BranchN: ...}', async () => {
    const f = flow(`
Type: StateMachine
Name: par
SpecVersion: v1
StartAt: P
States:
  - Type: Parallel
    Name: P
    Branches:
      - StartAt: A
        States:
          - Type: Pass
            Name: A
            InputConstructor: { FieldA: 123 }
            End: true
      - StartAt: B
        States:
          - Type: Task
            Name: B
            Action: Mock
            Parameters: { v.$: $Input.v }
            End: true
    End: true
`);
    const r = await runExecution(f, { v: 321 }, { tasks: actions({ Mock: (p) => ({ FieldA: (p as { v: number }).v }) }) });
    expect(r.output).toEqual({ Branch0: { FieldA: 123 }, Branch1: { FieldA: 321 } });
  });

  it('fails when a branch fails, cancels the other branches, and can be caught', async () => {
    const f = flow(`
Type: StateMachine
Name: par
SpecVersion: v1
StartAt: P
States:
  - Type: Parallel
    Name: P
    Branches:
      - StartAt: Slow
        States:
          - Type: Task
            Name: Slow
            Action: Test:Slow
            End: true
      - StartAt: Bad
        States:
          - Type: Task
            Name: Bad
            Action: Test:Bad
            End: true
    Catch:
      - Errors: [Custom.Bad]
        Next: Recover
    End: true
  - Type: Pass
    Name: Recover
    End: true
`);
    let slowSignal: AbortSignal | undefined;
    const bad = deferred<Json>();
    const tasks = actions({
      Slow: (_p, req) => {
        slowSignal = req.signal;
        return new Promise<Json>(() => {});
      },
      Bad: () => bad.promise,
    });
    const run = runExecution(f, {}, { tasks });
    await flushMicrotasks();
    bad.reject(new FlowrunError('Custom.Bad', 'no good'));
    const r = await run;
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ Code: 'Custom.Bad', Detail: 'no good' });
    expect(slowSignal?.aborted).toBe(true);
  });
});

describe('Map', () => {
  const mapFlow = (concurrency: number): string => `
Type: StateMachine
Name: map
SpecVersion: v1
StartAt: M
States:
  - Type: Map
    Name: M
    ItemsPath: $Input.items
    MaxConcurrency: ${concurrency}
    Processor:
      StartAt: Work
      States:
        - Type: Task
          Name: Work
          Action: Test:Work
          Parameters: { n.$: $Input.n }
          End: true
    End: true
`;

  it('runs the processor per item, keeps item order, and never exceeds MaxConcurrency', async () => {
    const f = flow(mapFlow(3));
    let inFlight = 0;
    let maxInFlight = 0;
    const waiting: Array<{ d: Deferred<Json>; n: number }> = [];
    const tasks = actions({
      Work: (p) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const d = deferred<Json>();
        waiting.push({ d, n: (p as { n: number }).n });
        return d.promise.finally(() => inFlight--);
      },
    });
    const items = Array.from({ length: 10 }, (_, i) => ({ n: i }));
    const run = runExecution(f, { items }, { tasks });
    // Finish tasks in reverse order of arrival, a few at a time.
    while (waiting.length > 0 || inFlight > 0) {
      await flushMicrotasks();
      const batch = waiting.splice(0).reverse();
      for (const w of batch) w.d.resolve({ doubled: w.n * 2 });
      if (batch.length === 0) break;
    }
    const r = await run;
    expect(maxInFlight).toBe(3);
    expect(r.output).toEqual({ Items: items.map((i) => ({ doubled: i.n * 2 })) });
  });

  it('wraps items that are not objects as {Item: value}', async () => {
    const f = flow(`
Type: StateMachine
Name: map
SpecVersion: v1
StartAt: M
States:
  - Type: Map
    Name: M
    ItemsPath: $Input.names
    MaxConcuccency: 2
    Processor:
      StartAt: Hello
      States:
        - Type: Pass
          Name: Hello
          OutputConstructor:
            greeting.$: format("hi {}", $Input.Item)
          End: true
    End: true
`);
    const r = await runExecution(f, { names: ['a', 'b'] }, { tasks: none });
    expect(r.output).toEqual({ Items: [{ greeting: 'hi a' }, { greeting: 'hi b' }] });
  });

  it('fails with FnF.Runtime when ItemsPath is not an array', async () => {
    const r = await runExecution(flow(mapFlow(2)), { items: 'nope' }, { tasks: none });
    expect(r.status).toBe('Failed');
    expect(r.error?.Code).toBe('FnF.Runtime');
    expect(r.error?.Detail).toContain('must evaluate to an array');
  });

  it('outputs {Items: []} for an empty array', async () => {
    const r = await runExecution(flow(mapFlow(2)), { items: [] }, { tasks: none });
    expect(r.output).toEqual({ Items: [] });
  });

  it('runs a Parallel nested inside a Map iteration', async () => {
    const f = flow(`
Type: StateMachine
Name: nested
SpecVersion: v1
StartAt: M
States:
  - Type: Map
    Name: M
    ItemsPath: $Input.items
    Processor:
      StartAt: P
      States:
        - Type: Parallel
          Name: P
          Branches:
            - StartAt: Twice
              States:
                - Type: Task
                  Name: Twice
                  Action: Test:Mul
                  Parameters: { a.$: $Input.n, b: 2 }
                  End: true
            - StartAt: Thrice
              States:
                - Type: Pass
                  Name: Thrice
                  OutputConstructor: { r.$: $Input.n * 3 }
                  End: true
          OutputConstructor: { two.$: $Output.Branch0.r, three.$: $Output.Branch1.r }
          End: true
    End: true
`);
    const tasks = actions({ Mul: (p) => ({ r: (p as { a: number; b: number }).a * (p as { a: number; b: number }).b }) });
    const r = await runExecution(f, { items: [{ n: 1 }, { n: 5 }] }, { tasks });
    expect(r.output).toEqual({ Items: [{ two: 2, three: 3 }, { two: 10, three: 15 }] });
  });
});
