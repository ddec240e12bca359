import { describe, expect, it } from 'vitest';
import { HistoryLog } from '../../src/interpreter/history-log.js';
import { runExecution } from '../../src/interpreter/run.js';
import type { HistoryEvent } from '../../src/interpreter/types.js';
import { ManualClock, flushMicrotasks } from '../../src/shared/clock.js';
import { actions, flow } from './helpers.js';

// Pass states, a Task (detail), a Parallel (paths), a Wait (times that differ) and a failure caught.
const FLOW = flow(`
Type: StateMachine
Name: logged
SpecVersion: v1
StartAt: First
States:
  - Type: Pass
    Name: First
    Next: Both
  - Type: Parallel
    Name: Both
    Branches:
      - StartAt: Look
        States:
          - Type: Task
            Name: Look
            Action: Mock
            Parameters:
              n: 1
            End: true
      - StartAt: Nap
        States:
          - Type: Wait
            Name: Nap
            Seconds: 2
            End: true
    Next: Broken
  - Type: Fail
    Name: Broken
    Code: Bad.Thing
    Detail: on purpose
`);

async function run(options: { history: true } | { log: HistoryLog }): Promise<HistoryEvent[]> {
  const clock = new ManualClock();
  const running = runExecution(FLOW, { a: 1 }, { tasks: actions({ Mock: () => ({ ok: true }) }), clock, ...options });
  await flushMicrotasks();
  expect(clock.pendingCount).toBe(2); // the execution deadline and the Wait
  await clock.advance(2000);
  const r = await running;
  return r.events;
}

describe('HistoryLog', () => {
  it('gives back exactly the events the run loop returns as objects (ids, times, steps, paths, details)', async () => {
    const objects = await run({ history: true });
    const log = new HistoryLog();
    expect(await run({ log })).toEqual([]); // recorded in the log instead
    expect(objects.some((e) => e.path !== undefined)).toBe(true);
    expect(new Set(objects.map((e) => e.time)).size).toBeGreaterThan(1);
    expect(log.length).toBe(objects.length);
    expect(log.events()).toStrictEqual(objects);
    expect(log.events(3, 7)).toStrictEqual(objects.slice(3, 7));
    expect(log.events(objects.length - 2, objects.length + 5)).toStrictEqual(objects.slice(-2));
  });

  it('keeps ids that do not follow one another', () => {
    const log = new HistoryLog();
    log.push(4, 'ExecutionStarted', 10);
    log.push(5, 'StepEntered', 10, 'A');
    log.push(9, 'StepSucceeded', 10, 'A', [0, 1], { k: 'v' });
    expect(log.events()).toStrictEqual([
      { id: 4, type: 'ExecutionStarted', time: 10 },
      { id: 5, type: 'StepEntered', time: 10, step: 'A' },
      { id: 9, type: 'StepSucceeded', time: 10, step: 'A', path: [0, 1], detail: { k: 'v' } },
    ]);
  });

  it('runExecution refuses a log together with events or onEvent', async () => {
    await expect(runExecution(FLOW, {}, { tasks: actions({}), log: new HistoryLog(), events: [] })).rejects.toThrow(TypeError);
    await expect(runExecution(FLOW, {}, { tasks: actions({}), log: new HistoryLog(), onEvent: () => undefined })).rejects.toThrow(TypeError);
  });
});
