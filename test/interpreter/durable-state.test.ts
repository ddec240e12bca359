import { describe, expect, it } from 'vitest';
import { start, step } from '../../src/interpreter/step.js';
import type { Command, ExecutionState, StepInput } from '../../src/interpreter/types.js';
import type { Json } from '../../src/shared/json.js';
import { flow, mapOfOneTask } from './helpers.js';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const f = flow(`
Type: StateMachine
Name: durable
SpecVersion: v1
StartAt: M
States:
  - Type: Map
    Name: M
    ItemsPath: $Input.items
    MaxConcurrency: 2
    Processor:
      StartAt: P
      States:
        - Type: Parallel
          Name: P
          Branches:
            - StartAt: T
              States:
                - Type: Task
                  Name: T
                  Action: Test:Double
                  Parameters: { n.$: $Input.n }
                  Retry:
                    - Errors: [Flaky]
                      MaxAttempts: 1
                      IntervalSeconds: 1
                  End: true
            - StartAt: W
              States:
                - Type: Wait
                  Name: W
                  Seconds: 2
                  End: true
          End: true
    Next: Done
  - Type: Pass
    Name: Done
    OutputConstructor: { items.$: $Input.Items, g.$: $Global }
    End: true
`);

/**
 * Drives an execution by hand: the state goes through JSON text between every step (as a durable
 * runner's checkpoint would) and is frozen, so any mutation of a previous state throws.
 */
function drive(roundTrip: boolean): { state: ExecutionState; steps: number } {
  let now = 1_000_000;
  const first = start({ flow: f, input: { items: [{ n: 1 }, { n: 2 }, { n: 3 }] }, executionName: 'e', now, timeoutMs: 60_000 });
  let state = first.state;
  const queue: Command[] = [...first.commands];
  const flakyOnce = new Set<number>([1]);
  let steps = 0;
  while (state.status === 'Running') {
    const c = queue.shift();
    if (!c) throw new Error('stuck');
    let input: StepInput | undefined;
    if (c.type === 'RunTask') {
      const n = (c.parameters as { n: number }).n;
      if (flakyOnce.delete(n)) input = { type: 'TaskFailed', path: c.path, id: c.id, error: { Code: 'Flaky', Detail: 'once' } };
      else input = { type: 'TaskSucceeded', path: c.path, id: c.id, output: { r: n * 2 } as Json };
    } else if (c.type === 'StartTimer') {
      now = Math.max(now, c.at);
      input = { type: 'TimerFired', path: c.path, id: c.id };
    }
    if (!input) continue;
    const before = roundTrip ? (JSON.parse(JSON.stringify(state)) as ExecutionState) : state;
    deepFreeze(before);
    const r = step(f, before, input, now);
    steps++;
    state = r.state;
    queue.push(...r.commands);
  }
  return { state, steps };
}

describe('execution state', () => {
  it('survives JSON round trips between steps and gives the same result as in memory', () => {
    const a = drive(false);
    const b = drive(true);
    expect(a.state.status).toBe('Succeeded');
    expect(b.state).toEqual(a.state);
    expect(a.state.output).toEqual({
      items: [1, 2, 3].map((n) => ({ Branch0: { r: n * 2 }, Branch1: { n } })),
      g: {},
    });
    expect(a.steps).toBeGreaterThan(6);
  });

  it('ignores inputs for tasks that are no longer awaited', () => {
    const r = start({ flow: f, input: { items: [{ n: 5 }] }, executionName: 'e', now: 0, timeoutMs: 60_000 });
    const task = r.commands.find((c) => c.type === 'RunTask');
    expect(task).toBeDefined();
    if (task?.type !== 'RunTask') return;
    const stale = step(f, r.state, { type: 'TaskSucceeded', path: task.path, id: task.id + 100, output: {} }, 1);
    expect(stale.state).toBe(r.state);
    expect(stale.commands).toEqual([]);
  });
});

describe('Map output size, for states saved before result sizes were kept', () => {
  const small = mapOfOneTask('Any');

  /** Runs two items to the end, each task answering `result`; `legacy` drops `resultBytes` from the saved state first. */
  function finish(result: Json, legacy: boolean): ExecutionState {
    const first = start({ flow: small, input: { items: [1, 2] }, executionName: 'e', now: 0, timeoutMs: 60_000 });
    const saved = JSON.parse(JSON.stringify(first.state)) as ExecutionState;
    expect(saved.root.resultBytes).toBe(0);
    if (legacy) delete saved.root.resultBytes;
    let state = saved;
    for (const c of first.commands) {
      if (c.type !== 'RunTask') continue;
      state = step(small, state, { type: 'TaskSucceeded', path: c.path, id: c.id, output: result }, 1).state;
    }
    return state;
  }

  it('measures the output the old way, and as exactly', () => {
    const fits = { t: 'x'.repeat(30_000) };
    const over = { t: 'x'.repeat(33_000) };
    for (const legacy of [false, true]) {
      expect(finish(fits, legacy)).toMatchObject({ status: 'Succeeded', output: { Items: [fits, fits] } });
      expect(finish(over, legacy)).toMatchObject({ status: 'Failed', error: { Code: 'FnF.DataLimitExceeded' } });
    }
  });
});
