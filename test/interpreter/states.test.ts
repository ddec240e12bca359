import { describe, expect, it } from 'vitest';
import { runExecution } from '../../src/interpreter/run.js';
import { ManualClock } from '../../src/shared/clock.js';
import { actions, flow } from './helpers.js';

const none = actions({});

describe('Pass', () => {
  it('forwards its input when it has no constructors', async () => {
    const f = flow(`
Type: StateMachine
Name: p
SpecVersion: v1
StartAt: A
States:
  - Type: Pass
    Name: A
    End: true
`);
    const r = await runExecution(f, { a: 1 }, { tasks: none });
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ a: 1 });
  });

  it('InputConstructor replaces the input entirely and OutputConstructor shapes the output', async () => {
    const f = flow(`
Type: StateMachine
Name: p
SpecVersion: v1
StartAt: A
States:
  - Type: Pass
    Name: A
    InputConstructor:
      FieldA: 123
      b.$: $Input.b
    OutputConstructor:
      sum.$: $Output.FieldA + $Input.b
      exec.$: $Context.Execution.Name
      state.$: $Context.Current.Name
    End: true
`);
    const r = await runExecution(f, { requestId: 'abc', b: 7 }, { tasks: none, executionName: 'e1' });
    expect(r.output).toEqual({ sum: 130, exec: 'e1', state: 'A' });
  });

  it('chains states through Next, each receiving the previous output', async () => {
    const f = flow(`
Type: StateMachine
Name: p
SpecVersion: v1
StartAt: A
States:
  - Type: Pass
    Name: A
    OutputConstructor: { n.$: $Input.n + 1 }
    Next: B
  - Type: Pass
    Name: B
    OutputConstructor: { n.$: $Input.n * 10, first.$: $Context.Execution.Input.n }
    End: true
`);
    const r = await runExecution(f, { n: 1 }, { tasks: none });
    expect(r.output).toEqual({ n: 20, first: 1 });
  });
});

describe('Task', () => {
  it('calls the action with resolved Parameters and returns its result', async () => {
    const f = flow(`
Type: StateMachine
Name: t
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: Mock
    Timeout: "30"
    Parameters:
      result:
        who.$: $Input.name
        fixed: yes
    End: true
`);
    const tasks = actions({ Mock: (p) => (p as { result: Record<string, string> }).result });
    const r = await runExecution(f, { name: 'ann' }, { tasks, history: true });
    expect(r.output).toEqual({ who: 'ann', fixed: 'yes' });
    expect(tasks.requests[0]?.timeoutMs).toBe(30_000);
    expect(tasks.requests[0]?.context.stateName).toBe('Call');
    expect(r.events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'StepEntered',
      'TaskScheduled',
      'TaskSucceeded',
      'StepSucceeded',
      'ExecutionSucceeded',
    ]);
  });

  it('fails with FnF.Runtime when the task result is not an object', async () => {
    const f = flow(`
Type: StateMachine
Name: t
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: Mock
    End: true
`);
    const r = await runExecution(f, {}, { tasks: actions({ Mock: () => [1, 2] }) });
    expect(r.status).toBe('Failed');
    expect(r.error?.Code).toBe('FnF.Runtime');
    expect(r.error?.Detail).toContain('must be a JSON object');
  });
});

describe('Wait', () => {
  const waitFlow = flow(`
Type: StateMachine
Name: w
SpecVersion: v1
StartAt: W
States:
  - Type: Wait
    Name: W
    Seconds.$: $Input.s
    End: true
`);

  it('waits on the injected clock, not real time', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    let done = false;
    const p = runExecution(waitFlow, { s: 10 }, { tasks: none, clock }).then((r) => {
      done = true;
      return r;
    });
    await clock.advance(9_999);
    expect(done).toBe(false);
    await clock.advance(1);
    const r = await p;
    expect(r.status).toBe('Succeeded');
    expect(r.output).toEqual({ s: 10 });
    expect(r.stoppedAt - t0).toBe(10_000);
  });

  it('refuses a dynamic Seconds outside the express range', async () => {
    const r = await runExecution(waitFlow, { s: 21 }, { tasks: none, clock: new ManualClock() });
    expect(r.status).toBe('Failed');
    expect(r.error?.Code).toBe('FnF.Runtime');
    expect(r.error?.Detail).toContain('from 1 to 20');
  });
});

describe('Choice', () => {
  const f = flow(`
Type: StateMachine
Name: c
SpecVersion: v1
StartAt: Pick
States:
  - Type: Choice
    Name: Pick
    Branches:
      - Condition: $Input.n > 10 && $Input.kind == "big"
        Next: Big
      - Condition: $Input.n > 10
        Next: Medium
    Default: Small
  - Type: Pass
    Name: Big
    OutputConstructor: { size: big }
    End: true
  - Type: Pass
    Name: Medium
    OutputConstructor: { size: medium }
    End: true
  - Type: Pass
    Name: Small
    End: true
`);

  it('takes the first true branch, in order', async () => {
    expect((await runExecution(f, { n: 11, kind: 'big' }, { tasks: none })).output).toEqual({ size: 'big' });
    expect((await runExecution(f, { n: 11, kind: 'x' }, { tasks: none })).output).toEqual({ size: 'medium' });
  });

  it('takes Default when nothing matches and passes its input on', async () => {
    expect((await runExecution(f, { n: 1 }, { tasks: none })).output).toEqual({ n: 1 });
  });
});

describe('Succeed and Fail', () => {
  it('Succeed ends only the current scope (a Parallel branch)', async () => {
    const f = flow(`
Type: StateMachine
Name: s
SpecVersion: v1
StartAt: Par
States:
  - Type: Parallel
    Name: Par
    Branches:
      - StartAt: Done
        States:
          - Type: Succeed
            Name: Done
            OutputConstructor: { branch: 0 }
      - StartAt: Other
        States:
          - Type: Pass
            Name: Other
            OutputConstructor: { branch: 1 }
            End: true
    Next: After
  - Type: Pass
    Name: After
    OutputConstructor: { after.$: $Input.Branch0.branch }
    End: true
`);
    const r = await runExecution(f, {}, { tasks: none });
    expect(r.output).toEqual({ after: 0 });
  });

  it('Fail fails the execution with its Code and Detail', async () => {
    const f = flow(`
Type: StateMachine
Name: f
SpecVersion: v1
StartAt: Boom
States:
  - Type: Fail
    Name: Boom
    Code: Order.Invalid
    Detail: the order has no items
`);
    const r = await runExecution(f, {}, { tasks: none });
    expect(r.status).toBe('Failed');
    expect(r.error).toEqual({ Code: 'Order.Invalid', Detail: 'the order has no items' });
  });
});
