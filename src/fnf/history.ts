/**
 * History events as GetExecutionHistory shows them: flowrun's event types mapped onto the event
 * type names of the FnF API (an exhaustive table: a new event type fails to compile until mapped).
 */
import type { HistoryEvent } from '../interpreter/types.js';
import { API_EVENT_TYPE } from '../interpreter/api-events.js';

export { API_EVENT_TYPE, API_EVENT_TYPES } from '../interpreter/api-events.js';
export type { ApiEventType } from '../interpreter/api-events.js';
import type { JsonObject } from '../shared/json.js';
import type { HistoryEventView } from './types.js';

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
