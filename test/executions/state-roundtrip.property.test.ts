/**
 * Property: the persisted execution state is plain JSON. For random flows (chains of Pass, Choice,
 * Map, Parallel, Task with Retry, and Wait states), random inputs and random orders in which tasks
 * and timers answer, an execution whose state goes through JSON text before every step (as the
 * durable runner's checkpoints do) ends exactly like one kept in memory: same final state, same
 * history events, same commands at every step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadFlowText } from '../../src/flow/load.js';
import type { CompiledFlow } from '../../src/flow/graph.js';
import { start, step } from '../../src/interpreter/step.js';
import type { Command, ExecutionState, HistoryEvent, StepInput } from '../../src/interpreter/types.js';
import type { Json, JsonObject } from '../../src/shared/json.js';

type Shape =
  | { kind: 'pass'; add: number }
  | { kind: 'choice'; threshold: number }
  | { kind: 'task'; flaky: boolean }
  | { kind: 'wait'; seconds: number }
  | { kind: 'map'; concurrency: number; inner: 'pass' | 'task' | 'wait' }
  | { kind: 'parallel'; branches: number };

const shape: fc.Arbitrary<Shape> = fc.oneof(
  fc.record({ kind: fc.constant('pass' as const), add: fc.integer({ min: -5, max: 5 }) }),
  fc.record({ kind: fc.constant('choice' as const), threshold: fc.integer({ min: -10, max: 10 }) }),
  fc.record({ kind: fc.constant('task' as const), flaky: fc.boolean() }),
  fc.record({ kind: fc.constant('wait' as const), seconds: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('map' as const), concurrency: fc.integer({ min: 0, max: 3 }), inner: fc.constantFrom('pass' as const, 'task' as const, 'wait' as const) }),
  fc.record({ kind: fc.constant('parallel' as const), branches: fc.integer({ min: 1, max: 3 }) }),
);

const KEEP = { 'x.$': '$Input.x', 'items.$': '$Input.items' };

/** Builds an FDL document (JSON) from the shapes: a chain, each state handing {x, items} on. */
function definition(shapes: Shape[]): JsonObject {
  const states: JsonObject[] = [];
  shapes.forEach((s, i) => {
    const name = `S${i}`;
    const next: JsonObject = i === shapes.length - 1 ? { End: true } : { Next: `S${i + 1}` };
    switch (s.kind) {
      case 'pass':
        states.push({ Type: 'Pass', Name: name, OutputConstructor: { 'x.$': `$Input.x + ${s.add}`, 'items.$': '$Input.items' }, ...next });
        break;
      case 'choice':
        states.push({ Type: 'Choice', Name: name, Branches: [{ Condition: `$Input.x > ${s.threshold}`, Next: `${name}big` }], Default: `${name}small` });
        states.push({ Type: 'Pass', Name: `${name}big`, OutputConstructor: { 'x.$': '$Input.x - 1', 'items.$': '$Input.items' }, ...next });
        states.push({ Type: 'Pass', Name: `${name}small`, OutputConstructor: { 'x.$': '$Input.x + 2', 'items.$': '$Input.items' }, ...next });
        break;
      case 'task':
        states.push({
          Type: 'Task',
          Name: name,
          Action: 'Test:Double',
          Parameters: { 'x.$': '$Input.x' },
          ...(s.flaky ? { Retry: [{ Errors: ['Flaky'], MaxAttempts: 2, IntervalSeconds: 1, BackoffRate: 2 }] } : {}),
          Catch: [{ Errors: ['FnF.ALL'], Next: `${name}caught` }],
          OutputConstructor: { 'x.$': '$Output.x', 'items.$': '$Input.items' },
          ...next,
        });
        states.push({ Type: 'Pass', Name: `${name}caught`, OutputConstructor: { x: 0, items: [1] }, ...next });
        break;
      case 'wait':
        states.push({ Type: 'Wait', Name: name, Seconds: s.seconds, ...next });
        break;
      case 'map': {
        const inner: JsonObject =
          s.inner === 'pass'
            ? { Type: 'Pass', Name: 'I', OutputConstructor: { 'v.$': '$Input.Item * 2' }, End: true }
            : s.inner === 'task'
              ? { Type: 'Task', Name: 'I', Action: 'Test:Double', Parameters: { 'x.$': '$Input.Item' }, End: true }
              : { Type: 'Wait', Name: 'I', Seconds: 1, End: true };
        states.push({
          Type: 'Map',
          Name: name,
          ItemsPath: '$Input.items',
          MaxConcurrency: s.concurrency,
          Processor: { StartAt: 'I', States: [inner] },
          OutputConstructor: { 'x.$': 'length($Output.Items) + $Input.x', 'items.$': '$Input.items' },
          Catch: [{ Errors: ['FnF.ALL'], Next: `${name}caught` }],
          ...next,
        });
        states.push({ Type: 'Pass', Name: `${name}caught`, OutputConstructor: { x: 1, items: [] }, ...next });
        break;
      }
      case 'parallel':
        states.push({
          Type: 'Parallel',
          Name: name,
          Branches: Array.from({ length: s.branches }, (_v, b): JsonObject => ({
            StartAt: `B${b}`,
            States: [
              b % 2 === 0
                ? { Type: 'Task', Name: `B${b}`, Action: 'Test:Double', Parameters: { 'x.$': '$Input.x' }, End: true }
                : { Type: 'Wait', Name: `B${b}`, Seconds: b, End: true },
            ],
          })),
          OutputConstructor: KEEP,
          ...(s.branches > 1 ? { Catch: [{ Errors: ['Flaky'], Next: `${name}caught` }] } : {}),
          ...next,
        });
        if (s.branches > 1) states.push({ Type: 'Pass', Name: `${name}caught`, OutputConstructor: { x: 2, items: [3, 4] }, ...next });
        break;
    }
  });
  return { Type: 'StateMachine', Name: 'random', SpecVersion: 'v1', StartAt: 'S0', States: states };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

interface Trace {
  state: ExecutionState;
  events: HistoryEvent[];
  commands: (readonly Command[])[];
}

/**
 * Drives an execution by hand. `schedule` picks which pending task/timer answers next; `failures`
 * says, per task call, whether it fails with Flaky. With `roundTrip`, the state goes through JSON
 * text before every step and the previous state is frozen (a mutation would throw).
 */
function drive(flow: CompiledFlow, input: JsonObject, schedule: number[], failures: boolean[], roundTrip: boolean): Trace {
  let now = 1_000_000;
  const first = start({ flow, input, executionName: 'p', now, timeoutMs: 3_600_000, history: true });
  let state = first.state;
  const events = [...first.events];
  const commands: (readonly Command[])[] = [first.commands];
  const pending: Command[] = first.commands.filter((c) => c.type !== 'Cancel');
  let calls = 0;
  for (let turn = 0; state.status === 'Running'; turn++) {
    if (turn > 10_000) throw new Error('runaway');
    if (pending.length === 0) throw new Error('stuck: running with nothing pending');
    const pick = (schedule[turn % Math.max(1, schedule.length)] ?? 0) % pending.length;
    const c = pending.splice(pick, 1)[0] as Command;
    let item: StepInput;
    if (c.type === 'RunTask') {
      const fails = failures[calls++ % Math.max(1, failures.length)] ?? false;
      const x = (c.parameters as { x?: Json }).x;
      item = fails
        ? { type: 'TaskFailed', path: c.path, id: c.id, error: { Code: 'Flaky', Detail: `call ${calls}` } }
        : { type: 'TaskSucceeded', path: c.path, id: c.id, output: { x: typeof x === 'number' ? x * 2 : 0 } };
    } else if (c.type === 'StartTimer') {
      now = Math.max(now, c.at);
      item = { type: 'TimerFired', path: c.path, id: c.id };
    } else {
      continue;
    }
    now += 1;
    const before = roundTrip ? deepFreeze(JSON.parse(JSON.stringify(state)) as ExecutionState) : state;
    const r = step(flow, before, item, now, { history: true });
    state = r.state;
    events.push(...r.events);
    commands.push(r.commands);
    for (const next of r.commands) {
      if (next.type === 'Cancel') {
        const i = pending.findIndex((p) => p.type !== 'Cancel' && p.id === next.id);
        if (i >= 0) pending.splice(i, 1);
      } else pending.push(next);
    }
  }
  return { state, events, commands };
}

describe('persisted execution state', () => {
  it('survives JSON round trips between steps: same result as in memory, for random flows, inputs and answer orders', () => {
    fc.assert(
      fc.property(
        fc.array(shape, { minLength: 1, maxLength: 8 }),
        fc.record({ x: fc.integer({ min: -20, max: 20 }), items: fc.array(fc.integer({ min: -9, max: 9 }), { maxLength: 5 }) }),
        fc.array(fc.nat({ max: 50 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat({ max: 3 }).map((n) => n === 0), { minLength: 1, maxLength: 10 }), // a quarter of task calls fail
        (shapes, input, schedule, failures) => {
          const flow = loadFlowText(JSON.stringify(definition(shapes)), 'random.json', { mode: 'Standard' });
          const inMemory = drive(flow, input, schedule, failures, false);
          const persisted = drive(flow, input, schedule, failures, true);
          expect(persisted.state).toEqual(inMemory.state);
          expect(JSON.parse(JSON.stringify(persisted.state))).toEqual(inMemory.state);
          expect(persisted.events).toEqual(inMemory.events);
          expect(persisted.commands).toEqual(inMemory.commands);
          expect(inMemory.state.status).not.toBe('Running');
        },
      ),
      { numRuns: 150 },
    );
  });
});
