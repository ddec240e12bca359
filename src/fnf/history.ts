/**
 * History events as GetExecutionHistory shows them: flowrun's event types mapped onto the event
 * type names of the FnF API (an exhaustive table: a new event type fails to compile until mapped).
 */
import type { HistoryEvent, HistoryEventType } from '../interpreter/types.js';
import type { JsonObject } from '../shared/json.js';
import type { HistoryEventView } from './types.js';

/** The event `Type` values GetExecutionHistory may return (cloudflow.md §4.2). */
export const API_EVENT_TYPES = [
  'StepEntered',
  'StepStarted',
  'StepSucceeded',
  'StepFailed',
  'StepExited',
  'BranchEntered',
  'BranchExited',
  'IterationEntered',
  'IterationExited',
  'TaskScheduled',
  'TaskStarted',
  'TaskSubmitted',
  'TaskSubmitFailed',
  'TaskSucceeded',
  'TaskFailed',
  'TaskTimedOut',
  'ExecutionStarted',
  'ExecutionStopped',
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionTimedOut',
] as const;

export type ApiEventType = (typeof API_EVENT_TYPES)[number];

/**
 * flowrun event type → API event type. Three flowrun events have no API counterpart; they are
 * shown as the nearest API type and keep their own name in `EventDetail.Event`:
 * StepRetrying → StepStarted (the step starts again), StepCaught → StepExited (the step hands
 * over to its Catch target), WaitStarted → StepStarted (a Wait state starts waiting).
 */
export const API_EVENT_TYPE: { readonly [T in HistoryEventType]: ApiEventType } = {
  ExecutionStarted: 'ExecutionStarted',
  ExecutionSucceeded: 'ExecutionSucceeded',
  ExecutionFailed: 'ExecutionFailed',
  ExecutionTimedOut: 'ExecutionTimedOut',
  ExecutionStopped: 'ExecutionStopped',
  StepEntered: 'StepEntered',
  StepSucceeded: 'StepSucceeded',
  StepFailed: 'StepFailed',
  StepRetrying: 'StepStarted',
  StepCaught: 'StepExited',
  BranchEntered: 'BranchEntered',
  BranchExited: 'BranchExited',
  IterationEntered: 'IterationEntered',
  IterationExited: 'IterationExited',
  TaskScheduled: 'TaskScheduled',
  TaskSucceeded: 'TaskSucceeded',
  TaskFailed: 'TaskFailed',
  TaskTimedOut: 'TaskTimedOut',
  WaitStarted: 'StepStarted',
};

const iso = (ms: number): string => new Date(ms).toISOString();

/** Maps `events` (in order) to API views; `from`/`to` select a slice (indexes) after linking. */
export function toEventViews(events: readonly HistoryEvent[], from = 0, to = events.length): HistoryEventView[] {
  // TaskSucceeded/Failed/TimedOut point at the TaskScheduled of the same step and frame path.
  const scheduled = new Map<string, number>();
  const out: HistoryEventView[] = [];
  for (let i = 0; i < Math.min(to, events.length); i++) {
    const e = events[i] as HistoryEvent;
    const key = `${e.step ?? ''}\u0000${e.path?.join('.') ?? ''}`;
    let scheduleId = 0;
    if (e.type === 'TaskScheduled') scheduled.set(key, e.id);
    else if (e.type === 'TaskSucceeded' || e.type === 'TaskFailed' || e.type === 'TaskTimedOut') scheduleId = scheduled.get(key) ?? 0;
    if (i < from) continue;
    const type = API_EVENT_TYPE[e.type];
    const detail: JsonObject = { ...(e.detail ?? {}) };
    if (type !== e.type) detail['Event'] = e.type;
    if (e.path && e.path.length > 0) detail['Path'] = [...e.path];
    out.push({ EventId: e.id, ScheduleEventId: scheduleId, StepName: e.step ?? '', Type: type, Time: iso(e.time), EventDetail: JSON.stringify(detail) });
  }
  return out;
}
